import Foundation
import Testing
@testable import EventSpool

/// The batch runs of the conformance scenarios: the same events give the same requests as the
/// reference's `BatchEventProcessor` (spec §5), sent over HTTP to the loopback collector.
@Suite("Batches like the reference's")
struct ProcessorConformanceTests {
    static let scenariosWithBatchRuns = ["conversion_tags", "mixed_batch", "processor_settings"]

    @Test(arguments: scenariosWithBatchRuns)
    func backlogIsBatchedLikeTheReference(_ scenario: String) async throws {
        let folder = TemporaryFolder()
        let input = try ConformanceFixtures.json("scenarios/\(scenario).json")
        let expected = try ConformanceFixtures.json("scenarios/\(scenario).expected.json")
        let batchRun = try #require(expected["batch_run"])
        let expectedBatches = (batchRun["batches"]?.arrayValue ?? []).map { ($0["uuids"]?.arrayValue ?? []).compactMap(\.stringValue) }

        let center = EventNotificationCenter()
        let notified = LockedValue<[EventSpool.LogEvent]>([])
        center.addListener(for: .logEvent) { notification in
            if case .logEvent(let logEvent) = notification { notified.withLock { $0.append(logEvent) } }
        }
        // The reference's requested settings, as a caller would pass them.
        let requested = input["processor"]
        let rig = try await HTTPRig.start(path: folder.file("events.sqlite"), configure: { configuration in
            configuration.batchSize = Int(requested?["batch_size"]?.intValue ?? 10)
            if let flush = requested?["flush_interval"] { configuration.flushInterval = flush.intValue.map(Double.init) ?? -1 }
            if let timeout = requested?["timeout_interval"] { configuration.timeoutInterval = timeout.intValue.map(Double.init) ?? -1 }
        }, center: center)
        let processor = rig.processor
        let effective = try #require(batchRun["effective_settings"])
        #expect(processor.settings.batchSize == Int(effective["batch_size"]?.intValue ?? -1))
        #expect(processor.settings.timeoutInterval == 5)

        // Replay the steps: events are queued while the worker is not running; it starts at the
        // first flush or stop, so what it finds is a backlog.
        let cases = try ConformanceTests.cases().filter { $0.scenario == scenario }
        var stopped = false
        for (index, step) in (input["steps"]?.arrayValue ?? []).enumerated() {
            switch step["op"]?.stringValue {
            case "flush":
                processor.start()
                try await processor.flushAndWait()
            case "stop":
                processor.start()
                await processor.stop()
                stopped = true
            default:
                for testCase in cases where testCase.step == index {
                    guard let event = try? ConformanceTests.makeEvent(testCase) else { continue }
                    if stopped {
                        #expect(throws: ProcessorError.stopped) { try processor.process(event) }
                    } else {
                        try await processor.process(event)
                    }
                }
            }
        }
        if !stopped {
            processor.start()
            await processor.stop()
        }

        // Up to four requests are out at once, so they may reach the collector in another order
        // than they were claimed; the batches themselves (their boundaries and events) must match.
        let enqueueOrder = Dictionary(expectedBatches.joined().enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let received = await rig.requestedBatches.sorted { (enqueueOrder[$0.first ?? ""] ?? .max) < (enqueueOrder[$1.first ?? ""] ?? .max) }
        #expect(received == expectedBatches)
        #expect(await rig.collector.requests.allSatisfy { $0.status == 200 })
        let logEvents = notified.withLock { $0 }
        #expect(logEvents.count == expectedBatches.count, "one logEvent notification per request")
        #expect(logEvents.allSatisfy { $0.headers == ["Content-Type": "application/json"] })
        #expect(logEvents.allSatisfy { $0.url == "https://logx.optimizely.com/v1/events" && $0.httpVerb == "POST" })
        try await rig.shutdown()
    }
}
