import Foundation
import Testing
@testable import EventSpool

/// The processor's triggers, outcomes and lifecycle with an in-memory dispatcher.
@Suite("BatchEventProcessor")
struct ProcessorTests {
    let folder = TemporaryFolder()
    var path: String { folder.file("events.sqlite") }

    func makeProcessor(
        _ dispatcher: any EventDispatcher, batchSize: Int = 10, flushInterval: Double = 3_600, timeout: Double = 5,
        retry: RetryPolicy = RetryPolicy(baseDelay: 0.01, maxDelay: 0.05, maxAttempts: 5, maxAge: 3_600),
        maxInFlight: Int = 4, center: EventNotificationCenter = EventNotificationCenter(), clock: (any EventClock)? = nil
    ) throws -> BatchEventProcessor {
        var configuration = ProcessorConfiguration()
        configuration.batchSize = batchSize
        configuration.flushInterval = flushInterval
        configuration.timeoutInterval = timeout
        configuration.retry = retry
        configuration.maxRequestsInFlight = maxInFlight
        var queueConfiguration = QueueConfiguration()
        if let clock { queueConfiguration.clock = clock }
        return try BatchEventProcessor(
            queuePath: path, queueConfiguration: queueConfiguration, configuration: configuration, dispatcher: dispatcher, notificationCenter: center
        )
    }

    func sent(_ processor: BatchEventProcessor) throws -> Int { try processor.queue.stats().sent }

    @Test func eventProcessedBeforeStartIsKeptAndSentOnceStarted() async throws {
        let first = ScriptedDispatcher()
        let unstarted = try makeProcessor(first)
        try await unstarted.process(QueueFixtures.event(1))
        #expect(first.requests.isEmpty)

        let dispatcher = ScriptedDispatcher()
        let processor = try makeProcessor(dispatcher)
        processor.start()
        try await processor.flushAndWait()
        #expect(dispatcher.batches == [[QueueFixtures.event(1).uuid]])
        await processor.stop()
    }

    @Test func fullBatchIsSentWithoutWaitingForTheInterval() async throws {
        let center = EventNotificationCenter()
        let posted = PostedNotifications(center)
        let processor = try makeProcessor(ScriptedDispatcher(), batchSize: 3, center: center)
        processor.start()
        for index in 0..<7 { try await processor.process(QueueFixtures.event(index)) }
        #expect(await posted.waitForOutcomes(2))
        await processor.worker.idle()
        #expect(posted.batches.map(\.count) == [3, 3])
        #expect(try processor.queue.stats().pending == 1, "the open batch waits")
        await processor.stop()
        #expect(posted.batches.map(\.count) == [3, 3, 1])
    }

    @Test func oldestEventIsSentOnceItHasWaitedTheFlushInterval() async throws {
        // In virtual time: the worker sleeps on the injected clock.
        let clock = ManualEventClock()
        let center = EventNotificationCenter()
        let posted = PostedNotifications(center)
        let processor = try makeProcessor(ScriptedDispatcher(), flushInterval: 30, center: center, clock: clock)
        processor.start()
        try await processor.process(QueueFixtures.event(1))
        await processor.worker.idle()
        clock.advance(byMillis: 29_999)
        await processor.worker.idle()
        #expect(posted.logEvents.isEmpty, "not yet: 29.999 s")
        clock.advance(byMillis: 1)
        await processor.worker.idle()
        #expect(posted.batches == [[QueueFixtures.event(1).uuid]])
        await processor.stop()
    }

    @Test func newContextSendsTheOpenBatchAtOnce() async throws {
        let center = EventNotificationCenter()
        let posted = PostedNotifications(center)
        let processor = try makeProcessor(ScriptedDispatcher(), center: center)
        processor.start()
        try await processor.process(QueueFixtures.event(1, context: QueueFixtures.context(revision: "241")))
        try await processor.process(QueueFixtures.event(2, context: QueueFixtures.context(revision: "241")))
        try await processor.process(QueueFixtures.event(3, context: QueueFixtures.context(revision: "242")))
        #expect(await posted.waitForOutcomes(1))
        await processor.worker.idle()
        #expect(posted.batches == [[QueueFixtures.event(1).uuid, QueueFixtures.event(2).uuid]])
        #expect(try processor.queue.stats().pending == 1)
        await processor.stop()
    }

    /// What makes a datafile new (§19): its revision, or its project at the same revision.
    enum NewDatafile: String, CaseIterable, Sendable {
        case anotherRevision, anotherProjectOfTheSameRevision
    }

    @Test(arguments: NewDatafile.allCases)
    func aNewDatafileSendsThePendingEventsAndTheSameOneChangesNothing(_ change: NewDatafile) async throws {
        let center = EventNotificationCenter()
        let posted = PostedNotifications(center)
        let updates = Counter()
        center.addListener(for: .configUpdate) { _ in updates.increment() }
        let processor = try makeProcessor(ScriptedDispatcher(), center: center)
        processor.start()
        let config = try ConformanceFixtures.config
        processor.configDidChange(to: config)
        try await processor.process(QueueFixtures.event(1))
        processor.configDidChange(to: config)
        await processor.worker.idle()
        #expect(posted.logEvents.isEmpty, "the same project and revision change nothing")
        var newer = config
        switch change {
        case .anotherRevision: newer.revision = "242"
        case .anotherProjectOfTheSameRevision: newer.projectId = "99999"
        }
        processor.configDidChange(to: newer)
        #expect(await posted.waitForOutcomes(1))
        #expect(updates.value == 1)
        await processor.stop()
    }

    @Test func stopSendsWhatIsPendingAndRefusesNewEvents() async throws {
        let dispatcher = ScriptedDispatcher()
        let processor = try makeProcessor(dispatcher)
        processor.start()
        for index in 0..<4 { try await processor.process(QueueFixtures.event(index)) }
        await processor.stop()
        #expect(dispatcher.batches.map(\.count) == [4])
        #expect(throws: ProcessorError.stopped) { try processor.process(QueueFixtures.event(9)) }
        await processor.stop()  // twice is safe
        #expect(try processor.queue.stats().pending == 0)
    }

    @Test func stoppedProcessorReleasesItsQueueAndLeavesNoListenerInASharedCenter() async throws {
        // The worker holds the notification center, whose configUpdate listener once held the
        // worker: the pair, with the queue's open file and page cache, outlived the processor.
        let center = EventNotificationCenter()
        weak var released: EventQueue?
        do {
            let queue = try QueueFixtures.open(folder.file("released.sqlite"))
            released = queue
            let processor = BatchEventProcessor(queue: queue, dispatcher: ScriptedDispatcher(), notificationCenter: center)
            processor.start()
            try await processor.process(QueueFixtures.event(1))
            try await processor.flushAndWait()
            await processor.stop()
        }
        #expect(released == nil, "the queue is freed once the processor is gone")
        #expect(center.removeListener(id: 1) == false, "the processor took its listener with it")
    }

    /// A `sqlite3` session (or another process) holding the file's write lock makes each of the
    /// worker's writes wait, up to `busyRetryLimitMillis` (2 minutes) each: `stop()` still ends
    /// by its timeout, and the events it could not send stay pending.
    @Test func stopEndsByItsTimeoutWhileAnotherConnectionHoldsTheWriteLock() async throws {
        let processor = try makeProcessor(ScriptedDispatcher(), timeout: 1)
        try await processor.process(QueueFixtures.event(1))
        let holder = try SQLiteConnection(path: path, readOnly: false, create: false)
        try holder.execute("BEGIN IMMEDIATE")
        processor.start()
        let started = Date()
        let stopping = Task { await processor.stop() }
        // Bounded, so that a stop that waits for the lock fails here instead of hanging the run;
        // releasing the lock then lets it end.
        let endedInTime = await Self.ends(stopping, within: 30)
        let elapsed = Date().timeIntervalSince(started)
        try holder.execute("ROLLBACK")
        await stopping.value
        holder.close()
        #expect(endedInTime && elapsed >= 0.99, "stop took \(elapsed) s with timeoutInterval 1 s and the lock held")
        #expect(!processor.queue.lockWaits.areInterrupted, "later writes wait for a lock again")
        #expect(try processor.queue.stats().pending == 1, "nothing was lost")
    }

    /// Whether `task` ends within `seconds` (a bound on a hang, not a timing); it is not waited
    /// for beyond that.
    static func ends(_ task: Task<Void, Never>, within seconds: Double) async -> Bool {
        let answer = LockedValue<CheckedContinuation<Bool, Never>?>(nil)
        return await withCheckedContinuation { continuation in
            answer.withLock { $0 = continuation }
            Task {
                await task.value
                answer.withLock { $0.take() }?.resume(returning: true)
            }
            Task {
                try? await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
                answer.withLock { $0.take() }?.resume(returning: false)
            }
        }
    }

    @Test func stopWithAHungServerReturnsAtItsDeadlineAndTheNextProcessorSendsTheRest() async throws {
        let center = EventNotificationCenter()
        let posted = PostedNotifications(center)
        let hung = ScriptedDispatcher(fallback: .hang)
        let processor = try makeProcessor(hung, batchSize: 2, timeout: 0.3, center: center)
        for index in 0..<5 { try await processor.process(QueueFixtures.event(index)) }
        processor.start()
        #expect(await posted.waitForLogEvents(2), "[0, 1] and [2, 3] go out at once; [4] is an open batch")
        let started = Date()
        await processor.stop()
        let elapsed = Date().timeIntervalSince(started)
        // The deadline is the subject: stop waits for it (never less), then ends the requests.
        #expect(elapsed >= 0.29 && elapsed < 30, "stop took \(elapsed) s with a 0.3 s timeout")
        // [4] goes out at the stop too, unless the deadline came first (a loaded machine).
        #expect(posted.outcomes.count == posted.logEvents.count && posted.outcomes.allSatisfy { $0.result == .abandoned })
        let stats = try processor.queue.stats()
        #expect(stats.pending == 5 && stats.inflight == 0, "nothing lost, nothing left in flight")

        let healthy = ScriptedDispatcher()
        let next = try makeProcessor(healthy, batchSize: 2)
        next.start()
        try await next.flushAndWait()
        #expect(Set(healthy.batches.flatMap { $0 }) == Set((0..<5).map { QueueFixtures.event($0).uuid }))
        #expect(Set(hung.batches).isSubset(of: Set(healthy.batches)), "the abandoned batches are resent as they were")
        await next.stop()
    }

    @Test func splitHalvesGoBeforeNewerEventsWithOneRequestAtATime() async throws {
        // One request at a time, as the reference: [0, 1] is refused (413), and its halves go
        // before [2, 3].
        let dispatcher = ScriptedDispatcher([.status(413)])
        let processor = try makeProcessor(dispatcher, batchSize: 2, maxInFlight: 1)
        for index in 0..<6 { try await processor.process(QueueFixtures.event(index)) }
        processor.start()
        try await processor.flushAndWait()
        let uuid = { (index: Int) in QueueFixtures.event(index).uuid }
        #expect(dispatcher.batches == [[uuid(0), uuid(1)], [uuid(0)], [uuid(1)], [uuid(2), uuid(3)], [uuid(4), uuid(5)]])
        await processor.stop()
    }

    @Test func upToMaxRequestsInFlightGoOutAtOnceAndAFailedBatchGoesBeforeNewerOnes() async throws {
        let center = EventNotificationCenter()
        let posted = PostedNotifications(center)
        let gate = GatedDispatcher()
        let processor = try makeProcessor(gate, batchSize: 2, maxInFlight: 3, center: center)
        for index in 0..<12 { try await processor.process(QueueFixtures.event(index)) }
        let uuid = { (index: Int) in QueueFixtures.event(index).uuid }
        processor.start()
        #expect(await posted.waitForLogEvents(3))
        await processor.worker.idle()
        #expect(posted.batches == [[uuid(0), uuid(1)], [uuid(2), uuid(3)], [uuid(4), uuid(5)]], "three at once, oldest first, and no more")

        // [2, 3] is answered first, then [0, 1] is refused whole: its halves come before [8, 9].
        gate.answer(firstUUID: uuid(2), status: 204)
        #expect(await posted.waitForLogEvents(4))
        #expect(posted.batches[3] == [uuid(6), uuid(7)], "a slot freed: the next batch")
        gate.answer(firstUUID: uuid(0), status: 413)
        #expect(await posted.waitForLogEvents(5))
        #expect(posted.batches[4] == [uuid(0)], "the first half goes before newer events")
        gate.answer(firstUUID: uuid(4), status: 204)
        #expect(await posted.waitForLogEvents(6))
        #expect(posted.batches[5] == [uuid(1)], "and the second half")
        for first in [0, 1, 6, 8, 10] { gate.answer(firstUUID: uuid(first), status: 204) }
        try await processor.flushAndWait()
        #expect(try processor.queue.stats().sent == 12)
        #expect(posted.batches.flatMap { $0 }.filter { $0 == uuid(0) }.count == 2, "a batch is in one request at a time")
        await processor.stop()
    }

    @Test func awaitedFlushWaitsForEveryRequestItCovers() async throws {
        let center = EventNotificationCenter()
        let posted = PostedNotifications(center)
        let gate = GatedDispatcher()
        let processor = try makeProcessor(gate, batchSize: 2, center: center)
        for index in 0..<4 { try await processor.process(QueueFixtures.event(index)) }
        processor.start()
        #expect(await posted.waitForLogEvents(2))
        let flushed = Task { try await processor.flushAndWait() }
        gate.answer(firstUUID: QueueFixtures.event(2).uuid, status: 204)
        #expect(await posted.waitForOutcomes(1))
        await processor.worker.idle()
        #expect(try processor.queue.stats().inflight == 2, "[0, 1] is still out")
        gate.answer(firstUUID: QueueFixtures.event(0).uuid, status: 204)
        try await flushed.value
        #expect(posted.outcomes.count == 2, "the flush returned after both outcomes were posted")
        await processor.stop()
    }

    @Test func groupOfEventsIsWrittenInOneCallAndSent() async throws {
        let dispatcher = ScriptedDispatcher()
        let processor = try makeProcessor(dispatcher, batchSize: 4)
        try await processor.process(QueueFixtures.event(0))
        let outcomes = try await processor.process(contentsOf: QueueFixtures.events(0..<6))
        #expect(outcomes.count == 6)
        #expect(outcomes.first == .duplicate)
        #expect(outcomes.dropFirst().allSatisfy { if case .appended = $0 { true } else { false } })
        processor.start()
        try await processor.flushAndWait()
        #expect(dispatcher.batches.map(\.count) == [4, 2])

        let huge = QueueFixtures.event(99, size: 3_600_000)
        #expect(throws: ProcessorError.self) { try processor.process(contentsOf: [QueueFixtures.event(7), huge]) }
        #expect(try processor.queue.stats().pending == 0, "a group with an event too large to send writes nothing")
        await processor.stop()
        #expect(throws: ProcessorError.stopped) { try processor.process(contentsOf: [QueueFixtures.event(8)]) }
    }

    @Test func awaitedFlushEndsWithATypedErrorWhenItsTaskIsCancelledAndTheWorkerGoesOn() async throws {
        let center = EventNotificationCenter()
        let posted = PostedNotifications(center)
        let hung = ScriptedDispatcher([.hang])
        let processor = try makeProcessor(hung, timeout: 0.3, center: center)
        try await processor.process(QueueFixtures.event(1))
        processor.start()
        let waiting = Task { () async -> ProcessorError? in
            do throws(ProcessorError) {
                try await processor.flushAndWait()
                return nil
            } catch {
                return error
            }
        }
        #expect(await posted.waitForLogEvents(1))
        waiting.cancel()
        #expect(await waiting.value == .cancelled)
        #expect(processor.isRunning, "only the wait ended")
        await processor.stop()
    }

    @Test func retryableFailureIsResentByteIdenticalThenDelivered() async throws {
        let center = EventNotificationCenter()
        let posted = PostedNotifications(center)
        let dispatcher = ScriptedDispatcher([.status(503), .failure("connection reset")])
        let processor = try makeProcessor(dispatcher, center: center)
        processor.start()
        for index in 0..<3 { try await processor.process(QueueFixtures.event(index)) }
        processor.flush()
        #expect(await posted.waitForOutcome { $0.result == .sent })
        #expect(try sent(processor) == 3)
        #expect(dispatcher.requests.count == 3)
        #expect(Set(dispatcher.requests.map(\.body)).count == 1, "every attempt sends the same bytes")
        let stats = try processor.queue.stats()
        #expect(stats.retries == 2 && stats.batchesSent == 1)
        await processor.stop()
    }

    @Test func poisonEventIsSplitOutAndDeadLetteredAlone() async throws {
        let poison = QueueFixtures.event(5).uuid
        let dispatcher = PoisonDispatcher(poison: poison)
        var configuration = ProcessorConfiguration()
        configuration.batchSize = 10
        configuration.flushInterval = 3_600
        let processor = try BatchEventProcessor(queuePath: path, configuration: configuration, dispatcher: dispatcher)
        for index in 0..<10 { try await processor.process(QueueFixtures.event(index)) }
        processor.start()
        try await processor.flushAndWait()
        let stats = try processor.queue.stats()
        #expect(stats.pending == 0 && stats.sent == 9 && stats.dead == 1)
        let dead = try processor.queue.list(state: .dead)
        #expect(dead.map(\.uuid) == [poison])
        #expect(dead.first?.lastStatus == 400)
        #expect(dead.first?.lastError?.contains("bad event") == true)
        await processor.stop()
    }

    @Test func exhaustedRetriesDeadLetterTheBatchWithTheReason() async throws {
        let center = EventNotificationCenter()
        let posted = PostedNotifications(center)
        let dispatcher = ScriptedDispatcher(fallback: .status(500))
        let processor = try makeProcessor(dispatcher, retry: RetryPolicy(baseDelay: 0.001, maxDelay: 0.001, maxAttempts: 3, maxAge: 3_600), center: center)
        processor.start()
        try await processor.process(QueueFixtures.event(1))
        processor.flush()
        #expect(await posted.waitForOutcome { $0.result == .deadLettered })
        #expect(try processor.queue.stats().dead == 1)
        #expect(dispatcher.requests.count == 3)
        #expect(try processor.queue.list(state: .dead).first?.lastError?.contains("after 3 attempts") == true)
        await processor.stop()
    }

    @Test func oversizedEventIsRefusedAndNothingWritten() throws {
        var configuration = ProcessorConfiguration()
        configuration.maxBatchBytes = 1_000
        let processor = try BatchEventProcessor(queuePath: path, configuration: configuration, dispatcher: ScriptedDispatcher())
        let event = QueueFixtures.event(1, size: 2_000)
        #expect(throws: ProcessorError.eventTooLarge(uuid: event.uuid, bodyBytes: LogEvent.bodyByteCount(context: event.context, visitorByteCounts: [event.byteCount]), maxBatchBytes: 1_000)) {
            try processor.process(event)
        }
        #expect(try processor.queue.stats().pending == 0)
    }

    @Test func sameEventTwiceIsRefused() throws {
        let processor = try makeProcessor(ScriptedDispatcher())
        try processor.process(QueueFixtures.event(1))
        #expect(throws: ProcessorError.queue(.duplicateEvent(uuid: QueueFixtures.event(1).uuid))) { try processor.process(QueueFixtures.event(1)) }
    }

    @Test func awaitedFlushBeforeStartIsAnError() async throws {
        let processor = try makeProcessor(ScriptedDispatcher())
        await #expect(throws: ProcessorError.notStarted) { try await processor.flushAndWait() }
    }

    @Test func invalidSettingsFallBackAndCanBeReadBack() throws {
        var configuration = ProcessorConfiguration()
        configuration.batchSize = -5
        configuration.flushInterval = .infinity
        let processor = try BatchEventProcessor(queuePath: path, configuration: configuration, dispatcher: ScriptedDispatcher())
        #expect(processor.settings.batchSize == 10)
        #expect(processor.settings.flushInterval == 30)
    }

    @Test func processorDroppedWithoutStopDoesNotCrash() async throws {
        do {
            let processor = try BatchEventProcessor(queuePath: path)  // owns an HTTPEventDispatcher
            try await processor.process(QueueFixtures.event(1))
        }
        do {
            _ = try HTTPEventDispatcher()
        }
        #expect(try QueueFixtures.open(path).stats().pending == 1, "the event stays for the next processor")
    }
}

/// Answers 400 to any request holding the poison uuid, 204 otherwise.
final class PoisonDispatcher: EventDispatcher {
    let poison: String
    init(poison: String) { self.poison = poison }

    func dispatch(_ logEvent: EventSpool.LogEvent) async throws -> DispatchResponse {
        if logEvent.bodyText.contains(poison) {
            return DispatchResponse(status: 400, body: Array(#"{"error": "bad event"}"#.utf8))
        }
        return DispatchResponse(status: 204)
    }
}

/// A thread-safe counter for listeners.
final class Counter: Sendable {
    private let count = LockedValue(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
