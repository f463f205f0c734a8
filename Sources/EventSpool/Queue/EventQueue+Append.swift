extension EventQueue {
    /// Writes one event; it is durable when this returns.
    ///
    /// - Returns: the event's row id.
    /// - Throws: ``QueueError/duplicateEvent(uuid:)`` when its uuid is already queued,
    ///   ``QueueError/full(maxEvents:maxBytes:)`` at a bound with `rejectNew`,
    ///   ``QueueError/diskFull(path:)`` when the disk is full (nothing is written).
    @discardableResult
    public func append(_ event: SerializedEvent) throws(QueueError) -> Int64 {
        let outcome = try appendReportingDrops(contentsOf: [event]).outcomes[0]
        switch outcome {
        case .appended(let id): return id
        case .duplicate: throw .duplicateEvent(uuid: event.uuid)
        case .rejectedFull: throw .full(maxEvents: configuration.maxEvents, maxBytes: configuration.maxBytes)
        }
    }

    /// Writes many events in one transaction; all of them are durable when this returns.
    ///
    /// Events whose uuid is already queued, or that do not fit the queue's bounds, are not
    /// written; the outcome of each event says which. A failure of the transaction itself
    /// (disk full, say) writes none of them and throws.
    public func append(contentsOf events: [SerializedEvent]) throws(QueueError) -> [AppendOutcome] {
        try appendReportingDrops(contentsOf: events).outcomes
    }

    /// ``append(contentsOf:)``, also saying how many pending events the `dropOldest` policy
    /// dropped to make room (for the processor's metrics).
    package func appendReportingDrops(contentsOf events: [SerializedEvent]) throws(QueueError) -> (outcomes: [AppendOutcome], droppedOldest: Int) {
        guard !events.isEmpty else { return ([], 0) }
        let now = clock.nowMillis()
        let bounded = configuration.maxEvents != nil || configuration.maxBytes != nil
        return try write { state in
            var held = bounded ? try heldTotals(in: &state) : (events: 0, bytes: 0)
            var outcomes: [AppendOutcome] = []
            outcomes.reserveCapacity(events.count)
            // The duplicate guard is the unique index on `uuid`: an event already queued is not
            // inserted, and `changes` says so.
            let insert = try state.connection.statement(
                """
                INSERT INTO events (uuid, kind, user_id, context_id, bytes, event_time, enqueued_at)
                VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (uuid) DO NOTHING
                """
            )
            let insertBody = try state.connection.statement("INSERT INTO event_bodies (event_id, visitor_json) VALUES (?, ?)")
            var added = (events: 0, bytes: 0)
            var rejected = 0
            var dropped = 0
            for event in events {
                let bytes = event.byteCount
                if bounded && !fits(events: held.events + 1, bytes: held.bytes + bytes) {
                    // Checked first: an old event is never dropped to make room for a duplicate.
                    if try isQueued(uuid: event.uuid, in: &state) {
                        outcomes.append(.duplicate)
                        continue
                    }
                    while !fits(events: held.events + 1, bytes: held.bytes + bytes) {
                        guard configuration.overflowPolicy == .dropOldest,
                              let victim = try dropOldestPending(in: &state)
                        else { break }
                        dropped += 1
                        held.events -= 1
                        held.bytes -= victim
                    }
                    if !fits(events: held.events + 1, bytes: held.bytes + bytes) {
                        rejected += 1
                        outcomes.append(.rejectedFull)
                        continue
                    }
                }
                let contextId = try contextId(event.context, in: &state)
                // Bound one by one, with no argument array: this is the hot path of grouped appends.
                try insert.bind(event.uuid, at: 1)
                try insert.bind(event.kind.rawValue, at: 2)
                try insert.bind(event.userId, at: 3)
                try insert.bind(contextId, at: 4)
                try insert.bind(Int64(bytes), at: 5)
                try insert.bind(event.timestampMillis, at: 6)
                try insert.bind(now, at: 7)
                guard try insert.execute() == 1 else {
                    outcomes.append(.duplicate)
                    continue
                }
                let id = state.connection.lastInsertRowID
                try insertBody.bind(id, at: 1)
                try insertBody.bind(event.visitorJSON, at: 2)
                _ = try insertBody.execute()
                outcomes.append(.appended(id: id))
                held.events += 1
                held.bytes += bytes
                added.events += 1
                added.bytes += bytes
            }
            // One update of `totals` for the whole group.
            try count(added.events, bytes: added.bytes, from: nil, to: .pending, in: &state)
            if let maxPageCount = configuration.maxPageCount, added.events > 0 {
                try requireRoomToSend(maxPageCount: maxPageCount, in: &state)
            }
            try bump("rejected_full", by: rejected, in: &state)
            try bump("dropped_oldest", by: dropped, in: &state)
            if dropped > 0 {
                configuration.logger.warning("queue full: dropped the oldest pending events", metadata: ["dropped": "\(dropped)", "path": "\(path)"])
            }
            if rejected > 0 {
                configuration.logger.warning("queue full: refused new events", metadata: ["rejected": "\(rejected)", "path": "\(path)"])
            }
            return (outcomes, dropped)
        }
    }

    /// Pages kept free, under ``QueueConfiguration/maxPageCount``, for the worker: beyond a
    /// fixed few, room for the index entries that claiming and completing each event held adds
    /// (about 48 bytes an event, generously). Without them a file filled by appends could not
    /// be drained, since sending writes too.
    static func pagesToSend(events: Int, pageSize: Int) -> Int {
        16 + (events * 48 + pageSize - 1) / max(pageSize, 1)
    }

    /// Refuses, as a full disk, a group after which the file would not have room left to send
    /// everything it holds (see ``pagesToSend(events:pageSize:)``). The whole group is then
    /// rolled back, exactly as when SQLite itself hits the limit.
    private func requireRoomToSend(maxPageCount: Int, in state: inout State) throws {
        let (usedPages, pageSize, unsent) = try state.connection.queryOne(
            """
            SELECT (SELECT page_count FROM pragma_page_count()) - (SELECT freelist_count FROM pragma_freelist_count()),
                   (SELECT page_size FROM pragma_page_size()),
                   (SELECT coalesce(sum(events), 0) FROM totals WHERE state IN ('pending', 'inflight'))
            """
        ) { ($0.int(0), $0.int(1), $0.int(2)) } ?? (0, 4_096, 0)
        if usedPages + Self.pagesToSend(events: unsent, pageSize: pageSize) > maxPageCount {
            throw QueueError.diskFull(path: path)
        }
    }

    private func fits(events: Int, bytes: Int) -> Bool {
        if let maxEvents = configuration.maxEvents, events > maxEvents { return false }
        if let maxBytes = configuration.maxBytes, bytes > maxBytes { return false }
        return true
    }

    /// Events and bytes held against the bounds: pending, in flight and dead.
    private func heldTotals(in state: inout State) throws -> (events: Int, bytes: Int) {
        try state.connection.queryOne(
            "SELECT coalesce(sum(events), 0), coalesce(sum(bytes), 0) FROM totals WHERE state IN ('pending', 'inflight', 'dead')"
        ) { ($0.int(0), $0.int(1)) } ?? (0, 0)
    }

    /// Whether an event with `uuid` is in the queue, in any state (spec §3).
    private func isQueued(uuid: String, in state: inout State) throws -> Bool {
        try state.connection.queryOne("SELECT 1 FROM events WHERE uuid = ?", [.text(uuid)]) { _ in true } ?? false
    }

    /// Deletes the oldest pending event that is not in a batch; returns its size, or `nil` when
    /// there is none to drop (everything held is in a batch, or dead).
    private func dropOldestPending(in state: inout State) throws -> Int? {
        guard let victim = try state.connection.queryOne(
            "SELECT id, bytes FROM events WHERE batch_id IS NULL ORDER BY id LIMIT 1", [], { (id: $0.int64(0), bytes: $0.int(1)) }
        ) else { return nil }
        try state.connection.run("DELETE FROM event_bodies WHERE event_id = ?", [.integer(victim.id)])
        try state.connection.run("DELETE FROM events WHERE id = ?", [.integer(victim.id)])
        try count(1, bytes: victim.bytes, from: .pending, to: nil, in: &state)
        return victim.bytes
    }
}
