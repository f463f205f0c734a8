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
        guard let batch = try batchRow(batchId, in: &state) else { throw QueueError.batchNotInFlight(batchId: batchId) }
        if batch.state == "sent" { return }
        guard batch.state == "inflight" || batch.state == "retry" else { throw QueueError.batchNotInFlight(batchId: batchId) }
        try state.connection.run(
            """
            UPDATE batches SET state = 'sent', last_status = ?, finished_at = ?, lease_owner = NULL, lease_expires_at = NULL,
            members_marked = 1 WHERE id = ?
            """,
            [.int(status), .integer(now), .integer(batchId)]
        )
        let members = batch.members
        let events = batch.membersMarked
            ? try moveEvents(
                where: members.filter + " AND state IN ('inflight', 'pending')", members.arguments,
                to: .sent, setting: "finished_at = ?", [.integer(now)], in: &state
            )
            // Written once, here: they were claimed by their range alone.
            : try moveEvents(
                where: members.filter, members.arguments,
                to: .sent, setting: "batch_id = ?, attempts = attempts + 1, finished_at = ?", [.integer(batchId), .integer(now)],
                known: (from: .pending, events: batch.eventCount, bytes: batch.eventBytes), in: &state
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
            let members = try requireOwnedInflight(batchId, markingMembers: true, in: &state).members
            try state.connection.run(
                """
                UPDATE batches SET state = 'retry', next_attempt_at = ?, last_status = ?, last_error = ?,
                lease_owner = NULL, lease_expires_at = NULL WHERE id = ?
                """,
                [.integer(notBeforeMillis), .optionalInt(status), .text(error), .integer(batchId)]
            )
            try moveEvents(
                where: members.filter, members.arguments,
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
            let members = try requireOwnedInflight(batchId, markingMembers: true, in: &state).members
            try state.connection.run(
                """
                UPDATE batches SET state = 'retry', attempts = max(attempts - 1, 0), next_attempt_at = ?,
                lease_owner = NULL, lease_expires_at = NULL WHERE id = ?
                """,
                [.integer(now), .integer(batchId)]
            )
            try moveEvents(
                where: members.filter + " AND state = 'inflight'", members.arguments,
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
            try requireOwnedInflight(batchId, markingMembers: false, in: &state)
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
            let members = try requireOwnedInflight(batchId, markingMembers: true, in: &state).members
            try state.connection.run(
                """
                UPDATE batches SET state = 'dead', last_status = ?, last_error = ?, finished_at = ?,
                lease_owner = NULL, lease_expires_at = NULL WHERE id = ?
                """,
                [.optionalInt(status), .text(reason), .integer(now), .integer(batchId)]
            )
            let events = try moveEvents(
                where: members.filter, members.arguments,
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
            let batch = try requireOwnedInflight(batchId, markingMembers: false, in: &state)
            let memberFilter = batch.members
            let members = try state.connection.query(
                "SELECT id, bytes FROM events WHERE \(memberFilter.filter) ORDER BY id", memberFilter.arguments
            ) { ($0.int64(0), $0.int(1)) }
            guard members.count >= 2 else { throw QueueError.cannotSplitSingleEvent(batchId: batchId) }
            try markMembers(of: batch, in: &state)
            let contextId = batch.contextId
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
                let range: [SQLiteValue] = [.integer(part[part.startIndex].0), .integer(part[part.endIndex - 1].0)]
                try state.connection.run(
                    """
                    INSERT INTO batches (context_id, state, event_count, bytes, attempts, created_at, next_attempt_at,
                                         first_event_id, last_event_id, event_bytes)
                    VALUES (?, 'retry', ?, ?, 0, ?, ?, ?, ?, ?)
                    """,
                    [.integer(contextId), .int(part.count), .int(bytes), .integer(now), .integer(now)] + range + [.int(part.reduce(0) { $0 + $1.1 })]
                )
                let newId = state.connection.lastInsertRowID
                try moveEvents(
                    where: "batch_id = ? AND id BETWEEN ? AND ?", [.integer(batchId)] + range,
                    to: .pending, setting: "batch_id = ?, next_attempt_at = ?, last_status = ?, last_error = ?",
                    [.integer(newId), .integer(now), .optionalInt(status), .optionalText(error)], in: &state
                )
                ids.append(newId)
            }
            try bump("splits", by: 1, in: &state)
            return (ids[0], ids[1])
        }
    }

    /// The batch `batchId`, which must be in flight under this queue's lease; with its members
    /// marked first when asked (see `EventQueue+Members.swift`).
    @discardableResult
    private func requireOwnedInflight(_ batchId: Int64, markingMembers: Bool, in state: inout State) throws -> BatchRow {
        guard let batch = try batchRow(batchId, in: &state), batch.state == "inflight", batch.leaseOwner == owner.text else {
            throw QueueError.batchNotInFlight(batchId: batchId)
        }
        guard markingMembers else { return batch }
        return try markMembers(of: batch, in: &state)
    }
}
