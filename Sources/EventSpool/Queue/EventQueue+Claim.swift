extension EventQueue {
    /// How long a claim's lease lasts unless told otherwise: the default request timeout (10 s)
    /// plus a margin. Seconds, not minutes, so a stalled worker's batch is soon retried.
    public static let defaultLeaseMillis: Int64 = 15_000

    /// Claims the next batch to send and marks it in flight under this queue's lease.
    ///
    /// Spec §5: the oldest pending event whose next attempt time has come decides. If it
    /// belongs to a batch waiting for a retry, that batch is claimed again whole (same events,
    /// same order, so the same bytes). Otherwise a new batch is cut from the pending events not
    /// yet in a batch: consecutive, one context, at most `limits.maxEvents` events and
    /// `limits.maxBytes` bytes of request body.
    ///
    /// Expired leases, and leases of processes on this host that have exited, are recovered
    /// first (spec §7).
    ///
    /// - Parameters:
    ///   - includeOpenBatch: when `false`, a new batch is claimed only if it is closed (full,
    ///     at the byte limit, or followed by another context) or old enough (see the next
    ///     parameter); an open batch waits for more events or for `flushInterval`. Pass `true`
    ///     to flush.
    ///   - openBatchQueuedBeforeMillis: an open batch whose oldest event was queued at or before
    ///     this time is due (its oldest event has waited `flushInterval`).
    ///   - leaseMillis: how long the claim is this worker's before another may take it.
    /// - Returns: the claimed batch, or `nil` when nothing is due.
    public func claimNextBatch(
        limits: BatchLimits,
        includeOpenBatch: Bool,
        openBatchQueuedBeforeMillis: Int64? = nil,
        leaseMillis: Int64 = EventQueue.defaultLeaseMillis
    ) throws(QueueError) -> ClaimedBatch? {
        let now = clock.nowMillis()
        return try write { state in
            try claimNextBatch(
                limits: limits, includeOpenBatch: includeOpenBatch, openBatchQueuedBeforeMillis: openBatchQueuedBeforeMillis,
                leaseMillis: leaseMillis, now: now, in: &state
            )
        }
    }

    /// ``claimNextBatch(limits:includeOpenBatch:openBatchQueuedBeforeMillis:leaseMillis:)``
    /// inside the caller's write transaction.
    func claimNextBatch(
        limits: BatchLimits, includeOpenBatch: Bool, openBatchQueuedBeforeMillis: Int64?, leaseMillis: Int64,
        now: Int64, in state: inout State
    ) throws -> ClaimedBatch? {
        // The events of batches claimed but not yet marked still read pending: skip them.
        let unmarked = try recoverLeases(now: now, in: &state).inFlight.filter { !$0.membersMarked }
        guard let first = try firstPending(
            where: "state = 'pending' AND next_attempt_at <= ?", [.integer(now)], columns: "enqueued_at", outside: unmarked, in: &state,
            { (id: $0.int64(0), batchId: $0.optionalInt64(1), enqueuedAt: $0.int64(2)) }
        ) else { return nil }

        let leaseExpires = now + leaseMillis
        if let batchId = first.batchId {
            return try reclaim(batchId: batchId, now: now, leaseExpires: leaseExpires, in: &state)
        }

        var candidateIds: [Int64] = []
        var candidates = try state.connection.query(
            """
            SELECT id, context_id, bytes FROM events
            WHERE state = 'pending' AND batch_id IS NULL AND id >= ? ORDER BY id LIMIT ?
            """,
            [.integer(first.id), .int(limits.maxEvents + 1)]
        ) { row in
            candidateIds.append(row.int64(0))
            return BatchCut.Candidate(contextId: row.int64(1), bytes: row.int(2))
        }
        // A batch stops where an unmarked batch's range begins, so that ranges never overlap
        // (only after a requeue can older events come before a batch in flight). It cannot grow
        // past it: it is closed.
        var stopsAtBatchInFlight = false
        if !unmarked.isEmpty, let stop = candidateIds.firstIndex(where: { id in unmarked.contains { $0.spans(id) } }) {
            candidates.removeSubrange(stop...)
            candidateIds.removeSubrange(stop...)
            stopsAtBatchInFlight = true
        }
        guard let firstCandidate = candidates.first else { return nil }
        let context = try context(id: firstCandidate.contextId, in: &state)
        guard let cut = BatchCut.cut(
            candidates,
            envelopeBytes: LogEvent.overheadByteCount(for: context),
            separatorBytes: LogEvent.visitorSeparator.utf8.count,
            maxEvents: limits.maxEvents,
            maxBytes: limits.maxBytes
        ) else { return nil }
        let closed = cut.isClosed || (stopsAtBatchInFlight && cut.count == candidates.count)
        guard closed || includeOpenBatch || first.enqueuedAt <= (openBatchQueuedBeforeMillis ?? .min) else { return nil }

        // Only the batch row is written: its members are the first `count` pending events
        // without a batch from `first`, which are exactly those of its id range (migration 0006).
        // They are written once, with the outcome.
        let lastId = candidateIds[cut.count - 1]
        let eventBytes = candidates.prefix(cut.count).reduce(0) { $0 + $1.bytes }
        try state.connection.run(
            """
            INSERT INTO batches (context_id, state, event_count, bytes, attempts, created_at, lease_owner, lease_expires_at,
                                 first_event_id, last_event_id, event_bytes, members_marked)
            VALUES (?, 'inflight', ?, ?, 1, ?, ?, ?, ?, ?, ?, 0)
            """,
            [
                .integer(firstCandidate.contextId), .int(cut.count), .int(cut.bodyBytes), .integer(now), .text(owner.text), .integer(leaseExpires),
                .integer(first.id), .integer(lastId), .int(eventBytes),
            ]
        )
        let batchId = state.connection.lastInsertRowID
        return try claimedBatch(
            id: batchId, members: BatchRow.unmarkedMembers, [.integer(first.id), .integer(lastId)], context: context, attempts: 1,
            bodyBytes: cut.bodyBytes, leaseExpires: leaseExpires, in: &state
        )
    }

    /// Claims a batch that waits for its retry, with its members as they were.
    private func reclaim(batchId: Int64, now: Int64, leaseExpires: Int64, in state: inout State) throws -> ClaimedBatch? {
        guard let batch = try batchRow(batchId, in: &state), batch.state == "retry" else {
            // Not a batch waiting for a retry (a file edited by hand, say): let its events be
            // batched afresh rather than stay stuck. (A scan: this never happens otherwise.)
            try markAllMembers(in: &state)
            try state.connection.run("UPDATE events SET batch_id = NULL WHERE batch_id = ? AND state = 'pending'", [.integer(batchId)])
            return nil
        }
        try state.connection.run(
            "UPDATE batches SET state = 'inflight', attempts = attempts + 1, lease_owner = ?, lease_expires_at = ? WHERE id = ?",
            [.text(owner.text), .integer(leaseExpires), .integer(batchId)]
        )
        let members = batch.members
        try moveEvents(
            where: members.filter + " AND state = 'pending'", members.arguments,
            to: .inflight, setting: "attempts = attempts + 1", in: &state
        )
        let context = try context(id: batch.contextId, in: &state)
        return try claimedBatch(
            id: batchId, members: members.filter, members.arguments, context: context, attempts: batch.attempts + 1, bodyBytes: batch.bodyBytes,
            leaseExpires: leaseExpires, in: &state
        )
    }

    /// The claimed batch `id` whose members are the events that `filter` selects.
    private func claimedBatch(
        id: Int64, members filter: String, _ filterArguments: [SQLiteValue], context: EventContext, attempts: Int, bodyBytes: Int,
        leaseExpires: Int64, in state: inout State
    ) throws -> ClaimedBatch {
        var oldest = Int64.max
        let members = try state.connection.query(
            "SELECT id, uuid, visitor_json, enqueued_at FROM events JOIN event_bodies ON event_id = id WHERE \(filter) ORDER BY id",
            filterArguments
        ) { row in
            oldest = min(oldest, row.int64(3))
            return ClaimedBatch.Member(id: row.int64(0), uuid: row.text(1), visitorJSON: row.text(2))
        }
        return ClaimedBatch(
            id: id, context: context, members: members, attempts: attempts, bodyBytes: bodyBytes,
            oldestEnqueuedAtMillis: oldest == .max ? 0 : oldest, leaseExpiresAtMillis: leaseExpires
        )
    }

    /// Takes back in-flight batches whose lease has expired, or whose owner is a process on
    /// this host that has exited, and makes them due for a retry now, members unchanged.
    ///
    /// - Returns: how many batches were recovered.
    @discardableResult
    public func recoverLeases() throws(QueueError) -> Int {
        let now = clock.nowMillis()
        return try write { state in try recoverLeases(now: now, in: &state).recovered }
    }

    /// Recovers as ``recoverLeases()`` does; returns how many batches were recovered and the
    /// batches still in flight afterwards.
    func recoverLeases(now: Int64, in state: inout State) throws -> (recovered: Int, inFlight: [BatchRow]) {
        var inFlight: [BatchRow] = []
        var recovered = 0
        for claimed in try inflightBatches(in: &state) {
            let expired = (claimed.leaseExpiresAt ?? 0) <= now
            let ownerExited = claimed.leaseOwner.flatMap(LeaseOwner.init(text:)).map {
                $0 != owner && $0.hasCertainlyExited(onHost: owner.host)
            } ?? false
            guard expired || ownerExited else {
                inFlight.append(claimed)
                continue
            }
            let batch = try markMembers(of: claimed, in: &state)
            try state.connection.run(
                "UPDATE batches SET state = 'retry', next_attempt_at = ?, lease_owner = NULL, lease_expires_at = NULL WHERE id = ?",
                [.integer(now), .integer(batch.id)]
            )
            let members = batch.members
            try moveEvents(
                where: members.filter + " AND state = 'inflight'", members.arguments,
                to: .pending, setting: "next_attempt_at = ?", [.integer(now)], in: &state
            )
            recovered += 1
        }
        if recovered > 0 {
            try bump("leases_recovered", by: recovered, in: &state)
            configuration.logger.info("recovered in-flight batches", metadata: ["batches": "\(recovered)", "path": "\(path)"])
        }
        return (recovered, inFlight)
    }
}
