/// Applies the bundled migrations of `Migrations/` to a connection, in order, each in its own
/// transaction, tracking the version in `PRAGMA user_version`.
struct Migrator {
    let migrations: [Migration]

    init(migrations: [Migration] = Migration.bundled) {
        self.migrations = migrations
    }

    /// The version this migrator brings a file to.
    var latestVersion: Int { migrations.last?.version ?? 0 }

    /// Brings the file to `targetVersion` (the latest by default). Each migration runs in one
    /// `BEGIN IMMEDIATE` transaction that also sets `user_version`, so a crash leaves the file
    /// at one version or the next, never in between, and two processes opening a new file at
    /// once apply each migration once. A file already at the target is only read: opening it
    /// takes no write lock, so it opens while another connection holds one (a `sqlite3`
    /// session in a transaction, another process's long write).
    func migrate(_ connection: SQLiteConnection, upTo targetVersion: Int? = nil) throws {
        let target = targetVersion ?? latestVersion
        let version = try Self.userVersion(connection)
        for migration in migrations where migration.version > version && migration.version <= target {
            try connection.transaction(immediate: true) { () throws in
                // Read inside the write transaction: another process may have migrated meanwhile.
                let current = try Self.userVersion(connection)
                guard current < migration.version else { return }
                guard current == migration.version - 1 else {
                    throw SQLiteError(extendedCode: 1, message: "schema version \(current) cannot be upgraded by migration \(migration.version)")
                }
                try connection.execute(migration.sql)
                try connection.execute("PRAGMA user_version = \(migration.version)")
            }
        }
    }

    /// The file's `PRAGMA user_version`.
    static func userVersion(_ connection: SQLiteConnection) throws(SQLiteError) -> Int {
        try connection.queryOne("PRAGMA user_version") { $0.int(0) } ?? 0
    }
}
