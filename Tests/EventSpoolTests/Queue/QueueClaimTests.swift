import Foundation
import Testing
@testable import EventSpool

@Suite("Claiming batches and recording outcomes")
struct QueueClaimTests {
    let folder = TemporaryFolder()
    let clock = ManualEventClock()

    func openQueue(_ name: String = "events.sqlite") throws -> EventQueue {
        try QueueFixtures.open(folder.file(name), clock: clock)
    }

    @Test func backlogIsClaimedOldestFirstInBatchSizeRuns() throws {
        let queue = try openQueue()
        _ = try queue.append(contentsOf: QueueFixtures.events(0..<25))
        var batches: [[String]] = []
        while let batch = try queue.claimNextBatch(limits: BatchLimits(maxEvents: 10), includeOpenBatch: true) {
            batches.append(batch.members.map { String($0.uuid.suffix(2)) })
            try queue.markSent(batchId: batch.id, status: 204)
        }
        #expect(batches.map(\.count) == [10, 10, 5])
        #expect(batches.flatMap { $0 } == (0..<25).map { String(format: "%02d", $0) })
    }

    @Test func openBatchWaitsUnlessFlushed() throws {
        let queue = try openQueue()
        _ = try queue.append(contentsOf: QueueFixtures.events(0..<3))
        #expect(try queue.claimNextBatch(limits: BatchLimits(maxEvents: 10), includeOpenBatch: false) == nil)
        #expect(try queue.stats().inflight == 0)
        let batch = try #require(try queue.claimNextBatch(limits: BatchLimits(maxEvents: 10), includeOpenBatch: true))
        #expect(batch.members.count == 3)
    }

    @Test func contextChangeClosesTheOpenBatch() throws {
        let queue = try openQueue()
        _ = try queue.append(contentsOf: QueueFixtures.events(0..<2, context: QueueFixtures.context(revision: "241")))
        _ = try queue.append(contentsOf: QueueFixtures.events(2..<3, context: QueueFixtures.context(revision: "242")))
        let first = try #require(try queue.claimNextBatch(limits: BatchLimits(maxEvents: 10), includeOpenBatch: false))
        #expect(first.members.count == 2)
        #expect(first.context.revision == "241")
        // The new revision's batch is open: it waits.
        #expect(try queue.claimNextBatch(limits: BatchLimits(maxEvents: 10), includeOpenBatch: false) == nil)
    }

    @Test func regionIsPartOfTheContext() throws {
        let queue = try openQueue()
        _ = try queue.append(contentsOf: [QueueFixtures.event(0), QueueFixtures.event(1, context: QueueFixtures.euContext)])
        let first = try #require(try queue.claimNextBatch(limits: BatchLimits(), includeOpenBatch: true))
        let second = try #require(try queue.claimNextBatch(limits: BatchLimits(), includeOpenBatch: true))
        #expect(first.context.endpoint == "https://logx.optimizely.com/v1/events")
        #expect(second.context.endpoint == "https://eu.logx.optimizely.com/v1/events")
    }

    @Test func byteLimitCutsTheBatch() throws {
        let queue = try openQueue()
        _ = try queue.append(contentsOf: QueueFixtures.events(0..<10, size: 1_000))
        let limits = BatchLimits(maxEvents: 10, maxBytes: LogEvent.bodyByteCount(context: QueueFixtures.context, visitorByteCounts: [1_000, 1_000, 1_000]))
        let batch = try #require(try queue.claimNextBatch(limits: limits, includeOpenBatch: false))
        #expect(batch.members.count == 3)
        #expect(batch.bodyBytes == limits.maxBytes)
        #expect(LogEvent.batch(context: batch.context, visitors: batch.visitors).body.count == batch.bodyBytes, "the recorded size is the real body size")
    }

    @Test func claimedBatchIsInFlightInOnePlaceOnly() throws {
        let queue = try openQueue()
        _ = try queue.append(contentsOf: QueueFixtures.events(0..<10))
        let other = try openQueue()
        let mine = try #require(try queue.claimNextBatch(limits: BatchLimits(maxEvents: 5), includeOpenBatch: true))
        let theirs = try #require(try other.claimNextBatch(limits: BatchLimits(maxEvents: 5), includeOpenBatch: true))
        #expect(Set(mine.uuids).isDisjoint(with: theirs.uuids))
        #expect(try other.claimNextBatch(limits: BatchLimits(maxEvents: 5), includeOpenBatch: true) == nil)
    }

    @Test func sentMarksEveryMemberSent() throws {
        let queue = try openQueue()
        _ = try queue.append(contentsOf: QueueFixtures.events(0..<4))
        let batch = try #require(try queue.claimNextBatch(limits: BatchLimits(), includeOpenBatch: true))
        #expect(try queue.stats().inflight == 4)
        try queue.markSent(batchId: batch.id, status: 204)
        try queue.markSent(batchId: batch.id, status: 204)  // twice is harmless
        let stats = try queue.stats()
        #expect(stats.sent == 4 && stats.inflight == 0 && stats.pending == 0)
        #expect(stats.batchesSent == 1 && stats.eventsSent == 4)
    }

    @Test func claimedEventsPointAtTheirBatchAndTheBatchSaysTheirState() throws {
        let queue = try openQueue()
        _ = try queue.append(contentsOf: QueueFixtures.events(0..<6))
        let raw = try RawDatabase(folder.file("events.sqlite"))
        let batch = try #require(try queue.claimNextBatch(limits: BatchLimits(maxEvents: 4), includeOpenBatch: true))
        // From the claim on, each event's row points at its batch, whose row says it is in flight.
        #expect(try raw.strings("SELECT coalesce(batch_id, '-') FROM events ORDER BY id") == ["\(batch.id)", "\(batch.id)", "\(batch.id)", "\(batch.id)", "-", "-"])
        #expect(try raw.strings("SELECT state || ':' || event_count || ':' || attempts FROM batches") == ["inflight:4:1"])
        #expect(try raw.int("SELECT count(*) FROM events WHERE batch_id IS NULL") == 2, "what is waiting, from the table alone")
        #expect(try raw.int("SELECT count(*) FROM events e JOIN batches b ON b.id = e.batch_id WHERE b.state = 'inflight'") == 4)
        #expect(try raw.int("SELECT count(*) FROM pending_events") == 2)
        #expect(try raw.strings("SELECT pending || ',' || inflight FROM queue_summary") == ["2,4"])
        #expect(try queue.list(state: .inflight).map(\.uuid) == batch.uuids)
        #expect(try queue.list(state: .inflight).allSatisfy { $0.batchId == batch.id && $0.attempts == 1 })

        // A 2xx writes the batch's row: its events already point at it and are not rewritten.
        let eventRows = "SELECT group_concat(id || ':' || uuid || ':' || coalesce(batch_id, '-'), ',') FROM events"
        let before = try raw.strings(eventRows)
        try queue.markSent(batchId: batch.id, status: 204)
        #expect(try raw.strings(eventRows) == before)
        #expect(try raw.strings("SELECT state || ':' || last_status FROM batches") == ["sent:204"])
        #expect(try raw.int("SELECT count(*) FROM events e JOIN batches b ON b.id = e.batch_id WHERE b.state = 'sent'") == 4)
        #expect(try queue.list(state: .sent).map(\.uuid) == batch.uuids)
    }

    @Test func deadLettersRequeuedAroundABatchInFlightAreNotTakenForItsEvents() throws {
        let queue = try openQueue()
        _ = try queue.append(contentsOf: QueueFixtures.events(0..<3))
        let one = BatchLimits(maxEvents: 1)
        // Event 1 dies and is requeued; event 2 waits for a retry.
        try queue.deadLetter(batchId: try #require(try queue.claimNextBatch(limits: one, includeOpenBatch: true)).id, status: 400, reason: "bad")
        let waiting = try #require(try queue.claimNextBatch(limits: one, includeOpenBatch: true))
        try queue.scheduleRetry(batchId: waiting.id, notBeforeMillis: clock.nowMillis() + 10_000, status: 503, error: "busy")
        try queue.requeueDeadLetters()
        // Events 1 and 3 are cut into one batch: its range spans event 2.
        let spanning = try #require(try queue.claimNextBatch(limits: BatchLimits(maxEvents: 5), includeOpenBatch: true))
        #expect(spanning.uuids == QueueFixtures.events(0..<3).map(\.uuid).enumerated().filter { $0.offset != 1 }.map(\.element))
        // Event 2 dies too, and is requeued while that batch is in flight.
        clock.advance(byMillis: 10_000)
        let retried = try #require(try queue.claimNextBatch(limits: one, includeOpenBatch: true))
        #expect(retried.id == waiting.id)
        try queue.deadLetter(batchId: retried.id, status: 400, reason: "bad")
        try queue.requeueDeadLetters()

        try queue.markSent(batchId: spanning.id, status: 204)
        let stats = try queue.stats()
        #expect(stats.sent == 2 && stats.pending == 1 && stats.inflight == 0)
        #expect(try queue.list(state: .pending).map(\.uuid) == [waiting.uuids[0]])
    }

    @Test func retriedBatchIsResentWithTheSameEventsAfterItsTime() throws {
        let queue = try openQueue()
        _ = try queue.append(contentsOf: QueueFixtures.events(0..<3))
        let first = try #require(try queue.claimNextBatch(limits: BatchLimits(), includeOpenBatch: true))
        try queue.scheduleRetry(batchId: first.id, notBeforeMillis: clock.nowMillis() + 2_000, status: 503, error: "HTTP 503")
        // Newer events do not join the waiting batch.
        _ = try queue.append(contentsOf: QueueFixtures.events(3..<5))

        let info = try queue.list(state: .pending)
        #expect(info.filter { $0.batchId == first.id }.allSatisfy { $0.lastStatus == 503 && $0.lastError == "HTTP 503" })

        // Before its time, the newer events are claimable but the retry is not.
        let newer = try #require(try queue.claimNextBatch(limits: BatchLimits(), includeOpenBatch: true))
        #expect(newer.uuids == QueueFixtures.events(3..<5).map(\.uuid))
        #expect(try queue.claimNextBatch(limits: BatchLimits(), includeOpenBatch: true) == nil)

        clock.advance(byMillis: 2_000)
        let again = try #require(try queue.claimNextBatch(limits: BatchLimits(), includeOpenBatch: true))
        #expect(again.id == first.id)
        #expect(again.members == first.members)
        #expect(again.bodyBytes == first.bodyBytes)
        #expect(again.attempts == 2)
        #expect(try queue.stats().retries == 1)
    }

    @Test func deadLetterKeepsStatusAndReason() throws {
        let queue = try openQueue()
        _ = try queue.append(contentsOf: QueueFixtures.events(0..<1))
        let batch = try #require(try queue.claimNextBatch(limits: BatchLimits(), includeOpenBatch: true))
        try queue.deadLetter(batchId: batch.id, status: 400, reason: "HTTP 400: {\"error\": \"bad event\"}")
        let dead = try queue.list(state: .dead)
        #expect(dead.count == 1)
        #expect(dead.first?.lastStatus == 400)
        #expect(dead.first?.lastError?.contains("bad event") == true)
        #expect(try queue.stats().deadLettered == 1)
        #expect(try queue.claimNextBatch(limits: BatchLimits(), includeOpenBatch: true) == nil)
    }

    @Test func splitMakesTwoHalvesFirstHalfFirst() throws {
        let queue = try openQueue()
        _ = try queue.append(contentsOf: QueueFixtures.events(0..<5))
        let batch = try #require(try queue.claimNextBatch(limits: BatchLimits(), includeOpenBatch: true))
        let (a, b) = try queue.split(batchId: batch.id, status: 413, error: "HTTP 413")
        let first = try #require(try queue.claimNextBatch(limits: BatchLimits(), includeOpenBatch: false))
        #expect(first.id == a)
        #expect(first.uuids == Array(batch.uuids[0..<3]))
        try queue.markSent(batchId: first.id, status: 200)
        let second = try #require(try queue.claimNextBatch(limits: BatchLimits(), includeOpenBatch: false))
        #expect(second.id == b)
        #expect(second.uuids == Array(batch.uuids[3...]))
        #expect(try queue.stats().splits == 1)

        let single = try #require(try {
            try queue.markSent(batchId: second.id, status: 200)
            try queue.append(QueueFixtures.event(9))
            return try queue.claimNextBatch(limits: BatchLimits(), includeOpenBatch: true)
        }())
        #expect(throws: QueueError.cannotSplitSingleEvent(batchId: single.id)) { try queue.split(batchId: single.id) }
    }

    @Test func outcomeOfABatchNotInFlightHereIsRefused() throws {
        let queue = try openQueue()
        _ = try queue.append(contentsOf: QueueFixtures.events(0..<2))
        let batch = try #require(try queue.claimNextBatch(limits: BatchLimits(), includeOpenBatch: true))
        let other = try openQueue()
        #expect(throws: QueueError.batchNotInFlight(batchId: batch.id)) {
            try other.scheduleRetry(batchId: batch.id, notBeforeMillis: 0, status: nil, error: "x")
        }
        #expect(throws: QueueError.batchNotInFlight(batchId: 999)) { try queue.markSent(batchId: 999, status: 200) }
    }

    @Test func expiredLeaseIsClaimedAgainWithTheSameBytes() throws {
        let queue = try openQueue()
        _ = try queue.append(contentsOf: QueueFixtures.events(0..<4))
        let batch = try #require(try queue.claimNextBatch(limits: BatchLimits(), includeOpenBatch: true, leaseMillis: 10_000))
        let other = try openQueue()
        #expect(try other.claimNextBatch(limits: BatchLimits(), includeOpenBatch: true) == nil, "the lease holds")
        clock.advance(byMillis: 10_000)
        let again = try #require(try other.claimNextBatch(limits: BatchLimits(), includeOpenBatch: true))
        #expect(again.id == batch.id)
        #expect(again.visitors.joined(separator: ",") == batch.visitors.joined(separator: ","))
        #expect(try other.stats().leasesRecovered == 1)
        // The first worker's late failure report no longer applies...
        #expect(throws: QueueError.batchNotInFlight(batchId: batch.id)) {
            try queue.scheduleRetry(batchId: batch.id, notBeforeMillis: 0, status: 503, error: "late")
        }
        // ...but a late 2xx is the truth: the events were delivered.
        try queue.markSent(batchId: batch.id, status: 200)
        #expect(try other.stats().sent == 4)
    }

    @Test func renewedLeaseHoldsUntilItsNewExpiryAndFailsOnceAnotherWorkerHasTheBatch() throws {
        let queue = try openQueue()
        _ = try queue.append(contentsOf: QueueFixtures.events(0..<2))
        let batch = try #require(try queue.claimNextBatch(limits: BatchLimits(), includeOpenBatch: true, leaseMillis: 10_000))
        clock.advance(byMillis: 8_000)
        #expect(try queue.renewLease(batchId: batch.id, leaseMillis: 10_000) == clock.nowMillis() + 10_000)
        let other = try openQueue()
        clock.advance(byMillis: 8_000)
        #expect(try other.claimNextBatch(limits: BatchLimits(), includeOpenBatch: true) == nil, "the renewed lease holds")
        clock.advance(byMillis: 2_000)
        #expect(try other.claimNextBatch(limits: BatchLimits(), includeOpenBatch: true)?.id == batch.id)
        #expect(throws: QueueError.batchNotInFlight(batchId: batch.id)) { try queue.renewLease(batchId: batch.id) }
    }

    @Test func leaseOfAnExitedProcessOnThisHostIsTakenBackAtOnce() throws {
        let queue = try openQueue()
        _ = try queue.append(contentsOf: QueueFixtures.events(0..<2))
        let batch = try #require(try queue.claimNextBatch(limits: BatchLimits(), includeOpenBatch: true, leaseMillis: 600_000))
        // Pretend the claim was made by a process that has exited: same host, a start time that
        // does not match any live process with that pid.
        var ghost = queue.owner
        ghost.processStart = "0"
        let raw = try RawDatabase(folder.file("events.sqlite"))
        try raw.connection.run("UPDATE batches SET lease_owner = ? WHERE id = ?", [.text(ghost.text), .integer(batch.id)])
        let again = try #require(try openQueue().claimNextBatch(limits: BatchLimits(), includeOpenBatch: true))
        #expect(again.id == batch.id)
    }
}

@Suite("Open batches and flushInterval")
struct QueueOpenBatchTests {
    @Test func openBatchIsDueOnceItsOldestEventHasWaitedTheFlushInterval() throws {
        let folder = TemporaryFolder()
        let clock = ManualEventClock()
        let queue = try QueueFixtures.open(folder.file("events.sqlite"), clock: clock)
        try queue.append(QueueFixtures.event(0))
        clock.advance(byMillis: 10_000)
        try queue.append(QueueFixtures.event(1))
        let cutoff = { clock.nowMillis() - 30_000 }
        #expect(try queue.claimNextBatch(limits: BatchLimits(), includeOpenBatch: false, openBatchQueuedBeforeMillis: cutoff()) == nil)
        #expect(try queue.pendingSchedule().oldestUnbatchedEnqueuedAtMillis == clock.nowMillis() - 10_000)
        clock.advance(byMillis: 20_000)
        let batch = try #require(try queue.claimNextBatch(limits: BatchLimits(), includeOpenBatch: false, openBatchQueuedBeforeMillis: cutoff()))
        #expect(batch.members.count == 2, "the aged batch takes the younger event with it")
        #expect(try queue.lastEventId() == 2)
    }
}
