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
            // `totals` counts rows by their state: the events of batches in flight whose members
            // are not marked yet (migration 0006) are there as pending.
            let unmarked = try unmarkedBatches(in: &state)
            let unmarkedEvents = unmarked.reduce(0) { $0 + $1.eventCount }
            let unmarkedBytes = unmarked.reduce(0) { $0 + $1.eventBytes }
            let oldest = try firstPending(where: "state = 'pending'", [], columns: "enqueued_at", outside: unmarked, in: &state) { $0.int64(2) }
            let held = ["pending", "inflight", "dead"].reduce(0) { $0 + (totals[$1]?.bytes ?? 0) }
            return QueueStats(
                pending: (totals["pending"]?.events ?? 0) - unmarkedEvents,
                inflight: (totals["inflight"]?.events ?? 0) + unmarkedEvents,
                sent: totals["sent"]?.events ?? 0,
                dead: totals["dead"]?.events ?? 0,
                pendingBytes: (totals["pending"]?.bytes ?? 0) - unmarkedBytes,
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
        // The events of a batch in flight whose members are not marked yet (migration 0006) read
        // pending in their rows: `u` is that batch, and they are shown as its, in flight.
        var sql = """
            SELECT e.id, e.uuid, e.kind, e.user_id, CASE WHEN u.id IS NULL THEN e.state ELSE 'inflight' END AS shown_state,
                   e.attempts + (u.id IS NOT NULL), e.last_status, e.last_error, coalesce(e.batch_id, u.id),
                   c.url, c.revision, e.bytes, e.event_time, e.enqueued_at
            FROM events e JOIN contexts c ON c.id = e.context_id
            LEFT JOIN batches u ON e.state = 'pending' AND e.batch_id IS NULL
                AND u.state = 'inflight' AND u.members_marked = 0 AND e.id BETWEEN u.first_event_id AND u.last_event_id
            """
        var arguments: [SQLiteValue] = []
        if let filter {
            sql += " WHERE shown_state = ?"
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
            // Requeued events are pending without a batch: none may land in the range of a batch
            // whose members are not marked.
            try markAllMembers(in: &state)
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

    /// Deletes the events in `states` finished at or before `cutoff`, then the finished batches
    /// left with no events. Sent and dead events are found through their batches (every one
    /// has a batch in the same state, finished at the same time), which `batches_finished`
    /// indexes (migration 0006).
    private func deleteFinished(states: String, cutoff: Int64, in state: inout State) throws -> Int {
        let count = try deleteEvents(
            where: """
                id IN (SELECT e.id FROM batches b JOIN events e ON e.id BETWEEN b.first_event_id AND b.last_event_id AND e.batch_id = b.id
                       WHERE b.state IN (\(states)) AND b.finished_at <= ?1 AND e.state IN (\(states)) AND e.finished_at <= ?1)
                """,
            [.integer(cutoff)], in: &state
        )
        try state.connection.run(
            """
            DELETE FROM batches WHERE state IN ('sent', 'dead', 'split') AND finished_at <= ?
            AND NOT EXISTS (
                SELECT 1 FROM events WHERE events.id BETWEEN batches.first_event_id AND batches.last_event_id AND events.batch_id = batches.id
            )
            """,
            [.integer(cutoff)]
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
            let oldest = try oldestUnbatchedPending(in: &state)?.enqueuedAt
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
