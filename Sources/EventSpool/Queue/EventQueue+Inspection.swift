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
            let oldest = try oldestPendingEnqueuedAt(in: &state)
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
    ///   - filter: only events in this state; all when `nil`.
    ///   - limit: at most this many; no limit when `nil`.
    public func list(state filter: EventState? = nil, limit: Int? = 100) throws(QueueError) -> [QueuedEventInfo] {
        // An event in a batch is in its batch's state (a batch waiting for its retry: pending).
        var sql = """
            SELECT e.id, e.uuid, e.kind, e.user_id,
                   CASE WHEN b.state IS NULL OR b.state = 'retry' THEN 'pending' ELSE b.state END AS event_state,
                   coalesce(b.attempts, 0), b.last_status, b.last_error, e.batch_id,
                   c.url, c.revision, e.bytes, e.event_time, e.enqueued_at
            FROM events e JOIN contexts c ON c.id = e.context_id LEFT JOIN batches b ON b.id = e.batch_id
            """
        var arguments: [SQLiteValue] = []
        if let filter {
            sql += " WHERE event_state = ?"
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

    /// Moves every dead letter back to pending, as new events for batching (attempts start
    /// again). They keep their place: oldest first. Their dead batches, left empty, are deleted.
    ///
    /// - Returns: how many events were requeued.
    @discardableResult
    public func requeueDeadLetters() throws(QueueError) -> Int {
        try write { state in
            let (events, bytes) = try state.connection.queryOne(
                "SELECT coalesce(sum(event_count), 0), coalesce(sum(event_bytes), 0) FROM batches WHERE state = 'dead'"
            ) { ($0.int(0), $0.int(1)) } ?? (0, 0)
            try state.connection.run("UPDATE events SET batch_id = NULL WHERE batch_id IN (SELECT id FROM batches WHERE state = 'dead')")
            try state.connection.run("DELETE FROM batches WHERE state = 'dead'")
            try count(events, bytes: bytes, from: .dead, to: .pending, in: &state)
            try bump("requeued", by: events, in: &state)
            return events
        }
    }

    /// Deletes sent and/or dead events, optionally only those finished at least
    /// `olderThanMillis` ago, with their batches.
    ///
    /// - Returns: how many events were deleted.
    @discardableResult
    public func purge(sent: Bool, dead: Bool, olderThanMillis: Int64? = nil) throws(QueueError) -> Int {
        let states = (sent ? [EventState.sent] : []) + (dead ? [.dead] : [])
        guard !states.isEmpty else { return 0 }
        let cutoff = clock.nowMillis() - (olderThanMillis ?? 0)
        return try write { state in
            var deleted = 0
            for finished in states { deleted += try deleteFinished(finished, cutoff: cutoff, in: &state) }
            try bump("purged", by: deleted, in: &state)
            return deleted
        }
    }

    /// Deletes sent events older than the configured retention (``QueueConfiguration/sentRetentionMillis``).
    ///
    /// - Returns: how many events were deleted.
    @discardableResult
    package func pruneSent() throws(QueueError) -> Int {
        let cutoff = clock.nowMillis() - configuration.sentRetentionMillis
        return try write { state in
            let count = try deleteFinished(.sent, cutoff: cutoff, in: &state)
            try bump("pruned_sent", by: count, in: &state)
            return count
        }
    }

    /// Deletes the batches in `finished` (sent or dead) finished at or before `cutoff`, with
    /// their events, and the split batches of that age (which keep no events).
    private func deleteFinished(_ finished: EventState, cutoff: Int64, in state: inout State) throws -> Int {
        let (events, bytes) = try state.connection.queryOne(
            "SELECT coalesce(sum(event_count), 0), coalesce(sum(event_bytes), 0) FROM batches WHERE state = ? AND finished_at <= ?",
            [.text(finished.rawValue), .integer(cutoff)]
        ) { ($0.int(0), $0.int(1)) } ?? (0, 0)
        let batches = "SELECT id FROM batches WHERE state = ?1 AND finished_at <= ?2"
        let arguments: [SQLiteValue] = [.text(finished.rawValue), .integer(cutoff)]
        try state.connection.run(
            "DELETE FROM event_bodies WHERE event_id IN (SELECT id FROM events WHERE batch_id IN (\(batches)))", arguments
        )
        try state.connection.run("DELETE FROM events WHERE batch_id IN (\(batches))", arguments)
        try state.connection.run("DELETE FROM batches WHERE (state = ?1 OR state = 'split') AND finished_at <= ?2", arguments)
        try count(events, bytes: bytes, from: finished, to: nil, in: &state)
        return events
    }

    /// The id of the newest event ever appended (0 for an empty queue): a mark that every event
    /// queued so far is at or below.
    package func lastEventId() throws(QueueError) -> Int64 {
        try read { state in try state.connection.queryOne("SELECT coalesce(max(id), 0) FROM events", [], { $0.int64(0) }) ?? 0 }
    }

    /// When the oldest pending event not yet in a batch was queued, and when the earliest
    /// waiting retry is due: what a worker needs to decide when to claim next.
    package func pendingSchedule() throws(QueueError) -> PendingSchedule {
        try read { state in try pendingSchedule(in: &state) }
    }

    func pendingSchedule(in state: inout State) throws -> PendingSchedule {
        let oldest = try state.connection.queryOne(
            "SELECT enqueued_at FROM events WHERE batch_id IS NULL ORDER BY id LIMIT 1", [], { $0.int64(0) }
        )
        let (retry, lease) = try state.connection.queryOne(
            """
            SELECT (SELECT min(next_attempt_at) FROM batches WHERE state = 'retry'),
                   (SELECT min(lease_expires_at) FROM batches WHERE state = 'inflight')
            """, [], { ($0.optionalInt64(0), $0.optionalInt64(1)) }
        ) ?? (nil, nil)
        return PendingSchedule(oldestUnbatchedEnqueuedAtMillis: oldest, nextRetryAtMillis: retry, nextLeaseExpiryMillis: lease)
    }

    /// When the oldest pending event was queued: the oldest not in a batch, or in a batch that
    /// waits for its retry.
    private func oldestPendingEnqueuedAt(in state: inout State) throws -> Int64? {
        try state.connection.queryOne(
            """
            SELECT min(enqueued_at) FROM (
                SELECT (SELECT enqueued_at FROM events WHERE batch_id IS NULL ORDER BY id LIMIT 1) AS enqueued_at
                UNION ALL
                SELECT min(e.enqueued_at) FROM batches b JOIN events e ON e.batch_id = b.id WHERE b.state = 'retry'
            )
            """, [], { $0.optionalInt64(0) }
        ) ?? nil
    }
}

/// What a worker needs to know to decide when to claim next.
package struct PendingSchedule: Sendable, Equatable {
    /// Creates a schedule.
    package init(oldestUnbatchedEnqueuedAtMillis: Int64? = nil, nextRetryAtMillis: Int64? = nil, nextLeaseExpiryMillis: Int64? = nil) {
        self.oldestUnbatchedEnqueuedAtMillis = oldestUnbatchedEnqueuedAtMillis
        self.nextRetryAtMillis = nextRetryAtMillis
        self.nextLeaseExpiryMillis = nextLeaseExpiryMillis
    }

    /// When the oldest pending event not yet in a batch was queued; `nil` when there is none.
    package var oldestUnbatchedEnqueuedAtMillis: Int64?
    /// When the earliest batch waiting for a retry is due; `nil` when there is none.
    package var nextRetryAtMillis: Int64?
    /// When the earliest lease of an in-flight batch runs out; `nil` when none is in flight.
    package var nextLeaseExpiryMillis: Int64?
}
