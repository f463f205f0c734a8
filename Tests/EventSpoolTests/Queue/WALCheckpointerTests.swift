import Foundation
import Logging
import Testing
@testable import EventSpool

@Suite("Checkpointing the log")
struct WALCheckpointerTests {
    /// A queue file in WAL mode and a raw writer on it, with a checkpointer at the given
    /// thresholds; the database file's size before any page of the log was copied into it.
    private func writer(in folder: TemporaryFolder, backgroundFrames: Int, inlineFrames: Int) throws -> (SQLiteConnection, WALCheckpointer, String) {
        let path = folder.file("events.sqlite")
        try QueueFixtures.open(path).close()
        let writer = try SQLiteConnection(path: path, readOnly: false, create: false)
        _ = try writer.queryOne("PRAGMA journal_mode = WAL") { $0.text(0) }
        try writer.execute("CREATE TABLE filler (bytes BLOB)")
        let checkpointer = WALCheckpointer.install(
            on: writer, path: path, logger: Logger(label: "test"), backgroundFrames: backgroundFrames, stepFrames: 10, inlineFrames: inlineFrames
        )
        return (writer, checkpointer, path)
    }

    /// Commits about 100 pages of log in ten transactions.
    private func fillLog(_ writer: SQLiteConnection) throws {
        for _ in 0..<10 {
            try writer.transaction(immediate: true) { () throws in
                for _ in 0..<10 { try writer.run("INSERT INTO filler VALUES (randomblob(3000))") }
            }
        }
    }

    private func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int) ?? 0
    }

    @Test func logPastTheBackgroundThresholdIsCopiedIntoTheFileByAnotherConnection() async throws {
        let folder = TemporaryFolder()
        let (writer, checkpointer, path) = try writer(in: folder, backgroundFrames: 20, inlineFrames: 1_000_000)
        let before = fileSize(path)
        try fillLog(writer)
        // The rows reach the database file only through a checkpoint. How much of the log the
        // background connection has copied depends on when its thread ran; at least the 20
        // frames (80 KB) that made the first commit past the threshold ask for it.
        checkpointer.waitForScheduledCheckpoint()
        #expect(fileSize(path) > before + 60_000, "the background checkpoint copied the log into the file")
        checkpointer.close()
        writer.close()
    }

    @Test func logPastTheInlineThresholdIsCopiedByTheCommittingConnection() throws {
        let folder = TemporaryFolder()
        let (writer, checkpointer, path) = try writer(in: folder, backgroundFrames: 1_000_000, inlineFrames: 20)
        let before = fileSize(path)
        try fillLog(writer)
        #expect(fileSize(path) > before + 250_000, "copied before the last commit returned")
        checkpointer.close()
        writer.close()
    }

    @Test func logBelowBothThresholdsStaysInTheLog() throws {
        let folder = TemporaryFolder()
        let (writer, checkpointer, path) = try writer(in: folder, backgroundFrames: 1_000_000, inlineFrames: 1_000_000)
        let before = fileSize(path)
        try fillLog(writer)
        #expect(fileSize(path) == before, "SQLite's own automatic checkpoint is replaced")
        #expect(fileSize(path + "-wal") > 250_000)
        checkpointer.close()
        writer.close()
    }

    @Test func closedCheckpointerCopiesNothing() throws {
        let folder = TemporaryFolder()
        let (writer, checkpointer, path) = try writer(in: folder, backgroundFrames: 20, inlineFrames: 1_000_000)
        checkpointer.close()
        let before = fileSize(path)
        try fillLog(writer)
        checkpointer.close()
        #expect(fileSize(path) == before)
        writer.close()
    }
}
