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

    @Test func everyOlderVersionIsUpgradedWithItsRowsIntact() throws {
        for version in 1..<Migration.latestVersion {
            let folder = TemporaryFolder()
            let path = folder.file("old.sqlite")
            let raw = try SQLiteConnection(path: path, readOnly: false, create: true)
            try Migrator().migrate(raw, upTo: version)
            #expect(try Migrator.userVersion(raw) == version)
            try raw.execute(
                """
                INSERT INTO contexts (id, account_id, project_id, revision, region, anonymize_ip, client_name, client_version, url)
                VALUES (1, 'a', 'p', '7', 'US', 1, 'swift-eventspool', '0.1.0', 'https://logx.optimizely.com/v1/events');
                """
            )
            // The row as the library of that version wrote it: from version 4 on, with its uuid key,
            // its visitor JSON apart, and counted in `totals` by the library; in versions 5 and 6,
            // with its key in the duplicate guard's table of new keys (from version 7 on, the
            // library reads the keys of new events from their rows).
            try raw.execute(
                version < 4
                    ? """
                    INSERT INTO events (uuid, kind, user_id, context_id, visitor_json, bytes, event_time, enqueued_at)
                    VALUES ('u-1', 'conversion', 'alice', 1, '{"visitor_id": "alice"}', 23, 1, 1);
                    """
                    : """
                    INSERT INTO events (uuid, uuid_key, kind, user_id, context_id, bytes, event_time, enqueued_at)
                    VALUES ('u-1', eventspool_uuid_key('u-1'), 'conversion', 'alice', 1, 23, 1, 1);
                    INSERT INTO event_bodies (event_id, visitor_json) VALUES (last_insert_rowid(), '{"visitor_id": "alice"}');
                    UPDATE totals SET events = events + 1, bytes = bytes + 23 WHERE state = 'pending';
                    """
            )
            if version == 5 || version == 6 {
                try raw.execute("INSERT INTO recent_uuid_keys (uuid_key, event_id) SELECT uuid_key, id FROM events")
            }
            raw.close()

            let queue = try QueueFixtures.open(path)
            #expect(try queue.schemaVersion() == Migration.latestVersion)
            let events = try queue.list()
            #expect(events.map(\.uuid) == ["u-1"])
            #expect(events.first?.userId == "alice")
            #expect(try queue.stats().pending == 1)
            // The duplicate guard knows the upgraded row (version 4 computes its uuid key, version 5
            // moves it into `uuid_keys`).
            #expect(throws: QueueError.duplicateEvent(uuid: "u-1")) { try queue.append(QueueFixtures.event(1, uuid: "u-1")) }
        }
    }

    @Test func batchesOfAVersion7FileKeepTheirMembersAndStatesThroughTheRebuildOfVersion8() throws {
        // Migration 0008 rebuilds `events` and `batches`. A batch waiting for its retry must be
        // claimed again whole, and a sent one must stay sent and be pruned with its events.
        let folder = TemporaryFolder()
        let path = folder.file("v7.sqlite")
        let raw = try SQLiteConnection(path: path, readOnly: false, create: true)
        try Migrator().migrate(raw, upTo: 7)
        let visitor = #"{"visitor_id": "alice"}"#
        try raw.execute(
            """
            INSERT INTO contexts (id, account_id, project_id, revision, region, anonymize_ip, client_name, client_version, url)
            VALUES (1, 'a', 'p', '7', 'US', 1, 'swift-eventspool', '0.1.0', 'https://logx.optimizely.com/v1/events');
            INSERT INTO batches (id, context_id, state, event_count, bytes, attempts, created_at, finished_at, last_status,
                                 first_event_id, last_event_id, event_bytes)
            VALUES (1, 1, 'sent', 2, 500, 1, 1, 1, 204, 1, 2, 46),
                   (2, 1, 'retry', 2, 500, 1, 1, NULL, 503, 3, 4, 46);
            INSERT INTO events (id, uuid, uuid_key, kind, user_id, context_id, bytes, event_time, enqueued_at, state, batch_id, attempts, finished_at)
            VALUES (1, 'u-1', eventspool_uuid_key('u-1'), 'conversion', 'alice', 1, 23, 1, 1, 'sent', 1, 1, 1),
                   (2, 'u-2', eventspool_uuid_key('u-2'), 'conversion', 'alice', 1, 23, 1, 1, 'sent', 1, 1, 1),
                   (3, 'u-3', eventspool_uuid_key('u-3'), 'conversion', 'alice', 1, 23, 1, 1, 'pending', 2, 1, NULL),
                   (4, 'u-4', eventspool_uuid_key('u-4'), 'conversion', 'alice', 1, 23, 1, 1, 'pending', 2, 1, NULL),
                   (5, 'u-5', eventspool_uuid_key('u-5'), 'conversion', 'alice', 1, 23, 1, 1, 'pending', NULL, 0, NULL);
            INSERT INTO event_bodies (event_id, visitor_json) SELECT id, '\(visitor)' FROM events;
            UPDATE totals SET events = 3, bytes = 69 WHERE state = 'pending';
            UPDATE totals SET events = 2, bytes = 46 WHERE state = 'sent';
            """
        )
        raw.close()

        let clock = ManualEventClock()
        let queue = try QueueFixtures.open(path, clock: clock) { $0.sentRetentionMillis = 0 }
        #expect(try queue.schemaVersion() == Migration.latestVersion)
        let stats = try queue.stats()
        #expect((stats.pending, stats.sent) == (3, 2))
        let retried = try #require(try queue.claimNextBatch(limits: BatchLimits(maxEvents: 10), includeOpenBatch: true))
        #expect(retried.id == 2 && retried.uuids == ["u-3", "u-4"] && retried.attempts == 2)
        try queue.markSent(batchId: retried.id, status: 204)
        let last = try #require(try queue.claimNextBatch(limits: BatchLimits(maxEvents: 10), includeOpenBatch: true))
        #expect(last.uuids == ["u-5"])
        #expect(try queue.pruneSent() == 4, "the sent events of the old batches are pruned through them")
        #expect(throws: QueueError.duplicateEvent(uuid: "u-5")) { try queue.append(QueueFixtures.event(5, uuid: "u-5")) }
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
