/// One numbered SQL file of `Migrations/`, compiled into the library by `MigrationsPlugin`.
struct Migration: Sendable {
    /// The `PRAGMA user_version` a file has once this migration is applied.
    let version: Int
    /// The file name without its number and extension (`queue_tables` for `0001_queue_tables.sql`).
    let name: String
    /// The SQL text, applied in one transaction.
    let sql: String

    /// The schema version this build of the library creates and understands.
    static var latestVersion: Int { bundled.last?.version ?? 0 }
}
