import Foundation
import Testing
@testable import EventSpool

@Suite("Inspecting and repairing a queue")
struct QueueInspectionTests {
    let folder = TemporaryFolder()
    let clock = ManualEventClock()

    /// A queue with 2 sent, 1 dead, 1 in flight and 2 pending events.
    func populatedQueue() throws -> EventQueue {
        let queue = try QueueFixtures.open(folder.file("events.sqlite"), clock: clock)
        _ = try queue.append(contentsOf: QueueFixtures.events(0..<6))
        let sent = try #require(try queue.claimNextBatch(limits: BatchLimits(maxEvents: 2), includeOpenBatch: true))
        try queue.markSent(batchId: sent.id, status: 204)
        let dead = try #require(try queue.claimNextBatch(limits: BatchLimits(maxEvents: 1), includeOpenBatch: true))
        try queue.deadLetter(batchId: dead.id, status: 400, reason: "HTTP 400: bad")
        _ = try #require(try queue.claimNextBatch(limits: BatchLimits(maxEvents: 1), includeOpenBatch: true))
        clock.advance(byMillis: 5_000)
        return queue
    }

    @Test func statsCountEveryState() throws {
        let stats = try populatedQueue().stats()
        #expect((stats.pending, stats.inflight, stats.sent, stats.dead) == (2, 1, 2, 1))
        #expect(stats.oldestPendingAgeMillis == 5_000)
        #expect(stats.pendingBytes == 400)
        #expect(stats.heldBytes == 800)
    }

    @Test func listFiltersByStateOldestFirst() throws {
        let queue = try populatedQueue()
        #expect(try queue.list().map(\.userId) == (0..<6).map { "user-\($0)" })
        #expect(try queue.list(state: .pending).map(\.userId) == ["user-4", "user-5"])
        #expect(try queue.list(state: .dead).map(\.lastStatus) == [400])
        #expect(try queue.list(limit: 2).count == 2)
        #expect(try queue.list(limit: nil).count == 6)
    }

    @Test func requeuedDeadLettersAreSentAgain() throws {
        let queue = try populatedQueue()
        #expect(try queue.requeueDeadLetters() == 1)
        let stats = try queue.stats()
        #expect(stats.dead == 0 && stats.pending == 3 && stats.requeued == 1)
        let batch = try #require(try queue.claimNextBatch(limits: BatchLimits(), includeOpenBatch: true))
        #expect(batch.members.first?.uuid == QueueFixtures.event(2).uuid, "it keeps its place: oldest first")
    }

    @Test func purgeDeletesOnlyWhatItIsAskedTo() throws {
        let queue = try populatedQueue()
        #expect(try queue.purge(sent: true, dead: false, olderThanMillis: 10_000) == 0, "not old enough")
        #expect(try queue.purge(sent: true, dead: false) == 2)
        #expect(try queue.stats().dead == 1)
        #expect(try queue.purge(sent: false, dead: true) == 1)
        let stats = try queue.stats()
        #expect((stats.pending, stats.inflight, stats.sent, stats.dead) == (2, 1, 0, 0))
        #expect(stats.purged == 3)
        let raw = try RawDatabase(folder.file("events.sqlite"))
        #expect(try raw.int("SELECT count(*) FROM batches WHERE state IN ('sent', 'dead')") == 0, "emptied batches go too")
    }

    @Test func sentRowsArePrunedAfterTheRetention() throws {
        let queue = try QueueFixtures.open(folder.file("events.sqlite"), clock: clock) { $0.sentRetentionMillis = 60_000 }
        _ = try queue.append(contentsOf: QueueFixtures.events(0..<2))
        let batch = try #require(try queue.claimNextBatch(limits: BatchLimits(), includeOpenBatch: true))
        try queue.markSent(batchId: batch.id, status: 204)
        clock.advance(byMillis: 59_999)
        #expect(try queue.pruneSent() == 0)
        clock.advance(byMillis: 1)
        #expect(try queue.pruneSent() == 2)
        #expect(try queue.stats().prunedSent == 2)
    }

    @Test func viewsAnswerWhatIsWaitingStuckAndWhy() throws {
        _ = try populatedQueue()
        let raw = try RawDatabase(folder.file("events.sqlite"))
        #expect(try raw.int("SELECT count(*) FROM pending_events") == 2)
        #expect(try raw.int("SELECT count(*) FROM inflight_batches") == 1)
        #expect(try raw.strings("SELECT last_error FROM dead_letters") == ["HTTP 400: bad"])
        #expect(try raw.strings("SELECT pending || ',' || inflight || ',' || sent || ',' || dead || ',' || batches_sent FROM queue_summary") == ["2,1,2,1,1"])
    }
}

@Suite("The totals table")
struct QueueTotalsTests {
    @Test func totalsAndBatchesAgreeWithTheRowsAfterEveryKindOfChange() throws {
        // No trigger keeps `totals`: EventQueue counts every change. The batches' counts must match
        // the events that point at them, and every event's state must read from the tables alone.
        let folder = TemporaryFolder()
        let path = folder.file("events.sqlite")
        let clock = ManualEventClock()
        let queue = try QueueFixtures.open(path, clock: clock) {
            $0.maxEvents = 40
            $0.overflowPolicy = .dropOldest
        }
        let raw = try RawDatabase(path)
        func expectTotalsExact(after step: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            // An event's state: pending without a batch, else its batch's (a retry waits: pending).
            let byState = """
                SELECT CASE WHEN b.state IS NULL OR b.state = 'retry' THEN 'pending' ELSE b.state END AS state, count(*) AS events,
                       sum(e.bytes) AS bytes
                FROM events e LEFT JOIN batches b ON b.id = e.batch_id GROUP BY 1 ORDER BY 1
                """
            #expect(
                try raw.strings("SELECT state || ':' || events || ':' || bytes FROM totals WHERE events > 0 ORDER BY state")
                    == raw.strings("SELECT state || ':' || events || ':' || bytes FROM (\(byState))"),
                "totals after \(step)", sourceLocation: sourceLocation
            )
            let stats = try queue.stats()
            for (state, counted) in [("pending", stats.pending), ("inflight", stats.inflight), ("sent", stats.sent), ("dead", stats.dead)] {
                #expect(try raw.int("SELECT coalesce(sum(events), 0) FROM (\(byState)) WHERE state = '\(state)'") == counted, "\(state) after \(step)", sourceLocation: sourceLocation)
            }
            #expect(try raw.int("SELECT coalesce(sum(bytes), 0) FROM (\(byState)) WHERE state = 'pending'") == stats.pendingBytes, "pending bytes after \(step)", sourceLocation: sourceLocation)
            #expect(try raw.int("SELECT coalesce(sum(bytes), 0) FROM (\(byState)) WHERE state <> 'sent'") == stats.heldBytes, "held bytes after \(step)", sourceLocation: sourceLocation)
            // Each batch counts the events that point at it; a split batch keeps none.
            #expect(
                try raw.int(
                    """
                    SELECT count(*) FROM batches b
                    WHERE b.event_count <> (SELECT count(*) FROM events e WHERE e.batch_id = b.id) AND b.state <> 'split'
                       OR b.event_bytes <> (SELECT coalesce(sum(e.bytes), 0) FROM events e WHERE e.batch_id = b.id) AND b.state <> 'split'
                    """
                ) == 0,
                "batch counts after \(step)", sourceLocation: sourceLocation
            )
            #expect(try raw.int("SELECT count(*) FROM events e JOIN batches b ON b.id = e.batch_id WHERE b.state = 'split'") == 0, "split batches keep no events after \(step)", sourceLocation: sourceLocation)
            #expect(try raw.int("SELECT count(*) FROM events e LEFT JOIN batches b ON b.id = e.batch_id WHERE e.batch_id IS NOT NULL AND b.id IS NULL") == 0,
                    "no event points at a missing batch after \(step)", sourceLocation: sourceLocation)
        }

        _ = try queue.append(contentsOf: QueueFixtures.events(0..<30))
        try expectTotalsExact(after: "a grouped append")
        _ = try queue.append(contentsOf: QueueFixtures.events(25..<50, size: 300))
        #expect(try queue.stats().droppedOldest > 0)
        try expectTotalsExact(after: "duplicates and drops")
        try queue.append(QueueFixtures.event(60))
        try expectTotalsExact(after: "a single append")
        let sent = try #require(try queue.claimNextBatch(limits: BatchLimits(maxEvents: 5), includeOpenBatch: true))
        try expectTotalsExact(after: "a claim")
        _ = try queue.append(contentsOf: QueueFixtures.events(70..<75, size: 300))
        try expectTotalsExact(after: "drops of the oldest while a batch is in flight")
        try queue.markSent(batchId: sent.id, status: 204)
        #expect(try queue.stats().eventsSent == sent.members.count, "drops never take the events of a batch in flight")
        try expectTotalsExact(after: "markSent")
        let dead = try #require(try queue.claimNextBatch(limits: BatchLimits(maxEvents: 3), includeOpenBatch: true))
        try queue.deadLetter(batchId: dead.id, status: 400, reason: "bad")
        try expectTotalsExact(after: "deadLetter")
        let split = try #require(try queue.claimNextBatch(limits: BatchLimits(maxEvents: 4), includeOpenBatch: true))
        try queue.split(batchId: split.id)
        try expectTotalsExact(after: "split")
        let retried = try #require(try queue.claimNextBatch(limits: BatchLimits(maxEvents: 2), includeOpenBatch: true))
        try expectTotalsExact(after: "reclaiming half of a split")
        try queue.scheduleRetry(batchId: retried.id, notBeforeMillis: clock.nowMillis(), status: 503, error: "busy")
        try expectTotalsExact(after: "scheduleRetry")
        _ = try #require(try queue.claimNextBatch(limits: BatchLimits(maxEvents: 2), includeOpenBatch: true, leaseMillis: 1_000))
        clock.advance(byMillis: 2_000)
        #expect(try queue.recoverLeases() == 1)
        try expectTotalsExact(after: "recoverLeases")
        try queue.requeueDeadLetters()
        try expectTotalsExact(after: "requeueDeadLetters")
        try queue.purge(sent: true, dead: false)
        try expectTotalsExact(after: "purge")
    }
}
