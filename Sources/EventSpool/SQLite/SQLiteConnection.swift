import Foundation
import CSQLite

/// SQLite's "destructor" telling it to copy bound text before `sqlite3_bind_text` returns.
private let transientDestructor = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A thin wrapper over one `sqlite3` connection: prepared statements cached by their SQL,
/// typed errors, and explicit transactions.
///
/// Not thread-safe by itself: its owner (``EventQueue``) serialises every use behind a lock,
/// which is also why the connection is opened with `SQLITE_OPEN_NOMUTEX`.
final class SQLiteConnection {
    private var handle: OpaquePointer?
    private var statements: [String: PreparedStatement] = [:]
    private var walHook: Unmanaged<CallbackBox<(Int) -> Void>>?
    private var busyWait: Unmanaged<BusyWait>?
    /// The path given to `open`.
    let path: String

    /// Opens (and, with `create`, creates) the database at `path`.
    init(path: String, readOnly: Bool, create: Bool) throws(SQLiteError) {
        self.path = path
        var flags = SQLITE_OPEN_NOMUTEX
        if readOnly {
            flags |= SQLITE_OPEN_READONLY
        } else {
            flags |= SQLITE_OPEN_READWRITE
            if create { flags |= SQLITE_OPEN_CREATE }
        }
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            let code = db.map { sqlite3_extended_errcode($0) } ?? rc
            sqlite3_close_v2(db)
            throw SQLiteError(extendedCode: code, message: message)
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
    }

    deinit { close() }

    /// Finalizes every cached statement and closes the connection. Safe to call twice.
    func close() {
        for statement in statements.values { statement.finalize() }
        statements.removeAll()
        if let handle {
            sqlite3_wal_hook(handle, nil, nil)
            sqlite3_close_v2(handle)
        }
        handle = nil
        walHook?.release()
        walHook = nil
        busyWait?.release()
        busyWait = nil
    }

    /// Sets how long SQLite waits for another connection's lock before reporting `SQLITE_BUSY`:
    /// `milliseconds` by the monotonic clock, trying again as ``BusyWait`` schedules, or until
    /// `lockWaits` is interrupted.
    ///
    /// SQLite's own `sqlite3_busy_timeout` sleeps 1, 2, 5, 10 … up to 100 ms between tries, so
    /// a lock freed early in a long sleep stays unused until the sleep ends. With two processes
    /// writing one queue (`run` and `enqueue`), that cost about a tenth of their throughput. This
    /// is SQLite's documented per-connection busy handler: nothing else in the process changes.
    func setBusyTimeout(milliseconds: Int32, lockWaits: LockWaits? = nil) {
        let wait = Unmanaged.passRetained(BusyWait(timeoutNanos: UInt64(max(milliseconds, 0)) * 1_000_000, lockWaits: lockWaits))
        sqlite3_busy_handler(handle, { context, triesSoFar in
            guard let context else { return 0 }
            return Unmanaged<BusyWait>.fromOpaque(context).takeUnretainedValue().tryAgain(firstTry: triesSoFar == 0) ? 1 : 0
        }, wait.toOpaque())
        busyWait?.release()
        busyWait = wait
    }

    /// Runs one or more statements that return no rows we need (DDL, pragmas, migrations).
    func execute(_ sql: String) throws(SQLiteError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if rc != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_free(errorMessage)
            throw SQLiteError(extendedCode: handle.map { sqlite3_extended_errcode($0) } ?? rc, message: message, sql: sql)
        }
    }

    /// The cached prepared statement for `sql`, reset and with its bindings cleared.
    func statement(_ sql: String) throws(SQLiteError) -> PreparedStatement {
        if let cached = statements[sql] {
            cached.reset()
            return cached
        }
        var raw: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil)
        guard rc == SQLITE_OK, let raw else {
            throw error(rc, sql: sql)
        }
        let statement = PreparedStatement(raw: raw, connection: self, sql: sql)
        statements[sql] = statement
        return statement
    }

    /// Runs `sql` with `arguments` and returns the number of rows it changed.
    @discardableResult
    func run(_ sql: String, _ arguments: [SQLiteValue] = []) throws(SQLiteError) -> Int {
        let statement = try statement(sql)
        try statement.bind(arguments)
        while try statement.step() {}
        return Int(sqlite3_changes(handle))
    }

    /// Runs a query and maps each row with `transform`.
    func query<T>(_ sql: String, _ arguments: [SQLiteValue] = [], _ transform: (PreparedStatement) throws(SQLiteError) -> T) throws(SQLiteError) -> [T] {
        let statement = try statement(sql)
        try statement.bind(arguments)
        var rows: [T] = []
        while try statement.step() { rows.append(try transform(statement)) }
        return rows
    }

    /// The first row of a query mapped by `transform`, or `nil` when there is none.
    func queryOne<T>(_ sql: String, _ arguments: [SQLiteValue] = [], _ transform: (PreparedStatement) throws(SQLiteError) -> T) throws(SQLiteError) -> T? {
        let statement = try statement(sql)
        try statement.bind(arguments)
        defer { statement.reset() }
        return try statement.step() ? transform(statement) : nil
    }

    /// The rowid of the last insert on this connection.
    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Whether a transaction is open.
    var isInTransaction: Bool { handle.map { sqlite3_get_autocommit($0) == 0 } ?? false }

    /// Runs `body` in a transaction and commits it, or rolls back when `body` throws.
    ///
    /// Writers use `BEGIN IMMEDIATE`: the write lock is taken up front, so two processes never
    /// both read, then both try to upgrade to a write (which would fail one of them with
    /// `SQLITE_BUSY` in the middle of its work instead of waiting at the start).
    ///
    /// `BEGIN`, `COMMIT` and `ROLLBACK` are cached prepared statements like any other: on the hot
    /// path of a single append they would otherwise be parsed again on every call.
    func transaction<T, E: Error>(immediate: Bool, _ body: () throws(E) -> T) throws -> T {
        try run(immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED")
        do {
            let result = try body()
            try run("COMMIT")
            return result
        } catch {
            if isInTransaction { _ = try? run("ROLLBACK") }
            throw error
        }
    }

    /// Calls `body` after each commit of this connection with the number of frames now in the
    /// write-ahead log. It replaces SQLite's automatic checkpoints (`wal_autocheckpoint`), so
    /// `body` decides when to checkpoint. It runs inside the committing call: keep it short.
    func onWALCommit(_ body: @escaping (_ frames: Int) -> Void) {
        let hook = Unmanaged.passRetained(CallbackBox(body))
        sqlite3_wal_hook(handle, { context, _, _, frames in
            if let context { Unmanaged<CallbackBox<(Int) -> Void>>.fromOpaque(context).takeUnretainedValue().body(Int(frames)) }
            return SQLITE_OK
        }, hook.toOpaque())
        walHook?.release()
        walHook = hook
    }

    /// Copies what the write-ahead log holds back into the database file, without waiting for
    /// readers or writers (`SQLITE_CHECKPOINT_PASSIVE`).
    ///
    /// - Returns: the frames in the log and how many of them are now in the database file.
    @discardableResult
    func checkpointPassively() throws(SQLiteError) -> (logFrames: Int, checkpointed: Int) {
        var log: Int32 = 0
        var copied: Int32 = 0
        let rc = sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_PASSIVE, &log, &copied)
        if rc != SQLITE_OK { throw error(rc, sql: "PRAGMA wal_checkpoint(PASSIVE)") }
        return (Int(log), Int(copied))
    }

    /// The typed error for the result code `rc` of the statement `sql`.
    func error(_ rc: Int32, sql: String?) -> SQLiteError {
        let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
        let code = handle.map { sqlite3_extended_errcode($0) } ?? rc
        return SQLiteError(extendedCode: code == SQLITE_OK ? rc : code, message: message, sql: sql)
    }

    /// Binds text without copying it through an intermediate `String` buffer.
    fileprivate static func bindText(_ statement: OpaquePointer, _ index: Int32, _ text: String) -> Int32 {
        var text = text
        return text.withUTF8 { buffer in
            guard let base = buffer.baseAddress, buffer.count > 0 else {
                return sqlite3_bind_text(statement, index, "", 0, transientDestructor)
            }
            return base.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                sqlite3_bind_text(statement, index, $0, Int32(buffer.count), transientDestructor)
            }
        }
    }
}

/// How a connection waits for another connection's lock: its busy handler's schedule.
///
/// Most waits are short (another process commits a group of events, or claims a batch), so the
/// first tries come every 250 µs and the lock is taken within a quarter of a millisecond of its
/// release. A lock held longer (an operator's open transaction in `sqlite3`, a large purge) is
/// tried less and less often, about a tenth of the time waited so far apart and at most 10 ms,
/// so a long wait costs about a hundred tries a second instead of thousands. The timeout is
/// time on the monotonic clock, not a count of tries, so it holds on a loaded machine too.
final class BusyWait {
    /// Tries every 250 µs for the first 10 ms of a wait.
    static let shortPauseNanos: UInt64 = 250_000
    static let shortWaitNanos: UInt64 = 10_000_000
    /// The longest pause between two tries.
    static let longestPauseNanos: UInt64 = 10_000_000

    let timeoutNanos: UInt64
    /// Interrupted: give up at the next try.
    let lockWaits: LockWaits?
    /// When the current wait began (the handler's first call for it).
    private var startedNanos: UInt64 = 0

    init(timeoutNanos: UInt64, lockWaits: LockWaits? = nil) {
        self.timeoutNanos = timeoutNanos
        self.lockWaits = lockWaits
    }

    /// The pause before the next try after waiting `waitedNanos`, or `nil` once the wait has
    /// lasted `timeoutNanos`: then SQLite reports `SQLITE_BUSY`.
    static func pause(afterWaiting waitedNanos: UInt64, timeoutNanos: UInt64) -> UInt64? {
        guard waitedNanos < timeoutNanos else { return nil }
        let pause = waitedNanos < shortWaitNanos ? shortPauseNanos : min(waitedNanos / 10, longestPauseNanos)
        return min(pause, timeoutNanos - waitedNanos)
    }

    /// Called by SQLite's busy handler on the connection's thread (a connection is used by one
    /// thread at a time): sleeps the scheduled pause and says whether to try again.
    func tryAgain(firstTry: Bool) -> Bool {
        if lockWaits?.areInterrupted == true { return false }
        let now = DispatchTime.now().uptimeNanoseconds
        if firstTry { startedNanos = now }
        guard let pause = Self.pause(afterWaiting: now - startedNanos, timeoutNanos: timeoutNanos) else { return false }
        usleep(UInt32(pause / 1_000))
        return true
    }
}

/// A Swift closure handed to SQLite as a callback's context pointer (the WAL hook), kept alive
/// until the connection releases it.
private final class CallbackBox<Body> {
    let body: Body
    init(_ body: Body) { self.body = body }
}

/// A value bound to a statement parameter.
enum SQLiteValue {
    case integer(Int64)
    case real(Double)
    case text(String)
    case null
}

extension SQLiteValue {
    static func int(_ value: Int) -> SQLiteValue { .integer(Int64(value)) }
    static func optionalText(_ value: String?) -> SQLiteValue { value.map { .text($0) } ?? .null }
    static func optionalInt(_ value: Int?) -> SQLiteValue { value.map { .integer(Int64($0)) } ?? .null }
}

/// A prepared statement owned by a ``SQLiteConnection``'s cache.
final class PreparedStatement {
    private let raw: OpaquePointer
    private unowned let connection: SQLiteConnection
    /// The statement's SQL, reported in errors.
    let sql: String

    fileprivate init(raw: OpaquePointer, connection: SQLiteConnection, sql: String) {
        self.raw = raw
        self.connection = connection
        self.sql = sql
    }

    fileprivate func finalize() { sqlite3_finalize(raw) }

    /// Resets the statement so it can run again, and clears its bindings.
    func reset() {
        sqlite3_reset(raw)
        sqlite3_clear_bindings(raw)
    }

    /// Binds `arguments` to parameters 1…n.
    func bind(_ arguments: [SQLiteValue]) throws(SQLiteError) {
        for (offset, value) in arguments.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch value {
            case .integer(let number): rc = sqlite3_bind_int64(raw, index, number)
            case .real(let number): rc = sqlite3_bind_double(raw, index, number)
            case .text(let text): rc = SQLiteConnection.bindText(raw, index, text)
            case .null: rc = sqlite3_bind_null(raw, index)
            }
            if rc != SQLITE_OK { throw connection.error(rc, sql: sql) }
        }
    }

    /// Binds `value` to parameter `index` (1-based), without building an argument array: for
    /// statements run many times in a loop.
    func bind(_ value: Int64, at index: Int32) throws(SQLiteError) {
        let rc = sqlite3_bind_int64(raw, index, value)
        if rc != SQLITE_OK { throw connection.error(rc, sql: sql) }
    }

    /// Binds `text` to parameter `index` (1-based).
    func bind(_ text: String, at index: Int32) throws(SQLiteError) {
        let rc = SQLiteConnection.bindText(raw, index, text)
        if rc != SQLITE_OK { throw connection.error(rc, sql: sql) }
    }

    /// Runs a statement that returns no rows with the current bindings, resets it for the next
    /// run, and returns how many rows it changed.
    func execute() throws(SQLiteError) -> Int {
        while try step() {}
        let changes = Int(sqlite3_changes(sqlite3_db_handle(raw)))
        sqlite3_reset(raw)
        return changes
    }

    /// Advances to the next row: `true` when a row is available, `false` when done.
    func step() throws(SQLiteError) -> Bool {
        let rc = sqlite3_step(raw)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let error = connection.error(rc, sql: sql)
            sqlite3_reset(raw)
            throw error
        }
    }

    /// The integer in column `index` (0-based).
    func int64(_ index: Int32) -> Int64 { sqlite3_column_int64(raw, index) }
    /// The integer in column `index` as `Int`.
    func int(_ index: Int32) -> Int { Int(sqlite3_column_int64(raw, index)) }
    /// The integer in column `index`, or `nil` for NULL.
    func optionalInt(_ index: Int32) -> Int? { isNull(index) ? nil : int(index) }
    /// The integer in column `index`, or `nil` for NULL.
    func optionalInt64(_ index: Int32) -> Int64? { isNull(index) ? nil : int64(index) }
    /// The real number in column `index`.
    func double(_ index: Int32) -> Double { sqlite3_column_double(raw, index) }
    /// Whether column `index` is NULL.
    func isNull(_ index: Int32) -> Bool { sqlite3_column_type(raw, index) == SQLITE_NULL }

    /// The text in column `index` ("" for NULL).
    func text(_ index: Int32) -> String {
        guard let bytes = sqlite3_column_text(raw, index) else { return "" }
        let count = Int(sqlite3_column_bytes(raw, index))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    /// The text in column `index`, or `nil` for NULL.
    func optionalText(_ index: Int32) -> String? { isNull(index) ? nil : text(index) }
}
