import Foundation
import Testing
@testable import EventSpool

@Suite("Opening a queue file")
struct QueueFileTests {
    @Test func newFileGetsTheLatestSchemaAndOwnerOnlyMode() throws {
        let folder = TemporaryFolder()
        let path = folder.file("events.sqlite")
        let queue = try QueueFixtures.open(path)
        #expect(try queue.schemaVersion() == Migration.latestVersion)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        try queue.append(QueueFixtures.event(1))
        for extra in ["-wal", "-shm"] where FileManager.default.fileExists(atPath: path + extra) {
            let extraMode = try FileManager.default.attributesOfItem(atPath: path + extra)[.posixPermissions] as? Int
            #expect(extraMode == 0o600, "\(extra) must not be readable by others")
        }
        let raw = try RawDatabase(path)
        #expect(try raw.strings("PRAGMA journal_mode") == ["wal"])
        let views = try raw.strings("SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name")
        #expect(views == ["dead_letters", "inflight_batches", "pending_events", "queue_summary"])
    }

    @Test func laterMigrationIsAppliedToAFileWithRowsAndTheirBatchesKept() throws {
        // The schema is one baseline (version 1); the next release adds a migration. Here a
        // migration defined by the test plays that part, on a file with events in every state.
        let folder = TemporaryFolder()
        let path = folder.file("v1.sqlite")
        let clock = ManualEventClock()
        let queue = try QueueFixtures.open(path, clock: clock)
        _ = try queue.append(contentsOf: QueueFixtures.events(0..<6))
        let sent = try #require(try queue.claimNextBatch(limits: BatchLimits(maxEvents: 2), includeOpenBatch: true))
        try queue.markSent(batchId: sent.id, status: 204)
        let waiting = try #require(try queue.claimNextBatch(limits: BatchLimits(maxEvents: 2), includeOpenBatch: true))
        try queue.scheduleRetry(batchId: waiting.id, notBeforeMillis: clock.nowMillis(), status: 503, error: "busy")
        queue.close()

        let version2 = Migration(version: 2, name: "event_notes", sql: """
            ALTER TABLE events ADD COLUMN note TEXT;
            UPDATE events SET note = 'kept' WHERE batch_id IS NOT NULL;
            """)
        let raw = try SQLiteConnection(path: path, readOnly: false, create: false)
        try Migrator(migrations: Migration.bundled + [version2]).migrate(raw)
        #expect(try Migrator.userVersion(raw) == 2)
        #expect(try raw.queryOne("SELECT count(*) FROM events WHERE note = 'kept'") { $0.int(0) } == 4)
        // Applying it again changes nothing.
        try Migrator(migrations: Migration.bundled + [version2]).migrate(raw)
        #expect(try Migrator.userVersion(raw) == 2)
        // A later migration that fails leaves the file at the version before it, rows intact.
        let broken = Migration(version: 3, name: "broken", sql: "ALTER TABLE events ADD COLUMN other TEXT; SELECT * FROM no_such_table;")
        #expect(throws: SQLiteError.self) { try Migrator(migrations: Migration.bundled + [version2, broken]).migrate(raw) }
        #expect(try Migrator.userVersion(raw) == 2)
        #expect(try raw.query("SELECT name FROM pragma_table_info('events') WHERE name = 'other'") { $0.text(0) }.isEmpty)
        #expect(try raw.queryOne("SELECT count(*) FROM events") { $0.int(0) } == 6)
        #expect(try raw.queryOne("SELECT count(*) FROM events WHERE batch_id = \(waiting.id)") { $0.int(0) } == 2)
        raw.close()
    }

    /// A file already at the latest version is only read when opened: a `sqlite3` session in a
    /// transaction, or another process's long write, does not stop a service from starting.
    @Test func anUpToDateFileOpensWhileAnotherConnectionHoldsTheWriteLock() throws {
        let folder = TemporaryFolder()
        let path = folder.file("events.sqlite")
        let first = try QueueFixtures.open(path)
        try first.append(QueueFixtures.event(1))
        first.close()
        let holder = try SQLiteConnection(path: path, readOnly: false, create: false)
        try holder.execute("BEGIN IMMEDIATE")
        // No wait at all for a lock: any write lock the opening took would fail at once.
        let queue = try QueueFixtures.open(path) { $0.busyTimeoutMillis = 0 }
        #expect(try queue.stats().pending == 1)
        try holder.execute("COMMIT")
        try queue.append(QueueFixtures.event(2))
        #expect(try queue.stats().pending == 2)
        holder.close()
    }

    @Test func baselineSchemaIsVersionOne() throws {
        #expect(Migration.bundled.map(\.version) == [1])
        #expect(Migration.latestVersion == 1)
    }

    @Test func fileFromANewerLibraryIsRefusedAndLeftUntouched() throws {
        let folder = TemporaryFolder()
        let path = folder.file("newer.sqlite")
        let raw = try SQLiteConnection(path: path, readOnly: false, create: true)
        try raw.execute("CREATE TABLE future (x); PRAGMA user_version = 99")
        raw.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: path))

        #expect(throws: QueueError.newerSchema(path: path, fileVersion: 99, libraryVersion: Migration.latestVersion)) {
            try QueueFixtures.open(path)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        let message = QueueError.newerSchema(path: path, fileVersion: 99, libraryVersion: 2).description
        #expect(message.contains("99") && message.contains("2") && message.contains("upgrade EventSpool"))
    }

    @Test func fileThatIsNotADatabaseIsATypedError() throws {
        let folder = TemporaryFolder()
        let path = folder.file("garbage.sqlite")
        let garbage = Data(String(repeating: "this is not a database ", count: 300).utf8)
        try garbage.write(to: URL(fileURLWithPath: path))

        do {
            _ = try QueueFixtures.open(path)
            Issue.record("opening garbage must fail")
        } catch let error as QueueError {
            guard case .corrupt(let errorPath, _) = error else {
                Issue.record("expected .corrupt, got \(error)")
                return
            }
            #expect(errorPath == path)
            #expect(error.description.contains("moveAside"))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage, "a damaged file is never changed")
    }

    @Test func damagedFileIsMovedAsideWhenAskedAndANewQueueStarts() throws {
        let folder = TemporaryFolder()
        let path = folder.file("events.sqlite")
        let garbage = Data(repeating: 0xAB, count: 8192)
        try garbage.write(to: URL(fileURLWithPath: path))
        try Data("stray wal".utf8).write(to: URL(fileURLWithPath: path + "-wal"))

        let queue = try QueueFixtures.open(path) { $0.onCorruption = .moveAside }
        try queue.append(QueueFixtures.event(1))
        #expect(try queue.stats().pending == 1)

        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        let moved = names.filter { $0.hasPrefix("events.sqlite.corrupt-") }
        #expect(moved.count == 2, "the file and its -wal are kept, renamed: \(names)")
        let main = try #require(moved.first { !$0.hasSuffix("-wal") })
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder.file(main))) == garbage)
    }

    @Test func pathThatIsAFolderIsATypedError() throws {
        let folder = TemporaryFolder()
        #expect(throws: QueueError.pathIsDirectory(path: folder.path)) {
            try QueueFixtures.open(folder.path)
        }
    }

    @Test func missingOrReadOnlyFolderIsATypedError() throws {
        let folder = TemporaryFolder()
        let missing = folder.file("no/such/folder/events.sqlite")
        do {
            _ = try QueueFixtures.open(missing)
            Issue.record("a missing folder must fail")
        } catch let error as QueueError {
            guard case .cannotOpen(_, let reason) = error else { Issue.record("got \(error)"); return }
            #expect(reason.contains("does not exist"))
        }

        // root may write anywhere a mode allows nothing, so use a folder no one may create files in.
        let readOnlyFolder: String
        if geteuid() == 0 {
            readOnlyFolder = "/sys"
        } else {
            readOnlyFolder = folder.file("locked")
            try FileManager.default.createDirectory(atPath: readOnlyFolder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o500])
        }
        do {
            _ = try QueueFixtures.open("\(readOnlyFolder)/events.sqlite")
            Issue.record("a read-only folder must fail")
        } catch let error as QueueError {
            guard case .cannotOpen(_, let reason) = error else { Issue.record("got \(error)"); return }
            #expect(reason.contains("not writable"))
            #expect(error.description.contains("choose another path"))
        }
    }

    @Test func anotherApplicationsDatabaseIsNotTouched() throws {
        let folder = TemporaryFolder()
        let path = folder.file("app.sqlite")
        let raw = try SQLiteConnection(path: path, readOnly: false, create: true)
        try raw.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
        raw.close()
        #expect(throws: QueueError.notAQueue(path: path)) { try QueueFixtures.open(path) }
        let check = try RawDatabase(path)
        #expect(try check.strings("SELECT name FROM sqlite_master") == ["users"])
    }

    @Test func readOnlyOpeningNeverCreatesOrChangesAFile() throws {
        let folder = TemporaryFolder()
        let path = folder.file("events.sqlite")
        #expect(throws: QueueError.noQueueFile(path: path)) {
            try QueueFixtures.open(path) { $0.readOnly = true }
        }
        #expect(!FileManager.default.fileExists(atPath: path))

        let writer = try QueueFixtures.open(path)
        try writer.append(QueueFixtures.event(1))
        writer.close()
        let reader = try QueueFixtures.open(path) { $0.readOnly = true }
        #expect(try reader.stats().pending == 1)
        #expect(throws: QueueError.readOnly(path: path)) { try reader.append(QueueFixtures.event(2)) }
    }
}

@Suite("Process-wide SQLite settings")
struct SQLiteProcessSettingsTests {
    @Test func memoryStatisticsAreTurnedOffOnlyWhenTheApplicationAsksBeforeSQLiteIsUsed() async throws {
        // This test process has used SQLite already: the call changes nothing and says so.
        let folder = TemporaryFolder()
        _ = try QueueFixtures.open(folder.file("events.sqlite"))
        #expect(SQLiteProcessSettings.disableMemoryStatistics() == false)
        // A process that asks first gets it, and its queue works as before.
        let result = await (try ChildProcess("EventSpoolTestHelper", ["memory-statistics", folder.file("child.sqlite")])).finish()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("disabled true\nok "))
    }
}
