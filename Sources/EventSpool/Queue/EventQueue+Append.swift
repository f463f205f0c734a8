extension EventQueue {
    /// Writes one event; it is durable when this returns.
    ///
    /// - Returns: the event's row id.
    /// - Throws: ``QueueError/duplicateEvent(uuid:)`` when its uuid is already queued,
    ///   ``QueueError/full(maxEvents:maxBytes:)`` at a bound with `rejectNew`,
    ///   ``QueueError/diskFull(path:)`` when the disk is full (nothing is written).
    @discardableResult
    public func append(_ event: SerializedEvent) throws(QueueError) -> Int64 {
        let outcome = try append(contentsOf: [event])[0]
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
        guard !events.isEmpty else { return [] }
        let now = clock.nowMillis()
        let bounded = configuration.maxEvents != nil || configuration.maxBytes != nil
        return try write { state in
            var held = bounded ? try heldTotals(in: &state) : (events: 0, bytes: 0)
            var outcomes: [AppendOutcome] = []
            outcomes.reserveCapacity(events.count)
            let insert = try state.connection.statement(
                """
                INSERT INTO events (uuid, uuid_key, kind, user_id, context_id, bytes, event_time, enqueued_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """
            )
            let insertBody = try state.connection.statement("INSERT INTO event_bodies (event_id, visitor_json) VALUES (?, ?)")
            try readRecentUUIDKeys(in: &state)
            var added = (events: 0, bytes: 0)
            var rejected = 0
            var dropped = 0
            for event in events {
                let bytes = event.byteCount
                // Checked first: an old event is never dropped to make room for a duplicate.
                let key = UUIDKey.of(event.uuid)
                if try isQueued(uuid: event.uuid, key: key, in: &state) {
                    outcomes.append(.duplicate)
                    continue
                }
                if bounded && !fits(events: held.events + 1, bytes: held.bytes + bytes) {
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
                try insert.bind(key, at: 2)
                try insert.bind(event.kind.rawValue, at: 3)
                try insert.bind(event.userId, at: 4)
                try insert.bind(contextId, at: 5)
                try insert.bind(Int64(bytes), at: 6)
                try insert.bind(event.timestampMillis, at: 7)
                try insert.bind(now, at: 8)
                _ = try insert.execute()
                let id = state.connection.lastInsertRowID
                try insertBody.bind(id, at: 1)
                try insertBody.bind(event.visitorJSON, at: 2)
                _ = try insertBody.execute()
                state.recentKeys.add(key: key, eventId: id)
                outcomes.append(.appended(id: id))
                held.events += 1
                held.bytes += bytes
                added.events += 1
                added.bytes += bytes
            }
            // One update for the whole group (migration 0003): a row trigger here cost about a
            // fifth of each append.
            try addToTotals(.pending, events: added.events, bytes: added.bytes, in: &state)
            try moveRecentUUIDKeysWhenDue(in: &state)
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
            return outcomes
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

    /// Whether an event with `uuid` (whose key is `key`) is in the queue, in any state: the
    /// duplicate guard of spec §3. Newer events' keys are in `state.recentKeys`, older ones in
    /// `uuid_keys` (migration 0007); events found under the key are compared by their uuid text.
    private func isQueued(uuid: String, key: Int64, in state: inout State) throws -> Bool {
        for id in state.recentKeys.eventIds(for: key) {
            let stored = try state.connection.queryOne("SELECT uuid FROM events WHERE id = ?", [.integer(id)]) { $0.text(0) }
            if stored == uuid { return true }
        }
        let lookup = try state.connection.statement(
            "SELECT e.uuid FROM uuid_keys k JOIN events e ON e.id = k.event_id WHERE k.uuid_key = ?"
        )
        try lookup.bind(key, at: 1)
        defer { lookup.reset() }
        while try lookup.step() {
            if lookup.text(0) == uuid { return true }
        }
        return false
    }

    /// Brings `state.recentKeys` up to date with the file before a group is appended: the keys
    /// of events newer than the ones it knows (other connections' appends), or all the keys
    /// above the mark when it was never read or another connection has deleted events since.
    private func readRecentUUIDKeys(in state: inout State) throws {
        let deleted = try counter("events_deleted", in: &state)
        if !state.recentKeys.isLoaded || deleted != state.recentKeys.deletedCount {
            let mark = try state.connection.queryOne("SELECT moved_through FROM uuid_keys_mark") { $0.int64(0) } ?? 0
            state.recentKeys.startOver(knownThrough: mark, deletedCount: deleted)
        }
        let newer = try state.connection.statement("SELECT id, uuid_key FROM events WHERE id > ? ORDER BY id")
        try newer.bind(state.recentKeys.knownThrough, at: 1)
        defer { newer.reset() }
        while try newer.step() {
            state.recentKeys.add(key: newer.int64(1), eventId: newer.int64(0))
        }
    }

    /// Moves the keys of the events above the mark into `uuid_keys`, in key order, once
    /// `state.recentKeys` holds ``QueueConfiguration/recentUUIDKeysToMove`` of them, and raises
    /// the mark to the newest event. `uuid_keys` is then written once per move, in order,
    /// instead of at random by every append.
    private func moveRecentUUIDKeysWhenDue(in state: inout State) throws {
        guard state.recentKeys.count >= configuration.recentUUIDKeysToMove else { return }
        let mark = try state.connection.queryOne("SELECT moved_through FROM uuid_keys_mark") { $0.int64(0) } ?? 0
        try state.connection.run(
            "INSERT INTO uuid_keys (uuid_key, event_id) SELECT uuid_key, id FROM events WHERE id > ? ORDER BY uuid_key, id", [.integer(mark)]
        )
        let newest = try state.connection.queryOne("SELECT coalesce(max(id), 0) FROM events") { $0.int64(0) } ?? 0
        let newMark = max(mark, newest)
        try state.connection.run("UPDATE uuid_keys_mark SET moved_through = ?", [.integer(newMark)])
        state.recentKeys.startOver(knownThrough: newMark, deletedCount: state.recentKeys.deletedCount)
    }

    /// Deletes the oldest pending event that is not part of a batch; returns its size, or `nil`
    /// when there is none to drop (everything held is in flight, waiting for a retry, or dead).
    private func dropOldestPending(in state: inout State) throws -> Int? {
        guard let victim = try oldestUnbatchedPending(in: &state) else { return nil }
        try deleteEvents(where: "id = ?", [.integer(victim.id)], in: &state)
        return victim.bytes
    }
}
