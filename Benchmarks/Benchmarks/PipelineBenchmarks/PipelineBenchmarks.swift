import Benchmark
import EventSpool
import EventSpoolCollector
import Foundation

// End to end (issue: the batch processor): 100,000 conversions are built, serialised and queued
// in groups of 1,000, then a processor with batch size 100 sends them all to a loopback
// collector that accepts everything. One run = the whole 100,000; the throughput column is
// runs per second, so events/s = 100,000 × that figure (the wall-clock column gives the time).

let datafile = #"""
{"version": "4", "accountId": "10367498574", "projectId": "10431130345", "revision": "241",
 "anonymizeIP": true, "botFiltering": true,
 "attributes": [{"id": "10401066117", "key": "browser"}, {"id": "10401066119", "key": "age"}, {"id": "10401066120", "key": "ltv"}],
 "events": [{"id": "10428540015", "key": "purchase", "experimentIds": []}],
 "experiments": [], "featureFlags": [], "rollouts": [], "audiences": [], "groups": []}
"""#

func freshPath() throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("eventspool-bench-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder.appendingPathComponent("pipeline.sqlite").path
}

/// Builds, serialises and queues `count` conversions (three attributes, two tags) in groups of 1,000.
func queueConversions(_ count: Int, into queue: EventQueue) throws {
    let factory = UserEventFactory(config: try ProjectConfig(datafile: datafile))
    for group in 0..<(count / 1_000) {
        _ = try queue.append(contentsOf: (0..<1_000).map { index in
            try factory.makeConversion(
                eventKey: "purchase", userId: "user-\(group * 1_000 + index)",
                attributes: ["browser": "chrome", "age": 31, "ltv": 12.5], tags: ["revenue": 1999, "value": 19.99]
            ).serialized()
        })
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark(
        "enqueue 100,000 conversions and send them all (batch size 100)",
        configuration: .init(metrics: [.wallClock, .throughput, .peakMemoryResident], scalingFactor: .one, maxDuration: .seconds(60), maxIterations: 3)
    ) { benchmark, collector in
        do {
            let queue = try EventQueue(path: try freshPath())
            var dispatch = HTTPEventDispatcher.Configuration()
            dispatch.endpoint = collector.url.absoluteString
            let dispatcher = try HTTPEventDispatcher(configuration: dispatch)
            var settings = ProcessorConfiguration()
            settings.batchSize = 100
            let processor = try BatchEventProcessor(queue: queue, configuration: settings, dispatcher: dispatcher)
            let started = Date()
            benchmark.startMeasurement()
            try queueConversions(100_000, into: queue)
            let queued = Date()
            processor.start()
            try await processor.flushAndWait()
            benchmark.stopMeasurement()
            let done = Date()
            print(String(
                format: "pipeline: queued 100,000 in %.2f s, sent them in %.2f s: %.0f events/s end to end",
                queued.timeIntervalSince(started), done.timeIntervalSince(queued), 100_000 / done.timeIntervalSince(started)
            ))
            let stats = try queue.stats()
            if stats.sent != 100_000 { print("pipeline benchmark: only \(stats.sent) of 100,000 events were sent") }
            await processor.stop()
            try await dispatcher.shutdown()
        } catch {
            print("pipeline benchmark failed: \(error)")
        }
    } setup: { () async throws -> Collector in
        try await Collector.start(retainsRequests: false)
    }

    // The worker's own ceiling: the same 100,000 events sent through a dispatcher that answers
    // 204 at once, without HTTP. What is left of the end-to-end time is HTTP and the collector.
    Benchmark(
        "send 100,000 queued events with a dispatcher that answers at once (batch size 100)",
        configuration: .init(metrics: [.wallClock, .peakMemoryResident], scalingFactor: .one, maxDuration: .seconds(60), maxIterations: 3)
    ) { benchmark in
        do {
            let queue = try EventQueue(path: try freshPath())
            try queueConversions(100_000, into: queue)
            var settings = ProcessorConfiguration()
            settings.batchSize = 100
            let processor = try BatchEventProcessor(queue: queue, configuration: settings, dispatcher: InstantDispatcher())
            let started = Date()
            benchmark.startMeasurement()
            processor.start()
            try await processor.flushAndWait()
            benchmark.stopMeasurement()
            let seconds = Date().timeIntervalSince(started)
            print(String(format: "worker without HTTP: sent %d events in %.2f s: %.0f events/s", try queue.stats().sent, seconds, 100_000 / seconds))
            await processor.stop()
        } catch {
            print("worker benchmark failed: \(error)")
        }
    }

    // The worker's memory with a backlog of 1,000,000 events: it reads a batch at a time, so the
    // peak resident memory stays where it is with 100 events queued.
    Benchmark(
        "send a backlog of 1,000,000 events (batch size 100)",
        configuration: .init(metrics: [.wallClock, .peakMemoryResident], warmupIterations: 0, scalingFactor: .one, maxDuration: .seconds(300), maxIterations: 1)
    ) { benchmark, setup in
        do {
            let (collector, path) = setup
            var dispatch = HTTPEventDispatcher.Configuration()
            dispatch.endpoint = collector.url.absoluteString
            let dispatcher = try HTTPEventDispatcher(configuration: dispatch)
            var settings = ProcessorConfiguration()
            settings.batchSize = 100
            let processor = try BatchEventProcessor(queuePath: path, configuration: settings, dispatcher: dispatcher)
            let started = Date()
            benchmark.startMeasurement()
            processor.start()
            try await processor.flushAndWait()
            benchmark.stopMeasurement()
            let stats = try processor.queue.stats()
            let seconds = Date().timeIntervalSince(started)
            print(String(format: "backlog: sent %d events in %.1f s: %.0f events/s", stats.sent, seconds, Double(stats.sent) / seconds))
            if stats.sent != 1_000_000 { print("backlog benchmark: only \(stats.sent) of 1,000,000 events were sent") }
            await processor.stop()
            try await dispatcher.shutdown()
        } catch {
            print("backlog benchmark failed: \(error)")
        }
    } setup: { () async throws -> (Collector, String) in
        let path = try freshPath()
        let queue = try EventQueue(path: path)
        try queueConversions(1_000_000, into: queue)
        queue.close()
        return (try await Collector.start(retainsRequests: false), path)
    }
}

/// Answers 204 at once: the processor's cost without HTTP.
struct InstantDispatcher: EventDispatcher {
    func dispatch(_ logEvent: EventSpool.LogEvent) async throws -> DispatchResponse {
        DispatchResponse(status: 204)
    }
}
