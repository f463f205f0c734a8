import CoreMetrics
import Foundation
import MetricsTestKit
import Testing
@testable import EventSpool

/// The processor's metrics (swift-metrics), through a `TestMetrics` factory given to the
/// processor: the process-wide `MetricsSystem.bootstrap` is the application's, once, and no test
/// calls it.
@Suite("Processor metrics")
struct ProcessorMetricsTests {
    let folder = TemporaryFolder()
    var path: String { folder.file("events.sqlite") }
    let metrics = TestMetrics()

    func processor(
        _ dispatcher: any EventDispatcher = ScriptedDispatcher(), clock: (any EventClock)? = nil, file: String = "events.sqlite",
        center: EventNotificationCenter = EventNotificationCenter(), queue adjust: (inout QueueConfiguration) -> Void = { _ in }
    ) throws -> BatchEventProcessor {
        var settings = ProcessorConfiguration()
        settings.flushInterval = 3_600
        settings.retry = RetryPolicy(baseDelay: 0.01, maxDelay: 0.05, maxAttempts: 5, maxAge: 3_600)
        var queueConfiguration = QueueConfiguration()
        if let clock { queueConfiguration.clock = clock }
        adjust(&queueConfiguration)
        return BatchEventProcessor(
            queue: try EventQueue(path: folder.file(file), configuration: queueConfiguration), configuration: settings,
            dispatcher: dispatcher, notificationCenter: center, metricsFactory: metrics
        )
    }

    /// The synchronous `process` (in an async context an un-awaited call is the async one).
    func processNow(_ processor: BatchEventProcessor, _ event: SerializedEvent) throws {
        try processor.process(event)
    }

    func total(_ label: String, _ dimensions: [(String, String)] = []) -> Int64 {
        metrics.counterTotal(label: label, dimensions: dimensions)
    }

    @Test func theNamesAreTheDocumentedOnes() {
        #expect([
            EventSpoolMetrics.eventsAppended, EventSpoolMetrics.eventsSent, EventSpoolMetrics.eventsRetried,
            EventSpoolMetrics.eventsDeadLettered, EventSpoolMetrics.eventsDropped, EventSpoolMetrics.queuePending,
            EventSpoolMetrics.queueOldestPendingAge, EventSpoolMetrics.dispatchDuration,
        ] == [
            "eventspool.events.appended", "eventspool.events.sent", "eventspool.events.retried",
            "eventspool.events.dead_lettered", "eventspool.events.dropped", "eventspool.queue.pending",
            "eventspool.queue.oldest_pending_age", "eventspool.dispatch.duration",
        ])
        #expect(EventSpoolMetrics.reasonLabel == "reason" && EventSpoolMetrics.statusLabel == "status")
    }

    @Test func appendedEventsAreCountedAndDuplicatesAreNot() async throws {
        let processor = try processor()
        try processNow(processor, QueueFixtures.event(0))
        try await processor.process(QueueFixtures.event(1))
        try await processor.process(contentsOf: [QueueFixtures.event(1)] + QueueFixtures.events(2..<5))
        #expect(throws: ProcessorError.queue(.duplicateEvent(uuid: QueueFixtures.event(0).uuid))) { try processor.process(QueueFixtures.event(0)) }
        #expect(total(EventSpoolMetrics.eventsAppended) == 5)
        #expect(total(EventSpoolMetrics.eventsDropped, [("reason", "rejected_full")]) == 0)
    }

    @Test func eventsLostToTheBoundsAreCountedByReason() async throws {
        let dropping = try processor { $0.maxEvents = 2; $0.overflowPolicy = .dropOldest }
        for index in 0..<5 { try await dropping.process(QueueFixtures.event(index)) }
        #expect(total(EventSpoolMetrics.eventsDropped, [("reason", "dropped_oldest")]) == 3)
        #expect(total(EventSpoolMetrics.eventsAppended) == 5)

        let refusing = try processor(file: "refusing.sqlite") { $0.maxEvents = 2; $0.overflowPolicy = .rejectNew }
        try await refusing.process(contentsOf: QueueFixtures.events(10..<13))
        await #expect(throws: ProcessorError.self) { try await refusing.process(QueueFixtures.event(20)) }
        #expect(total(EventSpoolMetrics.eventsDropped, [("reason", "rejected_full")]) == 2)
    }

    @Test func sentRetriedAndDeadLetteredEventsAreCounted() async throws {
        let center = EventNotificationCenter()
        let posted = PostedNotifications(center)
        // The first request fails twice (3 events retried twice), then goes; a lone event is refused.
        let dispatcher = ScriptedDispatcher([.status(503), .failure("connection reset"), .status(204), .status(400)])
        let processor = try processor(dispatcher, center: center)
        processor.start()
        for index in 0..<3 { try await processor.process(QueueFixtures.event(index)) }
        try await processor.flushAndWait()
        #expect(await posted.waitForOutcome { $0.result == .sent })
        try await processor.process(QueueFixtures.event(9))
        try await processor.flushAndWait()
        #expect(await posted.waitForOutcome { $0.result == .deadLettered })
        await processor.stop()
        #expect(total(EventSpoolMetrics.eventsSent) == 3)
        #expect(total(EventSpoolMetrics.eventsRetried) == 6)
        #expect(total(EventSpoolMetrics.eventsDeadLettered) == 1)
        let stats = try processor.queue.stats()
        #expect(Int64(stats.eventsSent) == total(EventSpoolMetrics.eventsSent) && Int64(stats.dead) == total(EventSpoolMetrics.eventsDeadLettered),
                "the metrics agree with the file")
    }

    @Test func eachRequestIsTimedOnTheProcessorsClockByStatusClass() async throws {
        let clock = ManualEventClock()
        let center = EventNotificationCenter()
        let posted = PostedNotifications(center)
        let dispatcher = GatedDispatcher()
        let processor = try processor(dispatcher, clock: clock, center: center)
        try processNow(processor, QueueFixtures.event(1))
        processor.start()
        processor.flush()
        #expect(await posted.waitForLogEvents(1))
        clock.advance(byMillis: 250)
        dispatcher.answer(firstUUID: QueueFixtures.event(1).uuid, status: 204)
        #expect(await posted.waitForOutcomes(1))
        let timer = try metrics.expectTimer(EventSpoolMetrics.dispatchDuration, [("status", "2xx")])
        #expect(timer.values == [250_000_000])
        await processor.stop()
    }

    @Test func aRequestWithoutAResponseIsTimedAsAnError() async throws {
        let center = EventNotificationCenter()
        let posted = PostedNotifications(center)
        let processor = try processor(ScriptedDispatcher([.failure("connection refused"), .status(503)]), center: center)
        try processNow(processor, QueueFixtures.event(1))
        processor.start()
        processor.flush()
        #expect(await posted.waitForOutcome { $0.result == .sent })
        await processor.stop()
        #expect(try metrics.expectTimer(EventSpoolMetrics.dispatchDuration, [("status", "error")]).values.count == 1)
        #expect(try metrics.expectTimer(EventSpoolMetrics.dispatchDuration, [("status", "5xx")]).values.count == 1)
        #expect(try metrics.expectTimer(EventSpoolMetrics.dispatchDuration, [("status", "2xx")]).values.count == 1)
    }

    @Test func theGaugesShowWhatIsPendingAndHowOldTheOldestIs() async throws {
        let clock = ManualEventClock()
        let processor = try processor(clock: clock)
        for index in 0..<5 { try processNow(processor, QueueFixtures.event(index)) }
        clock.advance(byMillis: 12_500)
        processor.start()
        await processor.worker.idle()  // a partial batch waits for the flush interval
        #expect(try metrics.expectGauge(EventSpoolMetrics.queuePending).lastValue == 5)
        #expect(try metrics.expectGauge(EventSpoolMetrics.queueOldestPendingAge).lastValue == 12.5)
        await processor.stop()  // sends what is pending, and reads the gauges once more
        #expect(try metrics.expectGauge(EventSpoolMetrics.queuePending).lastValue == 0)
        #expect(try metrics.expectGauge(EventSpoolMetrics.queueOldestPendingAge).lastValue == 0)
    }

    @Test func withoutAFactoryTheProcessorReportsToTheApplicationsOne() async throws {
        // `MetricsSystem.factory` is read when the processor is made: here the task-local
        // factory swift-metrics offers for tests, standing in for what the app bootstrapped.
        let processor = try withMetricsFactory(metrics) { BatchEventProcessor(queue: try EventQueue(path: path)) }
        try await processor.process(QueueFixtures.event(1))
        #expect(total(EventSpoolMetrics.eventsAppended) == 1)
    }
}
