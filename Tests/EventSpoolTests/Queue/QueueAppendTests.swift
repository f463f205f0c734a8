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
        #expect(try raw.strings("SELECT coalesce(batch_id, 'none') FROM events") == ["none"], "pending: in no batch yet")
        #expect(try raw.strings("SELECT c.revision || '/' || c.region || '/' || c.url FROM events e JOIN contexts c ON c.id = e.context_id")
            == ["241/US/https://logx.optimizely.com/v1/events"])
    }

    /// `UserEvent.serialized()`, public for processors of one's own: a user event queued by hand
    /// is stored exactly as `process` stores it, and sent as the one-event request body the
    /// official SDK would send.
    @Test func aUserEventQueuedByHandIsStoredAsTheProcessorStoresIt() async throws {
        let folder = TemporaryFolder()
        let factory = UserEventFactory(config: try ConformanceFixtures.config)
        let event = try factory.makeConversion(eventKey: "purchase", userId: "alice", attributes: ["age": 31], tags: ["revenue": 1999])
        let byHand = try QueueFixtures.open(folder.file("by-hand.sqlite"))
        try byHand.append(event.serialized())
        let processor = BatchEventProcessor(queue: try QueueFixtures.open(folder.file("processor.sqlite")), dispatcher: ScriptedDispatcher())
        try await processor.process(event)
        let stored = try RawDatabase(folder.file("by-hand.sqlite")).strings("SELECT visitor_json FROM event_bodies")
        #expect(stored == (try RawDatabase(folder.file("processor.sqlite")).strings("SELECT visitor_json FROM event_bodies")))
        let batch = try #require(try byHand.claimNextBatch(limits: BatchLimits(), includeOpenBatch: true))
        #expect(LogEvent.batch(context: batch.context, visitors: batch.visitors).bodyText == LogEvent.single(event).bodyText)
        await processor.stop()
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

    @Test func idsReusedAfterAnotherConnectionDeletesTheNewestEventsAreStillGuarded() throws {
        // A new event gets an id above every id left, so after the newest events are deleted
        // their ids come back: the guard is by uuid, whatever the ids.
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

    @Test func appendThatFailsLeavesNothingBehindThatHidesAnotherConnectionsEvents() throws {
        // A group rolled back (the file is full) had handed out ids that another connection
        // then uses: the rolled-back events are not taken for queued ones.
        let folder = TemporaryFolder()
        let path = folder.file("events.sqlite")
        let small = try QueueFixtures.open(path) { $0.maxPageCount = 60 }
        #expect(throws: QueueError.diskFull(path: path)) { try small.append(contentsOf: QueueFixtures.events(0..<200, size: 2_000)) }
        let other = try QueueFixtures.open(path)
        _ = try other.append(contentsOf: QueueFixtures.events(200..<203))
        #expect(try small.append(contentsOf: QueueFixtures.events(200..<203)) == [.duplicate, .duplicate, .duplicate])
    }

    @Test func uuidOfAPrunedEventMayBeQueuedAgainOnce() throws {
        // A pruned event is no longer in the queue: its uuid may come again, and is then
        // guarded again.
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
        // Two processes (here two connections) append to one file: each sees the other's events.
        let folder = TemporaryFolder()
        let path = folder.file("events.sqlite")
        let first = try QueueFixtures.open(path)
        let second = try QueueFixtures.open(path)
        try first.append(QueueFixtures.event(1))
        #expect(throws: QueueError.duplicateEvent(uuid: QueueFixtures.event(1).uuid)) { try second.append(QueueFixtures.event(1)) }
        _ = try second.append(contentsOf: QueueFixtures.events(2..<8))
        #expect(try first.append(contentsOf: QueueFixtures.events(1..<9)).filter { $0 == .duplicate }.count == 7)
        #expect(try first.stats().pending == 8)
    }

    @Test func duplicateGuardRefusesAGeneratedTimeOrderedUuidAlreadyQueued() throws {
        // The library's own uuids are version 7, increasing: a repeat is refused all the same.
        let folder = TemporaryFolder()
        let queue = try QueueFixtures.open(folder.file("events.sqlite"))
        let factory = UserEventFactory(config: try ConformanceFixtures.config, logger: UserEventFactory.silentLogger)
        let events = try (0..<3).map { try factory.makeConversion(eventKey: "purchase", userId: "u\($0)").serialized() }
        #expect(try queue.append(contentsOf: events).allSatisfy { $0 != .duplicate })
        #expect(throws: QueueError.duplicateEvent(uuid: events[1].uuid)) { try queue.append(events[1]) }
        #expect(try queue.append(contentsOf: [events[2], events[0]]) == [.duplicate, .duplicate])
        #expect(try queue.stats().pending == 3)
    }

    @Test func duplicateGuardIsAUniqueIndexOnTheUuid() throws {
        // What a reader of the schema sees: no uuid can be inserted twice, by EventQueue or by hand.
        let folder = TemporaryFolder()
        let path = folder.file("events.sqlite")
        let queue = try QueueFixtures.open(path)
        try queue.append(QueueFixtures.event(1))
        #expect(try queue.append(contentsOf: [QueueFixtures.event(1), QueueFixtures.event(1, uuid: "other")]).map { $0 == .duplicate } == [true, false])
        let raw = try RawDatabase(path)
        #expect(throws: SQLiteError.self) {
            try raw.connection.run("INSERT INTO events (uuid, kind, user_id, context_id, bytes, event_time, enqueued_at) SELECT uuid, kind, user_id, context_id, bytes, event_time, enqueued_at FROM events LIMIT 1")
        }
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
