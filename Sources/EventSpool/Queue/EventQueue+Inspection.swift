extension EventQueue {
    /// Counts by state, bytes, the oldest pending event's age, and the lifetime counters.
    public func stats() throws(QueueError) -> QueueStats {
        let now = clock.nowMillis()
        return try read { state in
            var totals: [String: (events: Int, bytes: Int)] = [:]
            for row in try state.connection.query("SELECT state, events, bytes FROM totals", [], { ($0.text(0), $0.int(1), $0.int(2)) }) {
                totals[row.0] = (row.1, row.2)
            }
            var counters: [String: Int] = [:]
            for row in try state.connection.query("SELECT name, value FROM counters", [], { ($0.text(0), $0.int(1)) }) {
                counters[row.0] = row.1
            }
            let oldest = try state.connection.queryOne(
                "SELECT enqueued_at FROM events WHERE state = 'pending' ORDER BY id LIMIT 1", [], { $0.int64(0) }
            )
            let held = ["pending", "inflight", "dead"].reduce(0) { $0 + (totals[$1]?.bytes ?? 0) }
            return QueueStats(
                pending: totals["pending"]?.events ?? 0,
                inflight: totals["inflight"]?.events ?? 0,
                sent: totals["sent"]?.events ?? 0,
                dead: totals["dead"]?.events ?? 0,
                pendingBytes: totals["pending"]?.bytes ?? 0,
                heldBytes: held,
                oldestPendingAgeMillis: oldest.map { max(0, now - $0) },
                batchesSent: counters["batches_sent"] ?? 0,
                eventsSent: counters["events_sent"] ?? 0,
                retries: counters["retries"] ?? 0,
                splits: counters["splits"] ?? 0,
                deadLettered: counters["dead_lettered"] ?? 0,
                leasesRecovered: counters["leases_recovered"] ?? 0,
                droppedOldest: counters["dropped_oldest"] ?? 0,
                rejectedFull: counters["rejected_full"] ?? 0,
                prunedSent: counters["pruned_sent"] ?? 0,
                purged: counters["purged"] ?? 0,
                requeued: counters["requeued"] ?? 0
            )
        }
    }

    /// Events oldest first, in every state or in one.
    ///
    /// - Parameters:
    ///   - state: only events in this state; all when `nil`.
    ///   - limit: at most this many; no limit when `nil`.
    public func list(state filter: EventState? = nil, limit: Int? = 100) throws(QueueError) -> [QueuedEventInfo] {
        var sql = """
            SELECT e.id, e.uuid, e.kind, e.user_id, e.state, e.attempts, e.last_status, e.last_error, e.batch_id,
                   c.url, c.revision, e.bytes, e.event_time, e.enqueued_at
            FROM events e JOIN contexts c ON c.id = e.context_id
            """
        var arguments: [SQLiteValue] = []
        if let filter {
            sql += " WHERE e.state = ?"
            arguments.append(.text(filter.rawValue))
        }
        sql += " ORDER BY e.id LIMIT ?"
        arguments.append(.int(limit ?? -1))
        return try read { state in
            try state.connection.query(sql, arguments) { row in
                QueuedEventInfo(
                    id: row.int64(0), uuid: row.text(1), kind: row.text(2), userId: row.text(3),
                    state: EventState(rawValue: row.text(4)) ?? .pending, attempts: row.int(5),
                    lastStatus: row.optionalInt(6), lastError: row.optionalText(7), batchId: row.optionalInt64(8),
                    url: row.text(9), revision: row.text(10), bytes: row.int(11),
                    timestampMillis: row.int64(12), enqueuedAtMillis: row.int64(13)
                )
            }
        }
    }

    /// Moves every dead letter back to pending, as new events for batching (attempts reset, the
    /// last error kept for the record). They keep their place: oldest first.
    ///
    /// - Returns: how many events were requeued.
    @discardableResult
    public func requeueDeadLetters() throws(QueueError) -> Int {
        try write { state in
            let count = try moveEvents(
                where: "state = 'dead'", [],
                to: .pending, setting: "batch_id = NULL, attempts = 0, next_attempt_at = 0, finished_at = NULL", in: &state
            )
            try bump("requeued", by: count, in: &state)
            return count
        }
    }

    /// Deletes sent and/or dead events, optionally only those finished at least
    /// `olderThanMillis` ago, and the batches left with no events.
    ///
    /// - Returns: how many events were deleted.
    @discardableResult
    public func purge(sent: Bool, dead: Bool, olderThanMillis: Int64? = nil) throws(QueueError) -> Int {
        let states = (sent ? ["'sent'"] : []) + (dead ? ["'dead'"] : [])
        guard !states.isEmpty else { return 0 }
        let cutoff = clock.nowMillis() - (olderThanMillis ?? 0)
        return try write { state in
            let count = try deleteFinished(states: states.joined(separator: ", "), cutoff: cutoff, in: &state)
            try bump("purged", by: count, in: &state)
            return count
        }
    }

    /// Deletes sent events older than the configured retention (``QueueConfiguration/sentRetentionMillis``).
    ///
    /// - Returns: how many events were deleted.
    @discardableResult
    public func pruneSent() throws(QueueError) -> Int {
        let cutoff = clock.nowMillis() - configuration.sentRetentionMillis
        return try write { state in
            let count = try deleteFinished(states: "'sent'", cutoff: cutoff, in: &state)
            try bump("pruned_sent", by: count, in: &state)
            return count
        }
    }

    private func deleteFinished(states: String, cutoff: Int64, in state: inout State) throws -> Int {
        let count = try deleteEvents(where: "state IN (\(states)) AND finished_at <= ?", [.integer(cutoff)], in: &state)
        try state.connection.run(
            """
            DELETE FROM batches WHERE state IN ('sent', 'dead', 'split')
            AND NOT EXISTS (SELECT 1 FROM events WHERE events.batch_id = batches.id)
            """
        )
        return count
    }

    /// The id of the newest event ever appended (0 for an empty queue): a mark that every event
    /// queued so far is at or below.
    public func lastEventId() throws(QueueError) -> Int64 {
        try read { state in try state.connection.queryOne("SELECT coalesce(max(id), 0) FROM events", [], { $0.int64(0) }) ?? 0 }
    }

    /// When the oldest pending event not yet in a batch was queued, and when the earliest
    /// waiting retry is due: what a worker needs to decide when to claim next.
    public func pendingSchedule() throws(QueueError) -> PendingSchedule {
        try read { state in
            let oldest = try state.connection.queryOne(
                "SELECT enqueued_at FROM events WHERE state = 'pending' AND batch_id IS NULL ORDER BY id LIMIT 1", [], { $0.int64(0) }
            )
            let retry = try state.connection.queryOne(
                "SELECT min(next_attempt_at) FROM batches WHERE state = 'retry'", [], { $0.optionalInt64(0) }
            ) ?? nil
            let lease = try state.connection.queryOne(
                "SELECT min(lease_expires_at) FROM batches WHERE state = 'inflight'", [], { $0.optionalInt64(0) }
            ) ?? nil
            return PendingSchedule(oldestUnbatchedEnqueuedAtMillis: oldest, nextRetryAtMillis: retry, nextLeaseExpiryMillis: lease)
        }
    }
}

/// What a worker needs to know to decide when to claim next.
public struct PendingSchedule: Sendable, Equatable {
    /// Creates a schedule.
    public init(oldestUnbatchedEnqueuedAtMillis: Int64? = nil, nextRetryAtMillis: Int64? = nil, nextLeaseExpiryMillis: Int64? = nil) {
        self.oldestUnbatchedEnqueuedAtMillis = oldestUnbatchedEnqueuedAtMillis
        self.nextRetryAtMillis = nextRetryAtMillis
        self.nextLeaseExpiryMillis = nextLeaseExpiryMillis
    }

    /// When the oldest pending event not yet in a batch was queued; `nil` when there is none.
    public var oldestUnbatchedEnqueuedAtMillis: Int64?
    /// When the earliest batch waiting for a retry is due; `nil` when there is none.
    public var nextRetryAtMillis: Int64?
    /// When the earliest lease of an in-flight batch runs out; `nil` when none is in flight.
    public var nextLeaseExpiryMillis: Int64?
}
