import EventSpoolCollector
import Foundation
import EventSpoolServiceLifecycle
import ServiceLifecycle
import Testing
@testable import EventSpool

/// Dispatch outcomes over real HTTP against the loopback collector (spec §6, §7).
@Suite("BatchEventProcessor over HTTP")
struct ProcessorHTTPTests {
    let folder = TemporaryFolder()
    var path: String { folder.file("events.sqlite") }

    @Test func serviceUnavailableThenOkDeliversOnce() async throws {
        let rig = try await HTTPRig.start(path: path, plan: "503,200")
        for index in 0..<3 { try await rig.processor.process(QueueFixtures.event(index)) }
        rig.processor.start()
        let posted = PostedNotifications(rig.processor.notificationCenter)
        try await rig.processor.flushAndWait()
        #expect(await posted.waitForOutcome { $0.result == .sent })
        #expect(try rig.processor.queue.stats().sent == 3)
        let requests = await rig.collector.requests
        #expect(requests.map(\.status) == [503, 200])
        #expect(requests[0].body == requests[1].body, "the retry is byte-identical")
        #expect(await rig.collector.acceptedUUIDs == (0..<3).map { QueueFixtures.event($0).uuid })
        try await rig.shutdown()
    }

    @Test func retryAfterOneSecondIsWaitedFor() async throws {
        let center = EventNotificationCenter()
        let times = LockedValue<[Date]>([])
        center.addListener(for: .logEvent) { _ in times.withLock { $0.append(Date()) } }
        let posted = PostedNotifications(center)
        let rig = try await HTTPRig.start(path: path, plan: "429:1,200", center: center)
        try await rig.processor.process(QueueFixtures.event(1))
        rig.processor.start()
        rig.processor.flush()
        #expect(await posted.waitForOutcome { $0.result == .sent })
        let stamps = times.withLock { $0 }
        #expect(stamps.count == 2)
        if stamps.count == 2 {
            // Retry-After is real time here: never sooner than asked (a loaded machine only makes it later).
            let gap = stamps[1].timeIntervalSince(stamps[0])
            #expect(gap >= 0.95 && gap < 30, "waited \(gap) s for Retry-After: 1")
        }
        try await rig.shutdown()
    }

    @Test func payloadTooLargeSplitsTheBatch() async throws {
        let rig = try await HTTPRig.start(path: path, plan: "413,200")
        for index in 0..<6 { try await rig.processor.process(QueueFixtures.event(index)) }
        rig.processor.start()
        try await rig.processor.flushAndWait()
        #expect(try rig.processor.queue.stats().sent == 6)
        #expect(await rig.requestedBatches.map(\.count) == [6, 3, 3])
        #expect(try rig.processor.queue.stats().splits == 1)
        try await rig.shutdown()
    }

    @Test func onePoisonEventAmongAHundredEndsDeadAlone() async throws {
        let rig = try await HTTPRig.start(path: path) { $0.batchSize = 100 }
        var poison = QueueFixtures.event(50)
        // Valid JSON, but its event lacks the uuid the Events API requires: every request that
        // carries it is refused with 400.
        poison.visitorJSON = #"{"snapshots": [{"events": [{"entity_id": "1", "key": "purchase", "timestamp": 1}]}], "attributes": [], "visitor_id": "poison"}"#
        for index in 0..<100 {
            try await rig.processor.process(index == 50 ? poison : QueueFixtures.event(index))
        }
        rig.processor.start()
        try await rig.processor.flushAndWait()
        let stats = try rig.processor.queue.stats()
        #expect(stats.pending == 0 && stats.sent == 99 && stats.dead == 1)
        let dead = try rig.processor.queue.list(state: .dead)
        #expect(dead.map(\.uuid) == [poison.uuid])
        #expect(dead.first?.lastStatus == 400)
        #expect(dead.first?.lastError?.contains("uuid") == true, "the collector's reason is kept: \(dead.first?.lastError ?? "")")
        let delivered = await rig.collector.acceptedUUIDs
        #expect(Set(delivered).count == 99 && delivered.count == 99, "every good event once")
        try await rig.shutdown()
    }

    @Test func stopWithAHungServerReturnsInTimeAndANewProcessorSendsTheRest() async throws {
        let rig = try await HTTPRig.start(path: path, plan: "timeout", configure: {
            $0.batchSize = 2
            $0.timeoutInterval = 1
        }, requestTimeout: 30)
        let posted = PostedNotifications(rig.processor.notificationCenter)
        for index in 0..<5 { try await rig.processor.process(QueueFixtures.event(index)) }
        rig.processor.start()
        #expect(await posted.waitForLogEvents(2))
        let started = Date()
        await rig.processor.stop()
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed >= 0.99 && elapsed < 30, "stop took \(elapsed) s with timeoutInterval 1 s")
        #expect(try rig.processor.queue.stats().pending == 5, "nothing was lost")

        await rig.collector.setPlan(try FaultPlan(parsing: "200"))
        let next = try await HTTPRig.start(path: path) { $0.batchSize = 2 }
        next.processor.start()
        try await next.processor.flushAndWait()
        #expect(try next.processor.queue.stats().sent == 5)
        #expect(Set(await next.collector.acceptedUUIDs) == Set((0..<5).map { QueueFixtures.event($0).uuid }))
        try await next.shutdown()
        try await rig.dispatcher.shutdown()
        try await rig.collector.shutdown()
    }

    @Test func processorStopsGracefullyInAServiceGroup() async throws {
        let rig = try await HTTPRig.start(path: path)
        try await rig.processor.process(QueueFixtures.event(1))
        let group = ServiceGroup(services: [rig.processor], logger: UserEventFactory.silentLogger)
        let running = Task { try await group.run() }
        await rig.processor.worker.idle()  // returns once the service has started the worker and it has settled
        #expect(rig.processor.isRunning)
        try await rig.processor.process(QueueFixtures.event(2))
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(await rig.collector.acceptedUUIDs == [QueueFixtures.event(1).uuid, QueueFixtures.event(2).uuid])
        #expect(throws: ProcessorError.stopped) { try rig.processor.process(QueueFixtures.event(3)) }
        try await rig.dispatcher.shutdown()
        try await rig.collector.shutdown()
    }
}
