import CEventSpoolVFS
import CSQLite
import Foundation
import Testing
@testable import EventSpool

/// EventSpool's VFS (`Sources/CEventSpoolVFS`) gathers the writes to a write-ahead log and
/// writes them once per commit. What is in the files must be exactly what SQLite wrote.
@Suite("Writing the log once per commit")
struct WALWriteBufferTests {
    @Test func connectionsOpenFilesThroughEventSpoolsVFS() throws {
        let folder = TemporaryFolder()
        _ = try SQLiteConnection(path: folder.file("any.sqlite"), readOnly: false, create: true)
        #expect(sqlite3_vfs_find(EVENTSPOOL_VFS_NAME) != nil)
    }

    @Test func commitLargerThanTheBufferAndThePageCacheIsReadBackIntactFromTheLogAlone() throws {
        // One transaction of 20 MB (more than the 16 MB buffer) through a page cache of 16
        // pages: SQLite spills pages to the log mid-transaction, writes some of them again in
        // place, and rewrites the checksums of those frames when it commits. Another connection
        // must read it all, and so must a copy of the files taken before any checkpoint, which
        // rebuilds its index from the log's frames and checksums alone.
        let folder = TemporaryFolder()
        let path = folder.file("big.sqlite")
        let writer = try SQLiteConnection(path: path, readOnly: false, create: true)
        _ = try writer.queryOne("PRAGMA journal_mode = WAL") { $0.text(0) }
        try writer.execute("PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = 16")
        try writer.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, k INTEGER NOT NULL, body BLOB NOT NULL); CREATE INDEX rows_k ON rows (k)")
        let count = 20_000
        try writer.transaction(immediate: true) { () throws in
            for i in 0..<count {
                try writer.run("INSERT INTO rows (k, body) VALUES (?, zeroblob(1000))", [.int((i * 7_919) % 20_011)])
            }
            try writer.run("UPDATE rows SET k = k + 1 WHERE id % 3 = 0")
        }
        let expectedSum = (0..<count).reduce(0) { $0 + ($1 * 7_919) % 20_011 + (($1 + 1) % 3 == 0 ? 1 : 0) }

        func expectIntact(_ connection: SQLiteConnection, _ what: String) throws {
            let (rows, sum) = try #require(try connection.queryOne("SELECT count(*), sum(k) FROM rows") { ($0.int(0), $0.int(1)) })
            #expect(rows == count && sum == expectedSum, "\(what)")
            #expect(try connection.queryOne("PRAGMA integrity_check") { $0.text(0) } == "ok", "\(what)")
        }
        try expectIntact(try SQLiteConnection(path: path, readOnly: true, create: false), "another connection")

        let copy = folder.file("copy.sqlite")
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        try FileManager.default.copyItem(atPath: path + "-wal", toPath: copy + "-wal")
        #expect(try SQLiteConnection(path: copy, readOnly: true, create: false).queryOne("SELECT count(*) FROM rows") { $0.int(0) } == count)
        try expectIntact(try SQLiteConnection(path: copy, readOnly: false, create: false), "a copy recovered from its log")
    }

    @Test func manySmallCommitsAreEachVisibleToAnotherConnectionWhenCommitReturns() throws {
        let folder = TemporaryFolder()
        let path = folder.file("small.sqlite")
        let writer = try SQLiteConnection(path: path, readOnly: false, create: true)
        _ = try writer.queryOne("PRAGMA journal_mode = WAL") { $0.text(0) }
        // As the queue commits: without a sync, so nothing but the VFS itself writes the buffer.
        try writer.execute("PRAGMA synchronous = NORMAL; CREATE TABLE rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        // SQLite calls this hook once a commit is published to other connections: its frames
        // must be in the file by then.
        let logSizes = LockedValue<[(frames: Int, bytes: Int)]>([])
        writer.onWALCommit { frames in
            let bytes = ((try? FileManager.default.attributesOfItem(atPath: path + "-wal"))?[.size] as? Int) ?? 0
            logSizes.withLock { $0.append((frames, bytes)) }
        }
        let reader = try SQLiteConnection(path: path, readOnly: true, create: false)
        for i in 1...200 {
            try writer.transaction(immediate: true) { () throws in
                for _ in 0..<(i % 7) { try writer.run("INSERT INTO rows (body) VALUES (?)", [.text(String(repeating: "x", count: 900))]) }
                try writer.run("INSERT INTO rows (body) VALUES ('last')")
            }
            let seen = try reader.queryOne("SELECT count(*) FROM rows WHERE body = 'last'") { $0.int(0) }
            #expect(seen == i)
        }
        let sizes = logSizes.withLock { $0 }
        #expect(sizes.count == 200)
        for size in sizes {
            // The log's header, then each frame: its 24-byte header and a 4 KB page.
            #expect(size.bytes >= 32 + size.frames * (24 + 4_096), "\(size.frames) frames published, \(size.bytes) bytes in the file")
        }
    }
}
