extension EventQueue {
    /// Records a 2xx: the batch and its events are `sent`, in the same transaction that records
    /// the status. A late 2xx for a batch whose lease was recovered still counts: the events
    /// were delivered.
    ///
    /// - Throws: ``QueueError/batchNotInFlight(batchId:)`` when the batch was split or
    ///   dead-lettered meanwhile. Recording `sent` twice is harmless.
    public func markSent(batchId: Int64, status: Int) throws(QueueError) {
        let now = clock.nowMillis()
        try write { state in try markSent(batchId: batchId, status: status, now: now, in: &state) }
    }

    /// Records a 2xx as ``markSent(batchId:status:)`` does and, in the same transaction, claims
    /// the next closed batch as ``claimNextBatch(limits:includeOpenBatch:openBatchQueuedBeforeMillis:leaseMillis:)``
    /// does with `includeOpenBatch: false`: one commit where a worker that keeps a batch ready
    /// during each request would otherwise make two.
    ///
    /// - Returns: the claimed batch, or `nil` when no closed batch is due.
    /// - Throws: as `markSent`; nothing is recorded then.
    public func markSent(
        batchId: Int64, status: Int, claimingNextClosedBatch limits: BatchLimits, leaseMillis: Int64 = EventQueue.defaultLeaseMillis
    ) throws(QueueError) -> ClaimedBatch? {
        let now = clock.nowMillis()
        return try write { state in
            try markSent(batchId: batchId, status: status, now: now, in: &state)
            return try claimNextBatch(
                limits: limits, includeOpenBatch: false, openBatchQueuedBeforeMillis: nil, leaseMillis: leaseMillis, now: now, in: &state
            )
        }
    }

    private func markSent(batchId: Int64, status: Int, now: Int64, in state: inout State) throws {
        let batchState = try batchState(batchId, in: &state)
        if batchState == "sent" { return }
        guard batchState == "inflight" || batchState == "retry" else { throw QueueError.batchNotInFlight(batchId: batchId) }
        try state.connection.run(
            """
            UPDATE batches SET state = 'sent', last_status = ?, finished_at = ?, lease_owner = NULL, lease_expires_at = NULL
            WHERE id = ?
            """,
            [.int(status), .integer(now), .integer(batchId)]
        )
        let events = try moveEvents(
            where: "batch_id = ? AND state IN ('inflight', 'pending')", [.integer(batchId)],
            to: .sent, setting: "finished_at = ?", [.integer(now)], in: &state
        )
        try bump("batches_sent", by: 1, in: &state)
        try bump("events_sent", by: events, in: &state)
    }

    /// Records a retryable failure: the batch keeps its members and waits until
    /// `notBeforeMillis`; its events go back to `pending` with that next attempt time.
    ///
    /// - Throws: ``QueueError/batchNotInFlight(batchId:)`` unless the batch is in flight under
    ///   this queue's lease.
    public func scheduleRetry(batchId: Int64, notBeforeMillis: Int64, status: Int?, error: String) throws(QueueError) {
        try write { state in
            try requireOwnedInflight(batchId, in: &state)
            try state.connection.run(
                """
                UPDATE batches SET state = 'retry', next_attempt_at = ?, last_status = ?, last_error = ?,
                lease_owner = NULL, lease_expires_at = NULL WHERE id = ?
                """,
                [.integer(notBeforeMillis), .optionalInt(status), .text(error), .integer(batchId)]
            )
            try moveEvents(
                where: "batch_id = ?", [.integer(batchId)],
                to: .pending, setting: "next_attempt_at = ?, last_status = ?, last_error = ?",
                [.integer(notBeforeMillis), .optionalInt(status), .text(error)], in: &state
            )
            try bump("retries", by: 1, in: &state)
        }
    }

    /// Gives back a batch that was claimed but never dispatched: it is due again at once, with
    /// the same members, and the claim is not counted as an attempt. A worker that claimed the
    /// next batch while a request was in flight uses this when it cannot send it after all
    /// (the request failed and its events keep their place, or the processor stopped).
    ///
    /// - Throws: ``QueueError/batchNotInFlight(batchId:)`` unless the batch is in flight under
    ///   this queue's lease.
    public func releaseClaim(batchId: Int64) throws(QueueError) {
        let now = clock.nowMillis()
        try write { state in
            try requireOwnedInflight(batchId, in: &state)
            try state.connection.run(
                """
                UPDATE batches SET state = 'retry', attempts = max(attempts - 1, 0), next_attempt_at = ?,
                lease_owner = NULL, lease_expires_at = NULL WHERE id = ?
                """,
                [.integer(now), .integer(batchId)]
            )
            try moveEvents(
                where: "batch_id = ? AND state = 'inflight'", [.integer(batchId)],
                to: .pending, setting: "attempts = max(attempts - 1, 0), next_attempt_at = ?", [.integer(now)], in: &state
            )
        }
    }

    /// Extends the lease of a batch this queue has in flight to `leaseMillis` from now.
    ///
    /// - Returns: the new expiry time.
    /// - Throws: ``QueueError/batchNotInFlight(batchId:)`` unless the batch is still in flight
    ///   under this queue's lease (another worker may have recovered it after it expired).
    @discardableResult
    public func renewLease(batchId: Int64, leaseMillis: Int64 = EventQueue.defaultLeaseMillis) throws(QueueError) -> Int64 {
        let expires = clock.nowMillis() + leaseMillis
        try write { state in
            try requireOwnedInflight(batchId, in: &state)
            try state.connection.run("UPDATE batches SET lease_expires_at = ? WHERE id = ?", [.integer(expires), .integer(batchId)])
        }
        return expires
    }

    /// Moves the batch's events to the dead letters with the status and reason.
    ///
    /// - Throws: ``QueueError/batchNotInFlight(batchId:)`` unless the batch is in flight under
    ///   this queue's lease.
    public func deadLetter(batchId: Int64, status: Int?, reason: String) throws(QueueError) {
        let now = clock.nowMillis()
        try write { state in
            try requireOwnedInflight(batchId, in: &state)
            try state.connection.run(
                """
                UPDATE batches SET state = 'dead', last_status = ?, last_error = ?, finished_at = ?,
                lease_owner = NULL, lease_expires_at = NULL WHERE id = ?
                """,
                [.optionalInt(status), .text(reason), .integer(now), .integer(batchId)]
            )
            let events = try moveEvents(
                where: "batch_id = ?", [.integer(batchId)],
                to: .dead, setting: "last_status = ?, last_error = ?, finished_at = ?",
                [.optionalInt(status), .text(reason), .integer(now)], in: &state
            )
            try bump("dead_lettered", by: events, in: &state)
        }
    }

    /// Replaces an in-flight batch by two batches of its first and second half (spec §6: after a
    /// 413, or a 400 for several events). Both are due at once, first half first.
    ///
    /// - Returns: the ids of the two new batches.
    /// - Throws: ``QueueError/cannotSplitSingleEvent(batchId:)`` for a batch of one event.
    @discardableResult
    public func split(batchId: Int64, status: Int? = nil, error: String? = nil) throws(QueueError) -> (Int64, Int64) {
        let now = clock.nowMillis()
        return try write { state in
            try requireOwnedInflight(batchId, in: &state)
            let members = try state.connection.query(
                "SELECT id, bytes FROM events WHERE batch_id = ? ORDER BY id", [.integer(batchId)]
            ) { ($0.int64(0), $0.int(1)) }
            guard members.count >= 2 else { throw QueueError.cannotSplitSingleEvent(batchId: batchId) }
            let contextId = try state.connection.queryOne(
                "SELECT context_id FROM batches WHERE id = ?", [.integer(batchId)], { $0.int64(0) }
            ) ?? 0
            let context = try context(id: contextId, in: &state)
            try state.connection.run(
                """
                UPDATE batches SET state = 'split', last_status = ?, last_error = ?, finished_at = ?,
                lease_owner = NULL, lease_expires_at = NULL WHERE id = ?
                """,
                [.optionalInt(status), .optionalText(error), .integer(now), .integer(batchId)]
            )
            let half = (members.count + 1) / 2
            var ids: [Int64] = []
            for part in [members[..<half], members[half...]] {
                let bytes = LogEvent.bodyByteCount(context: context, visitorByteCounts: part.map(\.1))
                try state.connection.run(
                    """
                    INSERT INTO batches (context_id, state, event_count, bytes, attempts, created_at, next_attempt_at)
                    VALUES (?, 'retry', ?, ?, 0, ?, ?)
                    """,
                    [.integer(contextId), .int(part.count), .int(bytes), .integer(now), .integer(now)]
                )
                let newId = state.connection.lastInsertRowID
                try moveEvents(
                    where: "batch_id = ? AND id BETWEEN ? AND ?",
                    [.integer(batchId), .integer(part[part.startIndex].0), .integer(part[part.endIndex - 1].0)],
                    to: .pending, setting: "batch_id = ?, next_attempt_at = ?, last_status = ?, last_error = ?",
                    [.integer(newId), .integer(now), .optionalInt(status), .optionalText(error)], in: &state
                )
                ids.append(newId)
            }
            try bump("splits", by: 1, in: &state)
            return (ids[0], ids[1])
        }
    }

    private func batchState(_ batchId: Int64, in state: inout State) throws -> String {
        guard let value = try state.connection.queryOne(
            "SELECT state FROM batches WHERE id = ?", [.integer(batchId)], { $0.text(0) }
        ) else { throw QueueError.batchNotInFlight(batchId: batchId) }
        return value
    }

    private func requireOwnedInflight(_ batchId: Int64, in state: inout State) throws {
        let row = try state.connection.queryOne(
            "SELECT state, lease_owner FROM batches WHERE id = ?", [.integer(batchId)], { ($0.text(0), $0.optionalText(1)) }
        )
        guard let row, row.0 == "inflight", row.1 == owner.text else { throw QueueError.batchNotInFlight(batchId: batchId) }
    }
}
