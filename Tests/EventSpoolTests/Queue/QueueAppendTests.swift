import Foundation
import Testing
@testable import EventSpool

@Suite("Appending events")
struct QueueAppendTests {
    @Test func appendedEventIsOnDiskWhenAppendReturns() throws {
        let folder = TemporaryFolder()
        let path = folder.file("events.sqlite")
        let queue = try QueueFixtures.open(path)
        let event = QueueFixtures.event(1)
        let id = try queue.append(event)

        // A second connection, as another process would see it.
        let raw = try RawDatabase(path)
        #expect(try raw.strings("SELECT visitor_json FROM event_bodies WHERE event_id = \(id)") == [event.visitorJSON])
        #expect(try raw.int("SELECT bytes FROM events WHERE id = \(id)") == event.byteCount)
        #expect(try raw.strings("SELECT state FROM events") == ["pending"])
        #expect(try raw.strings("SELECT c.revision || '/' || c.region || '/' || c.url FROM events e JOIN contexts c ON c.id = e.context_id")
            == ["241/US/https://logx.optimizely.com/v1/events"])
    }

    @Test func rowKeepsEverythingNeededToSendLater() throws {
        let folder = TemporaryFolder()
        let queue = try QueueFixtures.open(folder.file("events.sqlite"))
        let event = QueueFixtures.event(7, context: QueueFixtures.euContext)
        try queue.append(event)
        let batch = try #require(try queue.claimNextBatch(limits: BatchLimits(), includeOpenBatch: true))
        #expect(batch.context == QueueFixtures.euContext)
        #expect(batch.visitors == [event.visitorJSON])
        let info = try #require(try queue.list().first)
        #expect(info.kind == "conversion" && info.userId == "user-7" && info.timestampMillis == event.timestampMillis)
        #expect(info.url == "https://eu.logx.optimizely.com/v1/events")
    }

    @Test func sameUuidTwiceIsRefused() throws {
        let folder = TemporaryFolder()
        let queue = try QueueFixtures.open(folder.file("events.sqlite"))
        try queue.append(QueueFixtures.event(1))
        #expect(throws: QueueError.duplicateEvent(uuid: QueueFixtures.event(1).uuid)) {
            try queue.append(QueueFixtures.event(1))
        }
        #expect(try queue.stats().pending == 1)
    }

    @Test func uuidWhoseIndexKeySharesAnotherEventsIsStillQueuedOnce() throws {
        // The duplicate guard looks events up by a 64-bit key of the uuid (migrations 0004 and
        // 0007), among the newest events' keys in memory or in `uuid_keys`. Two different uuids
        // with one key must both be kept; the same uuid must still be refused.
        for keysToMove in [1, 1_000] {
            let folder = TemporaryFolder()
            let path = folder.file("events.sqlite")
            let first = QueueFixtures.event(1)
            let second = QueueFixtures.event(2)
            try QueueFixtures.open(path).append(first)
            // No two test uuids are known to share a key, so the stored key is made to collide;
            // a queue opened afterwards reads it from the row.
            let raw = try RawDatabase(path)
            try raw.connection.run("UPDATE events SET uuid_key = ? WHERE uuid = ?", [.integer(UUIDKey.of(second.uuid)), .text(first.uuid)])
            let queue = try QueueFixtures.open(path) { $0.recentUUIDKeysToMove = keysToMove }

            try queue.append(second)
            #expect(throws: QueueError.duplicateEvent(uuid: second.uuid)) { try queue.append(second) }
            #expect(try raw.int("SELECT count(DISTINCT uuid) FROM events WHERE uuid_key = \(UUIDKey.of(second.uuid))") == 2)
            #expect(try raw.int("SELECT count(*) FROM uuid_keys") == (keysToMove == 1 ? 2 : 0), "keys moved: \(keysToMove == 1)")
            #expect(try queue.stats().pending == 2)
        }
    }

    @Test func duplicateIsRefusedBeforeAndAfterItsKeyMovesToTheGuardTable() throws {
        // Migration 0007: the newest events' keys are held in memory, and moved into `uuid_keys`
        // (raising `uuid_keys_mark`) once there are `recentUUIDKeysToMove` of them. Both halves
        // must be consulted.
        let folder = TemporaryFolder()
        let path = folder.file("events.sqlite")
        let queue = try QueueFixtures.open(path) { $0.recentUUIDKeysToMove = 8 }
        let raw = try RawDatabase(path)
        _ = try queue.append(contentsOf: QueueFixtures.events(0..<5))
        #expect(try raw.int("SELECT count(*) FROM uuid_keys") == 0)
        #expect(try raw.int("SELECT moved_through FROM uuid_keys_mark") == 0)
        #expect(try queue.append(contentsOf: [QueueFixtures.event(3)]) == [.duplicate], "found among the newest keys")

        _ = try queue.append(contentsOf: QueueFixtures.events(5..<10))
        #expect(try raw.int("SELECT count(*) FROM uuid_keys") == 10, "moved once 8 were gathered")
        #expect(try raw.int("SELECT moved_through FROM uuid_keys_mark") == 10)
        #expect(try queue.append(contentsOf: [QueueFixtures.event(3), QueueFixtures.event(9), QueueFixtures.event(10)])
            == [.duplicate, .duplicate, .appended(id: 11)])
        #expect(try queue.stats().pending == 11)
    }

    @Test func idsReusedAfterAnotherConnectionDeletesTheNewestEventsAreStillGuarded() throws {
        // A new event gets an id above every id left, so after the newest events are deleted
        // their ids come back. A queue that knew the old events by those ids must read the new
        // ones (migration 0007: the `events_deleted` counter tells it).
        let folder = TemporaryFolder()
        let path = folder.file("events.sqlite")
        let clock = ManualEventClock()
        let appender = try QueueFixtures.open(path, clock: clock)
        let other = try QueueFixtures.open(path, clock: clock)
        _ = try appender.append(contentsOf: QueueFixtures.events(0..<3))
        let batch = try #require(try other.claimNextBatch(limits: BatchLimits(), includeOpenBatch: true))
        try other.deadLetter(batchId: batch.id, status: 400, reason: "bad")
        #expect(try other.purge(sent: false, dead: true) == 3)
        let reused = QueueFixtures.event(7)
        #expect(try other.append(reused) == 1, "the id of a deleted event")

        #expect(throws: QueueError.duplicateEvent(uuid: reused.uuid)) { try appender.append(reused) }
        #expect(try appender.append(contentsOf: QueueFixtures.events(0..<3)).allSatisfy { $0 != .duplicate }, "the deleted uuids are free again")
    }

    @Test func appendThatFailsLeavesNoKeysBehindThatHideAnotherConnectionsEvents() throws {
        // A group rolled back (the file is full) had its keys held in memory under ids that
        // another connection then uses: the queue forgets them and reads the file afresh.
        let folder = TemporaryFolder()
        let path = folder.file("events.sqlite")
        let small = try QueueFixtures.open(path) { $0.maxPageCount = 60 }
        #expect(throws: QueueError.diskFull(path: path)) { try small.append(contentsOf: QueueFixtures.events(0..<200, size: 2_000)) }
        let other = try QueueFixtures.open(path)
        _ = try other.append(contentsOf: QueueFixtures.events(200..<203))
        #expect(try small.append(contentsOf: QueueFixtures.events(200..<203)) == [.duplicate, .duplicate, .duplicate])
    }

    @Test func uuidOfAPrunedEventMayBeQueuedAgainOnce() throws {
        // Deleting an event deletes its guard key (the totals test checks every kind of delete):
        // the uuid is no longer in the queue, and is then guarded again.
        let folder = TemporaryFolder()
        let clock = ManualEventClock()
        let queue = try QueueFixtures.open(folder.file("events.sqlite"), clock: clock) { $0.sentRetentionMillis = 0 }
        _ = try queue.append(contentsOf: QueueFixtures.events(0..<3))
        let batch = try #require(try queue.claimNextBatch(limits: BatchLimits(), includeOpenBatch: true))
        try queue.markSent(batchId: batch.id, status: 204)
        clock.advance(byMillis: 1)
        #expect(try queue.pruneSent() == 3)

        let pruned = QueueFixtures.event(1)
        try queue.append(pruned)
        #expect(throws: QueueError.duplicateEvent(uuid: pruned.uuid)) { try queue.append(pruned) }
        #expect(try queue.stats().pending == 1)
    }

    @Test func twoQueuesOnOneFileShareTheDuplicateGuard() throws {
        // Two processes (here two connections) append to one file: each must see the other's
        // keys, whether new (read from the rows) or moved.
        let folder = TemporaryFolder()
        let path = folder.file("events.sqlite")
        let first = try QueueFixtures.open(path) { $0.recentUUIDKeysToMove = 4 }
        let second = try QueueFixtures.open(path) { $0.recentUUIDKeysToMove = 4 }
        try first.append(QueueFixtures.event(1))
        #expect(throws: QueueError.duplicateEvent(uuid: QueueFixtures.event(1).uuid)) { try second.append(QueueFixtures.event(1)) }
        _ = try second.append(contentsOf: QueueFixtures.events(2..<8))
        let raw = try RawDatabase(path)
        #expect(try raw.int("SELECT count(*) FROM uuid_keys") == 7, "the second queue moved all 7 keys")
        #expect(try first.append(contentsOf: QueueFixtures.events(1..<9)).filter { $0 == .duplicate }.count == 7)
        #expect(try first.stats().pending == 8)
    }

    @Test func uuidKeyIsFNV1aOfTheUTF8Bytes() {
        // Published values of 64-bit FNV-1a, so a file's keys can be checked by any tool.
        #expect(UUIDKey.of("") == Int64(bitPattern: 0xcbf2_9ce4_8422_2325))
        #expect(UUIDKey.of("a") == Int64(bitPattern: 0xaf63_dc4c_8601_ec8c))
        #expect(UUIDKey.of("foobar") == Int64(bitPattern: 0x8594_4171_f739_67e8))
    }

    @Test func groupedAppendReportsEachEvent() throws {
        let folder = TemporaryFolder()
        let queue = try QueueFixtures.open(folder.file("events.sqlite"))
        try queue.append(QueueFixtures.event(2))
        let outcomes = try queue.append(contentsOf: [QueueFixtures.event(1), QueueFixtures.event(2), QueueFixtures.event(3)])
        #expect(outcomes.count == 3)
        guard case .appended = outcomes[0], case .appended = outcomes[2] else {
            Issue.record("events 1 and 3 must be appended: \(outcomes)")
            return
        }
        #expect(outcomes[1] == .duplicate)
        #expect(try queue.list().map(\.userId) == ["user-2", "user-1", "user-3"])
    }

    @Test func fullQueueRejectsNewEventsAndCountsThem() throws {
        let folder = TemporaryFolder()
        let queue = try QueueFixtures.open(folder.file("events.sqlite")) { $0.maxEvents = 3 }
        _ = try queue.append(contentsOf: QueueFixtures.events(0..<3))
        #expect(throws: QueueError.full(maxEvents: 3, maxBytes: nil)) { try queue.append(QueueFixtures.event(3)) }
        let outcomes = try queue.append(contentsOf: QueueFixtures.events(4..<6))
        #expect(outcomes == [.rejectedFull, .rejectedFull])
        let stats = try queue.stats()
        #expect(stats.pending == 3)
        #expect(stats.rejectedFull == 3)
        #expect(try queue.list().map(\.userId) == ["user-0", "user-1", "user-2"], "the old events are kept")
    }

    @Test func byteBoundCountsVisitorBytes() throws {
        let folder = TemporaryFolder()
        let queue = try QueueFixtures.open(folder.file("events.sqlite")) { $0.maxBytes = 1_000 }
        _ = try queue.append(contentsOf: QueueFixtures.events(0..<4, size: 300))
        let stats = try queue.stats()
        #expect(stats.pending == 3)
        #expect(stats.rejectedFull == 1)
        #expect(stats.heldBytes == 900)
    }

    @Test func dropOldestMakesRoomAndCountsEveryDrop() throws {
        let folder = TemporaryFolder()
        let queue = try QueueFixtures.open(folder.file("events.sqlite")) {
            $0.maxEvents = 3
            $0.overflowPolicy = .dropOldest
        }
        _ = try queue.append(contentsOf: QueueFixtures.events(0..<3))
        // An in-flight batch is never dropped.
        let batch = try #require(try queue.claimNextBatch(limits: BatchLimits(maxEvents: 1), includeOpenBatch: true))
        #expect(batch.uuids == [QueueFixtures.event(0).uuid])
        _ = try queue.append(contentsOf: QueueFixtures.events(3..<5))
        #expect(try queue.list().map(\.userId) == ["user-0", "user-3", "user-4"])
        let stats = try queue.stats()
        #expect(stats.droppedOldest == 2)
        #expect(stats.inflight == 1 && stats.pending == 2)
        // A duplicate never costs an old event its place.
        #expect(throws: QueueError.duplicateEvent(uuid: QueueFixtures.event(4).uuid)) { try queue.append(QueueFixtures.event(4)) }
        #expect(try queue.stats().droppedOldest == 2)
    }

    @Test func appendsFromManyThreadsAreAllKept() async throws {
        let folder = TemporaryFolder()
        let queue = try QueueFixtures.open(folder.file("events.sqlite"))
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    for index in 0..<250 {
                        _ = try? queue.append(QueueFixtures.event(worker * 1_000 + index))
                    }
                }
            }
        }
        #expect(try queue.stats().pending == 1_000)
    }
}
