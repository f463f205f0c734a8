// Which events belong to which batch (migration 0006).
//
// A batch's members are the events in its id range (`first_event_id`…`last_event_id`) that
// carry its id in `batch_id`: its members are *marked*. A batch claimed from new events is not
// marked at first: only its `batches` row is written, and its members are the events of its
// range that still read `state = 'pending'` and `batch_id IS NULL` (the claim took every such
// event from the first id to the last). A 2xx writes those events once, as sent; every other
// path that changes them marks them first (`'inflight'`, with the batch's id) and then works on
// marked members.
//
// While a batch is unmarked, nothing may make another event in its range pending without a
// batch: new events get higher ids than any queued one, drops of the oldest and claims skip
// unmarked ranges, and a requeue of dead letters marks every unmarked batch first.

extension EventQueue {
    /// A `batches` row, with what finding its members needs.
    struct BatchRow {
        var id: Int64
        var state: String
        var leaseOwner: String?
        var leaseExpiresAt: Int64?
        var contextId: Int64
        var attempts: Int
        var bodyBytes: Int
        var firstEventId: Int64?
        var lastEventId: Int64?
        var eventCount: Int
        var eventBytes: Int
        var membersMarked: Bool

        /// A filter on `events` that selects exactly this batch's members, and its arguments.
        var members: (filter: String, arguments: [SQLiteValue]) {
            let range: [SQLiteValue] = [.integer(firstEventId ?? 0), .integer(lastEventId ?? -1)]
            return membersMarked
                ? ("batch_id = ? AND id BETWEEN ? AND ?", [.integer(id)] + range)
                : (Self.unmarkedMembers, range)
        }

        /// The members of an unmarked batch whose range is the two arguments.
        static let unmarkedMembers = "state = 'pending' AND batch_id IS NULL AND id BETWEEN ? AND ?"

        /// Whether event `id` lies in this batch's range.
        func spans(_ id: Int64) -> Bool {
            guard let first = firstEventId, let last = lastEventId else { return false }
            return first <= id && id <= last
        }
    }

    private static let batchColumns = """
        id, state, lease_owner, lease_expires_at, context_id, attempts, bytes, first_event_id, last_event_id, event_count, event_bytes,
        members_marked
        """

    private static func batchRow(_ row: PreparedStatement) -> BatchRow {
        BatchRow(
            id: row.int64(0), state: row.text(1), leaseOwner: row.optionalText(2), leaseExpiresAt: row.optionalInt64(3),
            contextId: row.int64(4), attempts: row.int(5), bodyBytes: row.int(6), firstEventId: row.optionalInt64(7),
            lastEventId: row.optionalInt64(8), eventCount: row.int(9), eventBytes: row.int(10), membersMarked: row.int(11) != 0
        )
    }

    /// The batch `id`, or `nil` when there is none.
    func batchRow(_ id: Int64, in state: inout State) throws -> BatchRow? {
        try state.connection.queryOne("SELECT \(Self.batchColumns) FROM batches WHERE id = ?", [.integer(id)], Self.batchRow)
    }

    /// The in-flight batches.
    func inflightBatches(in state: inout State) throws -> [BatchRow] {
        try state.connection.query("SELECT \(Self.batchColumns) FROM batches WHERE state = 'inflight'", [], Self.batchRow)
    }

    /// The in-flight batches whose members are not marked yet.
    func unmarkedBatches(in state: inout State) throws -> [BatchRow] {
        try inflightBatches(in: &state).filter { !$0.membersMarked }
    }

    /// Writes the members of `batch` as its own (`'inflight'`, its id, one more attempt) when
    /// they are not marked yet. Returns the batch as it is now.
    @discardableResult
    func markMembers(of batch: BatchRow, in state: inout State) throws -> BatchRow {
        guard !batch.membersMarked else { return batch }
        let members = batch.members
        try moveEvents(
            where: members.filter, members.arguments, to: .inflight, setting: "batch_id = ?, attempts = attempts + 1", [.integer(batch.id)],
            known: (from: .pending, events: batch.eventCount, bytes: batch.eventBytes), in: &state
        )
        try state.connection.run("UPDATE batches SET members_marked = 1 WHERE id = ?", [.integer(batch.id)])
        var marked = batch
        marked.membersMarked = true
        return marked
    }

    /// Marks the members of every unmarked batch: before anything that makes events pending
    /// without a batch again.
    func markAllMembers(in state: inout State) throws {
        for batch in try unmarkedBatches(in: &state) {
            try markMembers(of: batch, in: &state)
        }
    }

    /// The oldest event that `condition` selects (a filter on pending events) and that is not a
    /// member of an unmarked batch, read by `transform` (columns 0 and 1 are its id and batch
    /// id, then `columns`).
    ///
    /// Members are skipped range by range: an unmarked range holds no other pending events
    /// without a batch, so only events of other batches can come first there.
    func firstPending<T>(
        where condition: String, _ arguments: [SQLiteValue], columns: String, outside unmarked: [BatchRow], in state: inout State,
        _ transform: (PreparedStatement) -> T
    ) throws -> T? {
        let select = "SELECT id, batch_id, \(columns) FROM events WHERE \(condition)"
        let read = { (statement: PreparedStatement) in (id: statement.int64(0), batchId: statement.optionalInt64(1), value: transform(statement)) }
        var from = Int64.min
        while let found = try state.connection.queryOne(select + " AND id >= ? ORDER BY id LIMIT 1", arguments + [.integer(from)], read) {
            guard found.batchId == nil, let batch = unmarked.first(where: { $0.spans(found.id) }), let last = batch.lastEventId else {
                return found.value
            }
            if let other = try state.connection.queryOne(
                select + " AND batch_id IS NOT NULL AND id BETWEEN ? AND ? ORDER BY id LIMIT 1", arguments + [.integer(found.id), .integer(last)], read
            ) {
                return other.value
            }
            from = last + 1
        }
        return nil
    }

    /// The oldest pending event that no batch holds (not even an unmarked one): its id, size
    /// and enqueue time.
    func oldestUnbatchedPending(in state: inout State) throws -> (id: Int64, bytes: Int, enqueuedAt: Int64)? {
        let unmarked = try unmarkedBatches(in: &state)
        return try firstPending(
            where: "state = 'pending' AND batch_id IS NULL", [], columns: "bytes, enqueued_at", outside: unmarked, in: &state
        ) { (id: $0.int64(0), bytes: $0.int(2), enqueuedAt: $0.int64(3)) }
    }
}
