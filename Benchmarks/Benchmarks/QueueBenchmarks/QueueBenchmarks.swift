import Benchmark
import EventSpool
import Foundation

// The durable queue's hot paths (issue: the durable event queue). Each iteration of a
// benchmark does `scaledIterations` operations, so the throughput column reads directly as
// operations per second (in thousands, "K").

/// A conversion of about 500 bytes, as the payload encoder would write it, with a uuid made as
/// the library makes one (version 7, time-ordered). Random v4 uuids given by a caller cost a
/// grouped append about half its speed (see the README's Performance).
func sampleEvent(_ index: Int) -> SerializedEvent {
    let uuid = UserEventFactory.makeUUID()
    let head = #"{"snapshots": [{"events": [{"entity_id": "10428540015", "uuid": "\#(uuid)", "key": "purchase", "timestamp": \#(1_700_000_000_000 + index), "revenue": 1999, "value": 19.99, "tags": {"revenue": 1999, "value": 19.99}}]}], "attributes": [{"entity_id": "10401066117", "key": "browser", "type": "custom", "value": "chrome"}, {"entity_id": "$opt_bot_filtering", "key": "$opt_bot_filtering", "type": "custom", "value": true}], "visitor_id": "user-\#(index)-"#
    let visitor = head + String(repeating: "x", count: max(0, 498 - head.utf8.count)) + #""}"#
    return SerializedEvent(
        uuid: uuid, kind: .conversion, userId: "user-\(index)",
        context: EventContext(accountId: "10367498574", projectId: "10431130345", revision: "241", anonymizeIP: true, region: .us),
        visitorJSON: visitor, timestampMillis: 1_700_000_000_000 + Int64(index)
    )
}

/// This process's folder for queue files, removed at exit.
let benchmarkFolder: URL = {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("eventspool-bench-\(getpid())")
    atexit { try? FileManager.default.removeItem(at: benchmarkFolder) }
    return folder
}()

/// A fresh queue file in this process's temporary folder.
func freshQueue(_ name: String) throws -> EventQueue {
    let folder = benchmarkFolder.appendingPathComponent(UUID().uuidString.prefix(8).description)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return try EventQueue(path: folder.appendingPathComponent(name).path)
}

let benchmarks: @Sendable () -> Void = {
    let metrics: [BenchmarkMetric] = [.throughput, .wallClock, .peakMemoryResident]

    // 1,000 appends a run, 100 runs: 100,000 events of about 500 bytes, one call each.
    Benchmark(
        "append one event per call",
        configuration: .init(metrics: metrics, scalingFactor: .kilo, maxDuration: .seconds(30), maxIterations: 100)
    ) { benchmark, queue in
        let events = benchmark.scaledIterations.map { _ in sampleEvent(Int.random(in: 0..<1_000_000)) }
        benchmark.startMeasurement()
        for event in events { _ = try? queue.append(event) }
        benchmark.stopMeasurement()
    } setup: {
        try freshQueue("single.sqlite")
    }

    // One group of 1,000 a run, 100 runs: 100,000 events in 100 transactions.
    Benchmark(
        "append in groups of 1000",
        configuration: .init(metrics: metrics, scalingFactor: .kilo, maxDuration: .seconds(30), maxIterations: 100)
    ) { benchmark, queue in
        let group = benchmark.scaledIterations.map { _ in sampleEvent(Int.random(in: 0..<1_000_000)) }
        benchmark.startMeasurement()
        _ = try? queue.append(contentsOf: group)
        benchmark.stopMeasurement()
    } setup: {
        try freshQueue("grouped.sqlite")
    }

    // The issue's measure as one figure: 100,000 events in groups of 1,000 into a new queue,
    // checkpoints included (they run on the queue's background connection). Printed as events/s,
    // with the size of the write-ahead log at the end, which the checkpoints keep bounded.
    Benchmark(
        "append 100,000 events in groups of 1000 into a new queue",
        configuration: .init(metrics: [.wallClock, .peakMemoryResident], scalingFactor: .one, maxDuration: .seconds(60), maxIterations: 5)
    ) { benchmark in
        guard let queue = try? freshQueue("whole.sqlite") else { return }
        let groups = (0..<100).map { group in (0..<1_000).map { sampleEvent(group * 1_000 + $0) } }
        let started = Date()
        var slowest: [Double] = []
        benchmark.startMeasurement()
        for group in groups {
            let groupStarted = Date()
            _ = try? queue.append(contentsOf: group)
            slowest.append(Date().timeIntervalSince(groupStarted))
        }
        benchmark.stopMeasurement()
        let seconds = Date().timeIntervalSince(started)
        slowest.sort(by: >)
        let log = (try? FileManager.default.attributesOfItem(atPath: queue.path + "-wal")[.size] as? Int) ?? 0
        print(String(
            format: "grouped append: 100,000 events in %.3f s = %.0f events/s (the 3 slowest groups: %.3f s; log left: %.0f MB)",
            seconds, 100_000 / seconds, slowest.prefix(3).reduce(0, +), Double(log) / 1_048_576
        ))
    }

    // A backlog of 1,000,000 events sent in batches of 100 by a processor whose dispatcher
    // answers 2xx at once, one request at a time: each batch is a claim, a request and the
    // record of its 2xx, all through the public API. One run = the whole backlog; the print
    // gives the time a batch.
    Benchmark(
        "send a 1M backlog in batches of 100, dispatcher answering at once",
        configuration: .init(metrics: metrics, scalingFactor: .one, maxDuration: .seconds(300), maxIterations: 1)
    ) { (_: Benchmark, queue: EventQueue) in
        var settings = ProcessorConfiguration()
        settings.batchSize = 100
        settings.maxRequestsInFlight = 1
        let processor = BatchEventProcessor(queue: queue, configuration: settings, dispatcher: AnsweringAtOnce())
        processor.start()
        let started = Date()
        try? await processor.flushAndWait()
        let seconds = Date().timeIntervalSince(started)
        await processor.stop()
        print(String(format: "1M backlog: %.3f ms a batch of 100 (claim, request, record), %.0f events/s", seconds * 1_000 / 10_000, 1_000_000 / seconds))
    } setup: { () async throws -> EventQueue in
        let queue = try freshQueue("backlog.sqlite")
        for group in 0..<1_000 {
            _ = try queue.append(contentsOf: (0..<1_000).map { sampleEvent(group * 1_000 + $0) })
        }
        return queue
    }
}

/// A dispatcher that answers 204 at once, without HTTP.
struct AnsweringAtOnce: EventDispatcher {
    func dispatch(_ logEvent: LogEvent) async throws -> DispatchResponse {
        DispatchResponse(status: 204)
    }
}
