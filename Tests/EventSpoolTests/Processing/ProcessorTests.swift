import Foundation
import Testing
@testable import EventSpool

/// The processor's triggers, outcomes and lifecycle with an in-memory dispatcher.
@Suite("BatchEventProcessor")
struct ProcessorTests {
    let folder = TemporaryFolder()
    var path: String { folder.file("events.sqlite") }

    func makeProcessor(
        _ dispatcher: ScriptedDispatcher, batchSize: Int = 10, flushInterval: Double = 3_600, timeout: Double = 5,
        retry: RetryPolicy = RetryPolicy(baseDelay: 0.01, maxDelay: 0.05, maxAttempts: 5, maxAge: 3_600),
        center: EventNotificationCenter = EventNotificationCenter()
    ) throws -> BatchEventProcessor {
        var configuration = ProcessorConfiguration()
        configuration.batchSize = batchSize
        configuration.flushInterval = flushInterval
        configuration.timeoutInterval = timeout
        configuration.retry = retry
        return try BatchEventProcessor(queuePath: path, configuration: configuration, dispatcher: dispatcher, notificationCenter: center)
    }

    func sent(_ processor: BatchEventProcessor) throws -> Int { try processor.queue.stats().sent }

    @Test func eventProcessedBeforeStartIsKeptAndSentOnceStarted() async throws {
        let first = ScriptedDispatcher()
        let unstarted = try makeProcessor(first)
        try unstarted.process(QueueFixtures.event(1))
        #expect(first.requests.isEmpty)

        let dispatcher = ScriptedDispatcher()
        let processor = try makeProcessor(dispatcher)
        processor.start()
        try await processor.flushAndWait()
        #expect(dispatcher.batches == [[QueueFixtures.event(1).uuid]])
        await processor.stop()
    }

    @Test func fullBatchIsSentWithoutWaitingForTheInterval() async throws {
        let dispatcher = ScriptedDispatcher()
        let processor = try makeProcessor(dispatcher, batchSize: 3)
        processor.start()
        for index in 0..<7 { try processor.process(QueueFixtures.event(index)) }
        #expect(await eventually { dispatcher.requests.count == 2 })
        #expect(dispatcher.batches.map(\.count) == [3, 3])
        #expect(try processor.queue.stats().pending == 1, "the open batch waits")
        await processor.stop()
        #expect(dispatcher.batches.map(\.count) == [3, 3, 1])
    }

    @Test func oldestEventIsSentOnceItHasWaitedTheFlushInterval() async throws {
        let dispatcher = ScriptedDispatcher()
        let processor = try makeProcessor(dispatcher, flushInterval: 0.2)
        processor.start()
        let started = Date()
        try processor.process(QueueFixtures.event(1))
        #expect(await eventually { dispatcher.requests.count == 1 })
        #expect(Date().timeIntervalSince(started) >= 0.19)
        await processor.stop()
    }

    @Test func newContextSendsTheOpenBatchAtOnce() async throws {
        let dispatcher = ScriptedDispatcher()
        let processor = try makeProcessor(dispatcher)
        processor.start()
        try processor.process(QueueFixtures.event(1, context: QueueFixtures.context(revision: "241")))
        try processor.process(QueueFixtures.event(2, context: QueueFixtures.context(revision: "241")))
        try processor.process(QueueFixtures.event(3, context: QueueFixtures.context(revision: "242")))
        #expect(await eventually { dispatcher.requests.count == 1 })
        #expect(dispatcher.batches == [[QueueFixtures.event(1).uuid, QueueFixtures.event(2).uuid]])
        #expect(try processor.queue.stats().pending == 1)
        await processor.stop()
    }

    @Test func configUpdateWithANewRevisionSendsThePendingEvents() async throws {
        let dispatcher = ScriptedDispatcher()
        let center = EventNotificationCenter()
        let updates = Counter()
        center.addListener(for: .configUpdate) { _ in updates.increment() }
        let processor = try makeProcessor(dispatcher, center: center)
        processor.start()
        let config = try ConformanceFixtures.config
        processor.configDidChange(to: config)
        try processor.process(QueueFixtures.event(1))
        processor.configDidChange(to: config)
        try await Task.sleep(nanoseconds: 50_000_000)
        #expect(dispatcher.requests.isEmpty, "the same revision changes nothing")
        var newer = config
        newer.revision = "242"
        processor.configDidChange(to: newer)
        #expect(await eventually { dispatcher.requests.count == 1 })
        #expect(updates.value == 1)
        await processor.stop()
    }

    @Test func stopSendsWhatIsPendingAndRefusesNewEvents() async throws {
        let dispatcher = ScriptedDispatcher()
        let processor = try makeProcessor(dispatcher)
        processor.start()
        for index in 0..<4 { try processor.process(QueueFixtures.event(index)) }
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
            let processor = try BatchEventProcessor(queue: queue, dispatcher: ScriptedDispatcher(), notificationCenter: center)
            processor.start()
            try processor.process(QueueFixtures.event(1))
            try await processor.flushAndWait()
            await processor.stop()
        }
        #expect(await eventually { released == nil }, "the queue is freed once the processor is gone")
        #expect(center.removeListener(id: 1) == false, "the processor took its listener with it")
    }

    @Test func stopWithAHungServerReturnsInTimeAndTheNextProcessorSendsTheRest() async throws {
        let hung = ScriptedDispatcher([.hang])
        let processor = try makeProcessor(hung, batchSize: 2, timeout: 0.5)
        for index in 0..<5 { try processor.process(QueueFixtures.event(index)) }
        processor.start()
        #expect(await eventually { hung.requests.count == 1 })
        let started = Date()
        await processor.stop()
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed < 2, "stop took \(elapsed) s with a 0.5 s timeout")

        let healthy = ScriptedDispatcher()
        let next = try makeProcessor(healthy, batchSize: 2)
        next.start()
        try await next.flushAndWait()
        #expect(Set(healthy.batches.flatMap { $0 }) == Set((0..<5).map { QueueFixtures.event($0).uuid }))
        #expect(healthy.batches.first == hung.batches.first, "the abandoned batch is resent as it was")
        await next.stop()
    }

    @Test func batchClaimedDuringAFailedRequestWaitsForTheFailedEvents() async throws {
        // While [0, 1] is on its way the worker claims [2, 3]. The 413 splits [0, 1]: its halves
        // are older, so [2, 3] is given back and goes after them, its claim not counted.
        let dispatcher = ScriptedDispatcher([.status(413)])
        let processor = try makeProcessor(dispatcher, batchSize: 2)
        for index in 0..<6 { try processor.process(QueueFixtures.event(index)) }
        processor.start()
        try await processor.flushAndWait()
        let uuid = { (index: Int) in QueueFixtures.event(index).uuid }
        #expect(dispatcher.batches == [[uuid(0), uuid(1)], [uuid(0)], [uuid(1)], [uuid(2), uuid(3)], [uuid(4), uuid(5)]])
        #expect(try processor.queue.list(state: .sent).filter { $0.uuid >= uuid(2) }.map(\.attempts) == [1, 1, 1, 1])
        await processor.stop()
    }

    @Test func batchClaimedDuringARequestIsGivenBackWhenTheProcessorStops() async throws {
        let hung = ScriptedDispatcher([.hang])
        let processor = try makeProcessor(hung, batchSize: 2, timeout: 0.3)
        for index in 0..<4 { try processor.process(QueueFixtures.event(index)) }
        processor.start()
        #expect(await eventually { hung.requests.count == 1 })
        #expect(await eventually { (try? processor.queue.stats().inflight) == 4 }, "[2, 3] is claimed while [0, 1] hangs")
        await processor.stop()
        let stats = try processor.queue.stats()
        #expect(stats.inflight == 0 && stats.pending == 4)
        // The abandoned request counts as an attempt; the batch that never went out does not.
        #expect(try processor.queue.list(state: .pending).map(\.attempts) == [1, 1, 0, 0])
    }

    @Test func groupOfEventsIsWrittenInOneCallAndSent() async throws {
        let dispatcher = ScriptedDispatcher()
        let processor = try makeProcessor(dispatcher, batchSize: 4)
        try processor.process(QueueFixtures.event(0))
        let outcomes = try processor.process(contentsOf: QueueFixtures.events(0..<6))
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
        let hung = ScriptedDispatcher([.hang])
        let processor = try makeProcessor(hung, timeout: 0.3)
        try processor.process(QueueFixtures.event(1))
        processor.start()
        let waiting = Task { () async -> ProcessorError? in
            do throws(ProcessorError) {
                try await processor.flushAndWait()
                return nil
            } catch {
                return error
            }
        }
        #expect(await eventually { hung.requests.count == 1 })
        waiting.cancel()
        #expect(await waiting.value == .cancelled)
        #expect(processor.isRunning, "only the wait ended")
        await processor.stop()
    }

    @Test func retryableFailureIsResentByteIdenticalThenDelivered() async throws {
        let dispatcher = ScriptedDispatcher([.status(503), .failure("connection reset")])
        let processor = try makeProcessor(dispatcher)
        processor.start()
        for index in 0..<3 { try processor.process(QueueFixtures.event(index)) }
        processor.flush()
        #expect(await eventually { (try? sent(processor)) == 3 })
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
        for index in 0..<10 { try processor.process(QueueFixtures.event(index)) }
        processor.start()
        try await processor.flushAndWait()
        #expect(await eventually { (try? processor.queue.stats().pending) == 0 })
        let stats = try processor.queue.stats()
        #expect(stats.sent == 9 && stats.dead == 1)
        let dead = try processor.queue.list(state: .dead)
        #expect(dead.map(\.uuid) == [poison])
        #expect(dead.first?.lastStatus == 400)
        #expect(dead.first?.lastError?.contains("bad event") == true)
        await processor.stop()
    }

    @Test func exhaustedRetriesDeadLetterTheBatchWithTheReason() async throws {
        let dispatcher = ScriptedDispatcher(fallback: .status(500))
        let processor = try makeProcessor(dispatcher, retry: RetryPolicy(baseDelay: 0.001, maxDelay: 0.001, maxAttempts: 3, maxAge: 3_600))
        processor.start()
        try processor.process(QueueFixtures.event(1))
        processor.flush()
        #expect(await eventually { (try? processor.queue.stats().dead) == 1 })
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
            try processor.process(QueueFixtures.event(1))
        }
        do {
            _ = try HTTPEventDispatcher()
        }
        try await Task.sleep(nanoseconds: 100_000_000)
        #expect(try QueueFixtures.open(path).stats().pending == 1, "the event stays for the next processor")
    }

    @Test func plainHttpToAnotherHostIsRefused() throws {
        var configuration = HTTPEventDispatcher.Configuration()
        configuration.endpoint = "http://example.com/v1/events"
        #expect(throws: HTTPEventDispatcher.ConfigurationError.insecureURL("http://example.com/v1/events")) {
            try HTTPEventDispatcher(configuration: configuration)
        }
        configuration.allowInsecureHTTP = true
        let allowed = try HTTPEventDispatcher(configuration: configuration)
        let loopback = try HTTPEventDispatcher(configuration: { var c = HTTPEventDispatcher.Configuration(); c.endpoint = "http://127.0.0.1:9/v1/events"; return c }())
        Task { try await allowed.shutdown(); try await loopback.shutdown() }
    }

    @Test func everyRequestsURLIsCheckedEvenAfterAnotherURLPassed() async throws {
        // The dispatcher remembers the last URL that passed its check; any other is checked.
        let dispatcher = try HTTPEventDispatcher(configuration: { var c = HTTPEventDispatcher.Configuration(); c.connectTimeout = 0.2; return c }())
        let refused = LogEvent(url: "http://example.com/v1/events", body: Array("{}".utf8))
        for _ in 0..<2 {
            await #expect(throws: HTTPEventDispatcher.ConfigurationError.insecureURL(refused.url)) { try await dispatcher.dispatch(refused) }
        }
        // A loopback URL passes (nothing listens on port 9, so the request itself fails) ...
        await #expect(throws: (any Error).self) { try await dispatcher.dispatch(LogEvent(url: "http://127.0.0.1:9/v1/events", body: Array("{}".utf8))) }
        // ... and the refused one is still refused after it.
        await #expect(throws: HTTPEventDispatcher.ConfigurationError.insecureURL(refused.url)) { try await dispatcher.dispatch(refused) }
        try await dispatcher.shutdown()
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
