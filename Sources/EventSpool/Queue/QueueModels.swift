/// The state of a queued event (the `events.state` column).
public enum EventState: String, Sendable, Codable, CaseIterable {
    /// Waiting to be sent (possibly waiting for its batch's retry time).
    case pending
    /// In a batch that a worker is sending.
    case inflight
    /// Delivered: its batch got a 2xx response.
    case sent
    /// Dead-lettered: it will not be sent unless requeued.
    case dead
}

/// The limits that cut batches (spec §5).
package struct BatchLimits: Sendable, Equatable {
    /// The most events in one request (`batchSize`).
    package var maxEvents: Int
    /// The most bytes in one request body (`maxBatchBytes`).
    package var maxBytes: Int

    /// Creates limits; the defaults are the reference SDK's.
    package init(maxEvents: Int = 10, maxBytes: Int = 3_500_000) {
        self.maxEvents = maxEvents
        self.maxBytes = maxBytes
    }
}

/// A batch a worker has claimed: it is in flight under this worker's lease until an outcome
/// is recorded or the lease expires.
package struct ClaimedBatch: Sendable, Equatable {
    /// One member event of the batch, in enqueue order.
    package struct Member: Sendable, Equatable {
        /// The event's row id.
        package var id: Int64
        /// The event's uuid.
        package var uuid: String
        /// The stored visitor JSON.
        package var visitorJSON: String
    }

    /// The batch's row id.
    package var id: Int64
    /// The context shared by every member; the request header.
    package var context: EventContext
    /// The members, in enqueue order. The same for every attempt of this batch.
    package var members: [Member]
    /// How many times this batch has been claimed, this claim included.
    package var attempts: Int
    /// The request body size.
    package var bodyBytes: Int
    /// When the enqueue time of the oldest member was, in milliseconds.
    package var oldestEnqueuedAtMillis: Int64
    /// When the lease runs out, in milliseconds since the epoch.
    package var leaseExpiresAtMillis: Int64

    /// The stored visitor JSON of every member, in order: what the request body joins.
    package var visitors: [String] { members.map(\.visitorJSON) }
    /// The uuids of the members, in order.
    package var uuids: [String] { members.map(\.uuid) }
}

/// What happened to one event of a grouped append.
public enum AppendOutcome: Sendable, Equatable {
    /// Written, with its row id.
    case appended(id: Int64)
    /// An event with this uuid is already queued; nothing written.
    case duplicate
    /// The queue is at its bound (policy `rejectNew`, or nothing left to drop); nothing written.
    case rejectedFull
}

/// Counts and figures of a queue, from one read of its summary tables.
public struct QueueStats: Sendable, Equatable, Codable {
    /// Events waiting to be sent.
    public var pending: Int
    /// Events in a batch being sent.
    public var inflight: Int
    /// Events delivered and not yet pruned.
    public var sent: Int
    /// Dead letters.
    public var dead: Int
    /// Visitor bytes of the pending events.
    public var pendingBytes: Int
    /// Visitor bytes held against the bounds (pending, in flight and dead).
    public var heldBytes: Int
    /// The age of the oldest pending event in milliseconds, or `nil` when nothing is pending.
    public var oldestPendingAgeMillis: Int64?
    /// Batches that got a 2xx.
    public var batchesSent: Int
    /// Events delivered.
    public var eventsSent: Int
    /// Retries scheduled after a failed attempt.
    public var retries: Int
    /// Batches split after a 413 or a 400.
    public var splits: Int
    /// Events dead-lettered.
    public var deadLettered: Int
    /// Leases taken back from a crashed or stalled worker.
    public var leasesRecovered: Int
    /// Events dropped by the `dropOldest` overflow policy.
    public var droppedOldest: Int
    /// Events refused because the queue was full.
    public var rejectedFull: Int
    /// Sent events deleted by the retention setting.
    public var prunedSent: Int
    /// Events deleted by a purge.
    public var purged: Int
    /// Dead letters moved back to pending.
    public var requeued: Int

    enum CodingKeys: String, CodingKey {
        case pending, inflight, sent, dead
        case pendingBytes = "pending_bytes"
        case heldBytes = "held_bytes"
        case oldestPendingAgeMillis = "oldest_pending_age_ms"
        case batchesSent = "batches_sent"
        case eventsSent = "events_sent"
        case retries, splits
        case deadLettered = "dead_lettered"
        case leasesRecovered = "leases_recovered"
        case droppedOldest = "dropped_oldest"
        case rejectedFull = "rejected_full"
        case prunedSent = "pruned_sent"
        case purged, requeued
    }
}

/// One event as `list` shows it.
public struct QueuedEventInfo: Sendable, Equatable, Codable {
    /// The row id (enqueue order).
    public var id: Int64
    /// The event's uuid.
    public var uuid: String
    /// `impression` or `conversion`.
    public var kind: String
    /// The visitor id.
    public var userId: String
    /// The event's state.
    public var state: EventState
    /// How many times its batch was claimed.
    public var attempts: Int
    /// The HTTP status of the last failed attempt, if any.
    public var lastStatus: Int?
    /// Why the last attempt failed, or why it is dead.
    public var lastError: String?
    /// The batch it belongs to, if any.
    public var batchId: Int64?
    /// The endpoint its batch is addressed to.
    public var url: String
    /// The datafile revision of its context.
    public var revision: String
    /// The visitor JSON size.
    public var bytes: Int
    /// The event's own timestamp (milliseconds).
    public var timestampMillis: Int64
    /// When it was queued (milliseconds).
    public var enqueuedAtMillis: Int64

    enum CodingKeys: String, CodingKey {
        case id, uuid, kind
        case userId = "user_id"
        case state, attempts
        case lastStatus = "last_status"
        case lastError = "last_error"
        case batchId = "batch_id"
        case url, revision, bytes
        case timestampMillis = "timestamp"
        case enqueuedAtMillis = "enqueued_at"
    }

    /// Encodes every key, writing `null` for absent optionals, so scripts can rely on them.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(uuid, forKey: .uuid)
        try container.encode(kind, forKey: .kind)
        try container.encode(userId, forKey: .userId)
        try container.encode(state, forKey: .state)
        try container.encode(attempts, forKey: .attempts)
        try container.encode(lastStatus, forKey: .lastStatus)
        try container.encode(lastError, forKey: .lastError)
        try container.encode(batchId, forKey: .batchId)
        try container.encode(url, forKey: .url)
        try container.encode(revision, forKey: .revision)
        try container.encode(bytes, forKey: .bytes)
        try container.encode(timestampMillis, forKey: .timestampMillis)
        try container.encode(enqueuedAtMillis, forKey: .enqueuedAtMillis)
    }
}
