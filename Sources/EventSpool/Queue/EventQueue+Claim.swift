extension EventQueue {
    /// How long a claim's lease lasts unless told otherwise. A worker renews the lease of each
    /// batch while its request is out, so this only bounds how long the batch of a worker that
    /// died (or froze) waits before another worker takes it.
    package static let defaultLeaseMillis: Int64 = 15_000

    /// Claims the next batch to send and marks it in flight under this queue's lease.
    ///
    /// Spec §5: the oldest waiting event decides. If it is in a batch whose retry is due, that
    /// batch is claimed again whole (same events, same order, so the same bytes). Otherwise a
    /// new batch is cut from the events not yet in a batch: consecutive, one context, at most
    /// `limits.maxEvents` events and `limits.maxBytes` bytes of request body. Its events point
    /// at it (`events.batch_id`) from this moment.
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
    package func claimNextBatch(
        limits: BatchLimits,
        includeOpenBatch: Bool,
        openBatchQueuedBeforeMillis: Int64? = nil,
        leaseMillis: Int64 = EventQueue.defaultLeaseMillis
    ) throws(QueueError) -> ClaimedBatch? {
        let rule = ClaimRule(includeOpenBatch: includeOpenBatch, openBatchQueuedBeforeMillis: openBatchQueuedBeforeMillis ?? .min)
        if case .claimed(let batch) = try claim(limits: limits, rule: rule, leaseMillis: leaseMillis) { return batch }
        return nil
    }

    /// What a claim found: a batch, or nothing due and when something will be.
    enum ClaimResult: Sendable, Equatable {
        case claimed(ClaimedBatch)
        case nothingDue(PendingSchedule)
    }

    /// Claims as ``claimNextBatch(limits:includeOpenBatch:openBatchQueuedBeforeMillis:leaseMillis:)``
    /// does; when nothing is due, says in the same transaction when something will be.
    func claim(limits: BatchLimits, rule: ClaimRule, leaseMillis: Int64) throws(QueueError) -> ClaimResult {
        let now = clock.nowMillis()
        return try write { state in try claim(limits: limits, rule: rule, leaseMillis: leaseMillis, now: now, in: &state) }
    }

    /// ``claim(limits:rule:leaseMillis:)`` inside the caller's write transaction.
    func claim(limits: BatchLimits, rule: ClaimRule, leaseMillis: Int64, now: Int64, in state: inout State) throws -> ClaimResult {
        try recoverLeases(now: now, in: &state)
        if let batch = try claimNextBatch(limits: limits, rule: rule, leaseExpires: now + leaseMillis, now: now, in: &state) {
            return .claimed(batch)
        }
        return .nothingDue(try pendingSchedule(in: &state))
    }

    private func claimNextBatch(
        limits: BatchLimits, rule: ClaimRule, leaseExpires: Int64, now: Int64, in state: inout State
    ) throws -> ClaimedBatch? {
        // The oldest events not in a batch, one more than a full batch so that a full batch can
        // be told from an open one.
        let candidates = try state.connection.query(
            "SELECT id, context_id, bytes, enqueued_at FROM events WHERE batch_id IS NULL ORDER BY id LIMIT ?",
            [.int(limits.maxEvents + 1)]
        ) { (id: $0.int64(0), cut: BatchCut.Candidate(contextId: $0.int64(1), bytes: $0.int(2)), enqueuedAt: $0.int64(3)) }

        // A batch whose retry is due goes first if its events are older (spec §6).
        if let retry = try state.connection.queryOne(
            """
            SELECT id, first FROM (
                SELECT b.id, (SELECT min(e.id) FROM events e WHERE e.batch_id = b.id) AS first
                FROM batches b WHERE b.state = 'retry' AND b.next_attempt_at <= ?
            ) WHERE first IS NOT NULL ORDER BY first LIMIT 1
            """,
            [.integer(now)], { (id: $0.int64(0), first: $0.int64(1)) }
        ), retry.first < candidates.first?.id ?? .max {
            return try reclaim(batchId: retry.id, leaseExpires: leaseExpires, in: &state)
        }

        guard let first = candidates.first else { return nil }
        let context = try context(id: first.cut.contextId, in: &state)
        guard let cut = BatchCut.cut(
            candidates.map(\.cut),
            envelopeBytes: LogEvent.overheadByteCount(for: context),
            separatorBytes: LogEvent.visitorSeparator.utf8.count,
            maxEvents: limits.maxEvents,
            maxBytes: limits.maxBytes
        ) else { return nil }
        guard cut.isClosed || rule.includeOpenBatch || first.enqueuedAt <= rule.openBatchQueuedBeforeMillis else { return nil }

        let members = candidates.prefix(cut.count)
        let eventBytes = members.reduce(0) { $0 + $1.cut.bytes }
        try state.connection.run(
            """
            INSERT INTO batches (context_id, state, event_count, event_bytes, body_bytes, attempts, created_at, lease_owner, lease_expires_at)
            VALUES (?, 'inflight', ?, ?, ?, 1, ?, ?, ?)
            """,
            [
                .integer(first.cut.contextId), .int(cut.count), .int(eventBytes), .int(cut.bodyBytes), .integer(now),
                .text(owner.text), .integer(leaseExpires),
            ]
        )
        let batchId = state.connection.lastInsertRowID
        // The candidates are the first events without a batch, in order: exactly the events of
        // this id range that have none.
        let lastId = members[members.endIndex - 1].id
        let changed = try state.connection.run(
            "UPDATE events SET batch_id = ? WHERE id BETWEEN ? AND ? AND batch_id IS NULL",
            [.integer(batchId), .integer(first.id), .integer(lastId)]
        )
        guard changed == cut.count else {
            throw SQLiteError(extendedCode: 1, message: "expected to put \(cut.count) events in batch \(batchId), put \(changed)")
        }
        try count(cut.count, bytes: eventBytes, from: .pending, to: .inflight, in: &state)
        return try claimedBatch(id: batchId, context: context, attempts: 1, bodyBytes: cut.bodyBytes, leaseExpires: leaseExpires, in: &state)
    }

    /// Claims a batch whose retry is due, with its events as they were.
    private func reclaim(batchId: Int64, leaseExpires: Int64, in state: inout State) throws -> ClaimedBatch? {
        guard let batch = try batchRow(batchId, in: &state) else { return nil }
        try state.connection.run(
            """
            UPDATE batches SET state = 'inflight', attempts = attempts + 1, lease_owner = ?, lease_expires_at = ?, next_attempt_at = NULL
            WHERE id = ?
            """,
            [.text(owner.text), .integer(leaseExpires), .integer(batchId)]
        )
        try count(batch.eventCount, bytes: batch.eventBytes, from: .pending, to: .inflight, in: &state)
        let context = try context(id: batch.contextId, in: &state)
        return try claimedBatch(
            id: batchId, context: context, attempts: batch.attempts + 1, bodyBytes: batch.bodyBytes, leaseExpires: leaseExpires, in: &state
        )
    }

    /// The claimed batch `id`, with its events read in order.
    private func claimedBatch(
        id: Int64, context: EventContext, attempts: Int, bodyBytes: Int, leaseExpires: Int64, in state: inout State
    ) throws -> ClaimedBatch {
        var oldest = Int64.max
        let members = try state.connection.query(
            """
            SELECT e.id, e.uuid, body.visitor_json, e.enqueued_at FROM events e JOIN event_bodies body ON body.event_id = e.id
            WHERE e.batch_id = ? ORDER BY e.id
            """,
            [.integer(id)]
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
    /// this host that has exited, and makes them due for a retry now, their events unchanged.
    ///
    /// - Returns: how many batches were recovered.
    @discardableResult
    package func recoverLeases() throws(QueueError) -> Int {
        let now = clock.nowMillis()
        return try write { state in try recoverLeases(now: now, in: &state) }
    }

    @discardableResult
    func recoverLeases(now: Int64, in state: inout State) throws -> Int {
        var recovered = 0
        for batch in try state.connection.query("SELECT \(Self.batchColumns) FROM batches WHERE state = 'inflight'", [], Self.batchRow) {
            let expired = (batch.leaseExpiresAt ?? 0) <= now
            let ownerExited = batch.leaseOwner.flatMap(LeaseOwner.init(text:)).map {
                $0 != owner && $0.hasCertainlyExited(onHost: owner.host)
            } ?? false
            guard expired || ownerExited else { continue }
            try state.connection.run(
                "UPDATE batches SET state = 'retry', next_attempt_at = ?, lease_owner = NULL, lease_expires_at = NULL WHERE id = ?",
                [.integer(now), .integer(batch.id)]
            )
            try count(batch.eventCount, bytes: batch.eventBytes, from: .inflight, to: .pending, in: &state)
            recovered += 1
        }
        if recovered > 0 {
            try bump("leases_recovered", by: recovered, in: &state)
            configuration.logger.info("recovered in-flight batches", metadata: ["batches": "\(recovered)", "path": "\(path)"])
        }
        return recovered
    }

    // MARK: - Batch rows

    /// A `batches` row, as the queue's own code reads it.
    struct BatchRow {
        var id: Int64
        var state: String
        var leaseOwner: String?
        var leaseExpiresAt: Int64?
        var contextId: Int64
        var attempts: Int
        var bodyBytes: Int
        var eventCount: Int
        var eventBytes: Int

        /// The state of its events.
        var eventState: EventState? {
            switch state {
            case "inflight": .inflight
            case "retry": .pending
            case "sent": .sent
            case "dead": .dead
            default: nil
            }
        }
    }

    static let batchColumns = "id, state, lease_owner, lease_expires_at, context_id, attempts, body_bytes, event_count, event_bytes"

    static func batchRow(_ row: PreparedStatement) -> BatchRow {
        BatchRow(
            id: row.int64(0), state: row.text(1), leaseOwner: row.optionalText(2), leaseExpiresAt: row.optionalInt64(3),
            contextId: row.int64(4), attempts: row.int(5), bodyBytes: row.int(6), eventCount: row.int(7), eventBytes: row.int(8)
        )
    }

    /// The batch `id`, or `nil` when there is none.
    func batchRow(_ id: Int64, in state: inout State) throws -> BatchRow? {
        try state.connection.queryOne("SELECT \(Self.batchColumns) FROM batches WHERE id = ?", [.integer(id)], Self.batchRow)
    }
}

/// Which batch a claim may take besides closed ones (spec §5).
struct ClaimRule: Equatable, Sendable {
    /// Claim an open batch whatever its age (a flush or a stop is under way).
    var includeOpenBatch: Bool
    /// Otherwise, claim an open batch whose oldest event was queued at or before this time.
    var openBatchQueuedBeforeMillis: Int64
}
