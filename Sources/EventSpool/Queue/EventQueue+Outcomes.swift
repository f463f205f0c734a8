extension EventQueue {
    /// Records a 2xx: the batch is `sent`, and so are its events, in the same transaction that
    /// records the status. A late 2xx for a batch whose lease was recovered still counts: the
    /// events were delivered.
    ///
    /// - Throws: ``QueueError/batchNotInFlight(batchId:)`` when the batch was split or
    ///   dead-lettered meanwhile. Recording `sent` twice is harmless.
    package func markSent(batchId: Int64, status: Int) throws(QueueError) {
        let now = clock.nowMillis()
        try write { state in try markSent(batchId: batchId, status: status, now: now, in: &state) }
    }

    private func markSent(batchId: Int64, status: Int, now: Int64, in state: inout State) throws {
        guard let batch = try batchRow(batchId, in: &state) else { throw QueueError.batchNotInFlight(batchId: batchId) }
        if batch.state == "sent" { return }
        guard batch.state == "inflight" || batch.state == "retry", let from = batch.eventState else {
            throw QueueError.batchNotInFlight(batchId: batchId)
        }
        try state.connection.run(
            """
            UPDATE batches SET state = 'sent', last_status = ?, finished_at = ?, lease_owner = NULL, lease_expires_at = NULL,
            next_attempt_at = NULL WHERE id = ?
            """,
            [.int(status), .integer(now), .integer(batchId)]
        )
        try count(batch.eventCount, bytes: batch.eventBytes, from: from, to: .sent, in: &state)
        try bump("batches_sent", by: 1, in: &state)
        try bump("events_sent", by: batch.eventCount, in: &state)
    }

    /// Records a retryable failure: the batch keeps its events and waits until
    /// `notBeforeMillis`.
    ///
    /// - Throws: ``QueueError/batchNotInFlight(batchId:)`` unless the batch is in flight under
    ///   this queue's lease.
    package func scheduleRetry(batchId: Int64, notBeforeMillis: Int64, status: Int?, error: String) throws(QueueError) {
        try write { state in try scheduleRetry(batchId: batchId, notBeforeMillis: notBeforeMillis, status: status, error: error, in: &state) }
    }

    private func scheduleRetry(batchId: Int64, notBeforeMillis: Int64, status: Int?, error: String, in state: inout State) throws {
        let batch = try requireOwnedInflight(batchId, in: &state)
        try state.connection.run(
            """
            UPDATE batches SET state = 'retry', next_attempt_at = ?, last_status = ?, last_error = ?,
            lease_owner = NULL, lease_expires_at = NULL WHERE id = ?
            """,
            [.integer(notBeforeMillis), .optionalInt(status), .text(error), .integer(batchId)]
        )
        try count(batch.eventCount, bytes: batch.eventBytes, from: .inflight, to: .pending, in: &state)
        try bump("retries", by: 1, in: &state)
    }

    /// Extends the lease of a batch this queue has in flight to `leaseMillis` from now. A
    /// worker renews each batch's lease while its request is out, so that no other worker takes
    /// a batch whose request may still be answered (spec §7).
    ///
    /// - Returns: the new expiry time.
    /// - Throws: ``QueueError/batchNotInFlight(batchId:)`` unless the batch is still in flight
    ///   under this queue's lease (another worker may have recovered it after it expired).
    @discardableResult
    package func renewLease(batchId: Int64, leaseMillis: Int64 = EventQueue.defaultLeaseMillis) throws(QueueError) -> Int64 {
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
    package func deadLetter(batchId: Int64, status: Int?, reason: String) throws(QueueError) {
        let now = clock.nowMillis()
        try write { state in try deadLetter(batchId: batchId, status: status, reason: reason, now: now, in: &state) }
    }

    private func deadLetter(batchId: Int64, status: Int?, reason: String, now: Int64, in state: inout State) throws {
        let batch = try requireOwnedInflight(batchId, in: &state)
        try state.connection.run(
            """
            UPDATE batches SET state = 'dead', last_status = ?, last_error = ?, finished_at = ?,
            lease_owner = NULL, lease_expires_at = NULL WHERE id = ?
            """,
            [.optionalInt(status), .text(reason), .integer(now), .integer(batchId)]
        )
        try count(batch.eventCount, bytes: batch.eventBytes, from: .inflight, to: .dead, in: &state)
        try bump("dead_lettered", by: batch.eventCount, in: &state)
    }

    /// Replaces an in-flight batch by two batches of its first and second half (spec §6: after a
    /// 413, or a 400 for several events). Both are due at once, first half first; the events
    /// point at their half from then on.
    ///
    /// - Returns: the ids of the two new batches.
    /// - Throws: ``QueueError/cannotSplitSingleEvent(batchId:)`` for a batch of one event.
    @discardableResult
    package func split(batchId: Int64, status: Int? = nil, error: String? = nil) throws(QueueError) -> (Int64, Int64) {
        let now = clock.nowMillis()
        return try write { state in try split(batchId: batchId, status: status, error: error, now: now, in: &state) }
    }

    @discardableResult
    private func split(batchId: Int64, status: Int?, error: String?, now: Int64, in state: inout State) throws -> (Int64, Int64) {
        let batch = try requireOwnedInflight(batchId, in: &state)
        let members = try state.connection.query(
            "SELECT id, bytes FROM events WHERE batch_id = ? ORDER BY id", [.integer(batchId)]
        ) { (id: $0.int64(0), bytes: $0.int(1)) }
        guard members.count >= 2 else { throw QueueError.cannotSplitSingleEvent(batchId: batchId) }
        let context = try context(id: batch.contextId, in: &state)
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
            let eventBytes = part.reduce(0) { $0 + $1.bytes }
            let bodyBytes = LogEvent.bodyByteCount(context: context, visitorByteCounts: part.map(\.bytes))
            try state.connection.run(
                """
                INSERT INTO batches (context_id, state, event_count, event_bytes, body_bytes, attempts, created_at, next_attempt_at,
                                     last_status, last_error)
                VALUES (?, 'retry', ?, ?, ?, 0, ?, ?, ?, ?)
                """,
                [
                    .integer(batch.contextId), .int(part.count), .int(eventBytes), .int(bodyBytes), .integer(now), .integer(now),
                    .optionalInt(status), .optionalText(error),
                ]
            )
            let newId = state.connection.lastInsertRowID
            try state.connection.run(
                "UPDATE events SET batch_id = ? WHERE batch_id = ? AND id BETWEEN ? AND ?",
                [.integer(newId), .integer(batchId), .integer(part[part.startIndex].id), .integer(part[part.endIndex - 1].id)]
            )
            ids.append(newId)
        }
        try count(batch.eventCount, bytes: batch.eventBytes, from: .inflight, to: .pending, in: &state)
        try bump("splits", by: 1, in: &state)
        return (ids[0], ids[1])
    }

    /// What a worker records for a batch whose request ended.
    enum Outcome: Equatable, Sendable {
        case sent(status: Int)
        case retry(atMillis: Int64, status: Int?, reason: String)
        case split(status: Int?, reason: String?)
        case deadLetter(status: Int?, reason: String)
    }

    /// Records `outcome` for the batch and then, in the same transaction, claims as
    /// ``claim(limits:rule:leaseMillis:)`` does when `thenClaim` is given: one commit where a
    /// worker whose request slot has just freed would otherwise make two.
    ///
    /// - Throws: as the outcome's own call (``markSent(batchId:status:)`` and the others); then
    ///   nothing is recorded or claimed.
    func record(
        _ outcome: Outcome, batchId: Int64, thenClaim: (limits: BatchLimits, rule: ClaimRule, leaseMillis: Int64)?
    ) throws(QueueError) -> ClaimResult? {
        let now = clock.nowMillis()
        return try write { state in
            switch outcome {
            case .sent(let status):
                try markSent(batchId: batchId, status: status, now: now, in: &state)
            case .retry(let at, let status, let reason):
                try scheduleRetry(batchId: batchId, notBeforeMillis: at, status: status, error: reason, in: &state)
            case .split(let status, let reason):
                try split(batchId: batchId, status: status, error: reason, now: now, in: &state)
            case .deadLetter(let status, let reason):
                try deadLetter(batchId: batchId, status: status, reason: reason, now: now, in: &state)
            }
            guard let thenClaim else { return nil }
            return try claim(limits: thenClaim.limits, rule: thenClaim.rule, leaseMillis: thenClaim.leaseMillis, now: now, in: &state)
        }
    }

    /// The batch `batchId`, which must be in flight under this queue's lease.
    @discardableResult
    private func requireOwnedInflight(_ batchId: Int64, in state: inout State) throws -> BatchRow {
    guard let batch = try batchRow(batchId, in: &state), batch.state == "inflight", batch.leaseOwner == owner.text else {
        throw QueueError.batchNotInFlight(batchId: batchId)
    }
    return batch
    }
}
