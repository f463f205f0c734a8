import CSQLite

/// A failure reported by SQLite, with what a person needs to understand it.
///
/// Carries SQLite's primary and extended result codes, its message, and the statement that
/// failed (`nil` when the failure was not tied to one statement, such as opening a file).
public struct SQLiteError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The extended result code (for example `SQLITE_BUSY_SNAPSHOT`, 517).
    public var extendedCode: Int32
    /// SQLite's message for the error.
    public var message: String
    /// The SQL being run, if any.
    public var sql: String?

    /// The primary result code (for example `SQLITE_BUSY`, 5), which the extended code refines.
    public var code: Int32 { extendedCode & 0xFF }

    /// Creates an error from its parts.
    public init(extendedCode: Int32, message: String, sql: String? = nil) {
        self.extendedCode = extendedCode
        self.message = message
        self.sql = sql
    }

    /// The database is locked by another connection: worth retrying.
    public var isBusy: Bool { code == SQLITE_BUSY || code == SQLITE_LOCKED }
    /// The file is not a database or is damaged.
    public var isCorruption: Bool { code == SQLITE_NOTADB || code == SQLITE_CORRUPT }
    /// The disk (or the configured size limit) is full.
    public var isFull: Bool { code == SQLITE_FULL }
    /// A constraint (such as a unique key) was violated.
    public var isConstraint: Bool { code == SQLITE_CONSTRAINT }

    /// SQLite's message with its result code, in one line.
    public var description: String {
        var text = "SQLite error \(extendedCode): \(message)"
        if let sql { text += " (while running: \(sql.split(separator: "\n").joined(separator: " ")))" }
        return text
    }
}
