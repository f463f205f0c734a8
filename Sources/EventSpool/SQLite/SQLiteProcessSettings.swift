import CSQLite

/// SQLite settings that belong to the whole process, not to one connection. EventSpool never
/// changes them itself (another part of the application may use SQLite too); an application
/// that wants one calls it, once, before any SQLite connection is opened, as it would set
/// GRDB's `Database.logError`.
///
/// ```swift
/// // At startup, before the first EventQueue or any other SQLite use:
/// SQLiteProcessSettings.disableMemoryStatistics()
/// ```
public enum SQLiteProcessSettings: Sendable {
    /// Turns off SQLite's memory statistics (`SQLITE_CONFIG_MEMSTATUS`) for the whole process.
    /// They take a global mutex on every SQLite allocation and free; without them appends were
    /// measured about 10% faster on this project's machine (see the README's Performance).
    /// What is given up, process-wide: `sqlite3_memory_used()` and `sqlite3_memory_highwater()`
    /// read zero, and `sqlite3_soft_heap_limit64()` no longer limits anything.
    ///
    /// - Returns: `true` when the setting took effect; `false` when SQLite was already in use in
    ///   this process (then nothing changed).
    @discardableResult
    public static func disableMemoryStatistics() -> Bool {
        eventspool_sqlite_disable_memory_statistics() == SQLITE_OK
    }
}
