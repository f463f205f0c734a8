import Foundation
import Logging

/// The durable event queue: one SQLite file that holds every accepted event from `process`
/// until its batch gets a 2xx. This type owns all of EventSpool's SQL.
///
/// Every method is synchronous and thread-safe (one connection behind a lock). Writes run in
/// `BEGIN IMMEDIATE` transactions and are durable when the method returns. Several processes
/// may open the same file: claims are atomic, and a busy database is waited for and retried,
/// never reported as `database is locked`.
///
/// Its public face is what an operator needs: append, look, repair, trim, close. The worker's
/// side (claims, outcomes, leases) belongs to ``BatchEventProcessor``, which sends what is
/// appended here.
///
/// ```swift
/// let queue = try EventQueue(path: "events.sqlite")
/// try queue.append(event)                       // durable now
/// let stats = try queue.stats()                 // pending, in flight, sent, dead, oldest age
/// let stuck = try queue.list(state: .dead)      // the dead letters, with the server's answers
/// _ = try queue.requeueDeadLetters()            // send them again
/// ```
///
/// ## Topics
///
/// ### Opening
///
/// - ``init(path:configuration:)``
/// - ``path``
/// - ``configuration``
/// - ``schemaVersion()``
/// - ``close()``
///
/// ### Writing
///
/// - ``append(_:)``
/// - ``append(contentsOf:)``
///
/// ### Inspecting and repairing
///
/// - ``stats()``
/// - ``list(state:limit:)``
/// - ``requeueDeadLetters()``
/// - ``purge(sent:dead:olderThanMillis:)``
public final class EventQueue: Sendable {
    /// The file's path.
    public let path: String
    /// The configuration it was opened with.
    public let configuration: QueueConfiguration
    let owner: LeaseOwner
    private let state: LockedValue<State>
    /// Checkpoints the log beside the queue's own connection; `nil` when read-only.
    private let checkpointer: WALCheckpointer?
    /// Lets a stopping worker end the waits of its writes for another connection's lock.
    let lockWaits = LockWaits()

    struct State {
        var connection: SQLiteConnection
        /// Context row ids by context, and back. Cleared when a write transaction fails, since
        /// a rolled-back insert may have handed out an id that no longer exists.
        var contextIds: [EventContext: Int64] = [:]
        var contexts: [Int64: EventContext] = [:]
        /// The context used last: consecutive events nearly always share one, and comparing is
        /// cheaper than hashing seven strings for the dictionary.
        var lastContext: (context: EventContext, id: Int64)?
        /// `PRAGMA data_version` when last read: it changes when another connection commits.
        var dataVersion: Int64?
    }

    /// Opens the queue at `path`, creating it (mode 0600) and bringing its schema up to date.
    ///
    /// - Throws: ``QueueError`` when the path is a folder or cannot be created, the file is not
    ///   a database or is damaged (unless `onCorruption` is `.moveAside`), is another
    ///   application's database, or has a newer schema than this library.
    public init(path: String, configuration: QueueConfiguration = QueueConfiguration()) throws(QueueError) {
        self.path = path
        self.configuration = configuration
        self.owner = LeaseOwner.current()
        let connection = try QueueFile.open(path: path, configuration: configuration, lockWaits: lockWaits)
        self.checkpointer = configuration.readOnly ? nil : WALCheckpointer.install(on: connection, path: path, logger: configuration.logger)
        self.state = LockedValue(State(connection: connection))
    }

    deinit { checkpointer?.close() }

    /// Closes the file. Later calls fail; closing twice is harmless.
    public func close() {
        checkpointer?.close()
        state.withLock { $0.connection.close() }
    }

    /// The schema version of the file (`PRAGMA user_version`).
    public func schemaVersion() throws(QueueError) -> Int {
        try read { state throws in try Migrator.userVersion(state.connection) }
    }

    var clock: any EventClock { configuration.clock }

    // MARK: - Transactions

    /// Runs `body` in a write transaction (`BEGIN IMMEDIATE`).
    func write<T>(_ body: (inout State) throws -> T) throws(QueueError) -> T {
        if configuration.readOnly { throw .readOnly(path: path) }
        return try transaction(immediate: true, body)
    }

    /// Runs `body` in a read transaction (one consistent snapshot).
    func read<T>(_ body: (inout State) throws -> T) throws(QueueError) -> T {
        try transaction(immediate: false, body)
    }

    /// Runs `body` in a transaction, waiting and retrying while another process holds the lock,
    /// so that `database is locked` never reaches the caller (up to `busyRetryLimitMillis`).
    private func transaction<T>(immediate: Bool, _ body: (inout State) throws -> T) throws(QueueError) -> T {
        let started = DispatchTime.now().uptimeNanoseconds
        var pause: UInt32 = 1_000
        while true {
            do {
                return try state.withLock { state in
                    do {
                        return try state.connection.transaction(immediate: immediate) { () throws in try body(&state) }
                    } catch {
                        // A rolled-back insert may have handed out a context id that no longer exists.
                        state.contextIds.removeAll()
                        state.contexts.removeAll()
                        state.lastContext = nil
                        throw error
                    }
                }
            } catch let error as SQLiteError where error.isBusy {
                let waitedMillis = Int64((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000)
                if waitedMillis >= configuration.busyRetryLimitMillis || lockWaits.areInterrupted { throw .sqlite(error) }
                usleep(pause)
                pause = min(pause * 2, 100_000)
            } catch {
                throw map(error)
            }
        }
    }

    private func map(_ error: any Error) -> QueueError {
        switch error {
        case let error as QueueError: error
        case let error as SQLiteError: QueueFile.classify(error, path: path)
        default: .sqlite(SQLiteError(extendedCode: 1, message: "\(error)"))
        }
    }

    // MARK: - Contexts

    /// The row id of `context`, inserting it on first use.
    func contextId(_ context: EventContext, in state: inout State) throws -> Int64 {
        if let last = state.lastContext, last.context == context { return last.id }
        if let id = state.contextIds[context] {
            state.lastContext = (context, id)
            return id
        }
        let key: [SQLiteValue] = [
            .text(context.accountId), .text(context.projectId), .text(context.revision),
            .text(context.region.rawValue), .integer(context.anonymizeIP ? 1 : 0),
            .text(context.clientName), .text(context.clientVersion),
        ]
        try state.connection.run(
            """
            INSERT INTO contexts (account_id, project_id, revision, region, anonymize_ip, client_name, client_version, url)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
            """,
            key + [.text(context.endpoint)]
        )
        let id = try state.connection.queryOne(
            """
            SELECT id FROM contexts WHERE account_id = ? AND project_id = ? AND revision = ? AND region = ?
            AND anonymize_ip = ? AND client_name = ? AND client_version = ?
            """,
            key
        ) { $0.int64(0) }
        guard let id else { throw SQLiteError(extendedCode: 1, message: "context row missing after insert") }
        state.contextIds[context] = id
        state.contexts[id] = context
        state.lastContext = (context, id)
        return id
    }

    /// The context stored under `id`.
    func context(id: Int64, in state: inout State) throws -> EventContext {
        if let context = state.contexts[id] { return context }
        let context = try state.connection.queryOne(
            """
            SELECT account_id, project_id, revision, region, anonymize_ip, client_name, client_version
            FROM contexts WHERE id = ?
            """,
            [.integer(id)]
        ) { row in
            EventContext(
                accountId: row.text(0), projectId: row.text(1), revision: row.text(2),
                anonymizeIP: row.int(4) != 0, region: EventRegion(rawValue: row.text(3)) ?? .us,
                clientName: row.text(5), clientVersion: row.text(6)
            )
        }
        guard let context else { throw SQLiteError(extendedCode: 1, message: "no context row \(id)") }
        state.contexts[id] = context
        state.contextIds[context] = id
        return context
    }

    // MARK: - Totals

    // `totals` holds the count and bytes of events by state, so that stats and the queue bounds
    // cost one read. No trigger keeps it: every change of an event's state (a batch's state, for
    // the events in a batch) goes through the function below, in the same transaction.

    /// Moves `events` events of `bytes` visitor bytes from state `from` to state `to` in
    /// `totals`; `nil` for an event that enters (appended) or leaves (deleted) the queue.
    func count(_ events: Int, bytes: Int, from: EventState?, to: EventState?, in state: inout State) throws {
        guard events != 0 || bytes != 0, from != to else { return }
        let update = try state.connection.statement("UPDATE totals SET events = events + ?, bytes = bytes + ? WHERE state = ?")
        if let from {
            try update.bind(Int64(-events), at: 1)
            try update.bind(Int64(-bytes), at: 2)
            try update.bind(from.rawValue, at: 3)
            _ = try update.execute()
        }
        if let to {
            try update.bind(Int64(events), at: 1)
            try update.bind(Int64(bytes), at: 2)
            try update.bind(to.rawValue, at: 3)
            _ = try update.execute()
        }
    }

    /// The value of a counter of the `counters` table.
    func counter(_ name: String, in state: inout State) throws -> Int {
        try state.connection.queryOne("SELECT value FROM counters WHERE name = ?", [.text(name)]) { $0.int(0) } ?? 0
    }

    /// Adds `amount` to a counter of the `counters` table.
    func bump(_ counter: String, by amount: Int, in state: inout State) throws {
        guard amount != 0 else { return }
        try state.connection.run("UPDATE counters SET value = value + ? WHERE name = ?", [.int(amount), .text(counter)])
    }

    // MARK: - Watching the file

    /// Whether another connection (another process, or another queue on the file in this one)
    /// has committed a change since the last call: SQLite's `PRAGMA data_version`, one read of
    /// the shared log index, no I/O. The first call answers `true`. A running worker asks on a
    /// modest timer, to see other processes' appends.
    package func hasChangedElsewhere() throws(QueueError) -> Bool {
        do {
            return try state.withLock { state in
                let version = try state.connection.queryOne("PRAGMA data_version") { $0.int64(0) } ?? 0
                defer { state.dataVersion = version }
                return state.dataVersion != version
            }
        } catch {
            throw map(error)
        }
    }
}

