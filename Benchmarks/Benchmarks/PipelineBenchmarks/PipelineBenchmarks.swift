import Benchmark
import EventSpool
import EventSpoolAsyncHTTPClient
import EventSpoolCollector
import Foundation
import NIOCore

// End to end (issue: the batch processor): 100,000 conversions are built, serialised and handed
// to a running processor in groups of 1,000, and it sends them all (batch size 100) to a loopback
// server. One run = the whole 100,000; the throughput column is runs per second, so events/s =
// 100,000 × that figure (the wall-clock column gives the time), and each run prints events/s.

let datafile = #"""
{"version": "4", "accountId": "10367498574", "projectId": "10431130345", "revision": "241",
 "anonymizeIP": true, "botFiltering": true,
 "attributes": [{"id": "10401066117", "key": "browser"}, {"id": "10401066119", "key": "age"}, {"id": "10401066120", "key": "ltv"}],
 "events": [{"id": "10428540015", "key": "purchase", "experimentIds": []}],
 "experiments": [], "featureFlags": [], "rollouts": [], "audiences": [], "groups": []}
"""#

/// This process's folder for queue files, removed at exit: a run writes about 150 MB.
let benchmarkFolder: URL = {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("eventspool-bench-\(getpid())")
    atexit { try? FileManager.default.removeItem(at: benchmarkFolder) }
    return folder
}()

/// A path for a new queue file. The files of earlier runs in this process are removed first.
func freshPath() throws -> String {
    try? FileManager.default.removeItem(at: benchmarkFolder)
    try FileManager.default.createDirectory(at: benchmarkFolder, withIntermediateDirectories: true)
    return benchmarkFolder.appendingPathComponent("pipeline-\(UUID().uuidString.prefix(8)).sqlite").path
}

/// Builds `count` conversions (three attributes, two tags) in groups of 1,000 and hands each
/// group to `queueGroup` (a processor serialises them as it writes them).
func makeConversions(_ count: Int, _ queueGroup: ([UserEvent]) throws -> Void) throws {
    let factory = UserEventFactory(config: try ProjectConfig(datafile: datafile))
    for group in 0..<(count / 1_000) {
        try queueGroup((0..<1_000).map { index in
            try factory.makeConversion(
                eventKey: "purchase", userId: "user-\(group * 1_000 + index)",
                attributes: ["browser": "chrome", "age": 31, "ltv": 12.5], tags: ["revenue": 1999, "value": 19.99]
            )
        })
    }
}

/// Builds, serialises and queues `count` conversions in groups of 1,000 (a benchmark's setup).
func queueConversions(_ count: Int, into queue: EventQueue) throws {
    try makeConversions(count) { _ = try queue.append(contentsOf: $0.map { $0.serialized() }) }
}

/// The issue's measure: 100,000 conversions built, serialised and handed to a running
/// processor (batch size 100) in groups of 1,000, then a flush that returns once all are
/// sent to `endpoint`. Prints and returns the events/s end to end.
@discardableResult
func endToEnd(_ label: String, endpoint: String) async -> Double {
    do {
        let queue = try EventQueue(path: try freshPath())
        let dispatcher = try httpDispatcher(to: endpoint)
        let processor = BatchEventProcessor(queue: queue, configuration: batchesOf100, dispatcher: dispatcher)
        let started = Date()
        processor.start()
        // The producer runs on a thread of its own, as an application's request handlers would,
        // not on one of the two threads of Swift's task pool that the worker runs on.
        try await onProducerThread { try makeConversions(100_000) { try processor.process(contentsOf: $0) } }
        let queued = Date()
        let sentWhileQueueing = try queue.stats().sent
        try await processor.flushAndWait()
        let done = Date()
        let rate = 100_000 / done.timeIntervalSince(started)
        print(String(
            format: "%@: all 100,000 queued after %.2f s (%d of them sent by then) and sent after %.2f s: %.0f events/s end to end",
            label, queued.timeIntervalSince(started), sentWhileQueueing, done.timeIntervalSince(started), rate
        ))
        let stats = try queue.stats()
        if stats.sent != 100_000 { print("\(label): only \(stats.sent) of 100,000 events were sent") }
        await processor.stop()
        try await dispatcher.shutdown()
        return rate
    } catch {
        print("\(label) failed: \(error)")
        return 0
    }
}

/// The HTTP dispatcher on a server's transport (AsyncHTTPClient, as `eventspool run` sends),
/// sending every request to `endpoint`.
func httpDispatcher(to endpoint: String) throws -> ServerDispatcher {
    var configuration = HTTPEventDispatcher.Configuration()
    configuration.endpoint = endpoint
    let transport = AsyncHTTPClientTransport()
    return ServerDispatcher(dispatcher: try HTTPEventDispatcher(configuration: configuration, transport: transport), transport: transport)
}

/// An ``HTTPEventDispatcher`` with the AsyncHTTPClient transport it shuts down.
struct ServerDispatcher: EventDispatcher {
    let dispatcher: HTTPEventDispatcher
    let transport: AsyncHTTPClientTransport

    func dispatch(_ logEvent: LogEvent) async throws -> DispatchResponse {
        try await dispatcher.dispatch(logEvent)
    }

    func shutdown() async throws {
        try await transport.shutdown()
    }
}

/// The processor settings of every benchmark here: batch size 100, the rest as by default.
let batchesOf100: ProcessorConfiguration = {
    var settings = ProcessorConfiguration()
    settings.batchSize = 100
    return settings
}()

/// Runs `body` on a new thread and waits for it without holding a thread of the task pool.
func onProducerThread(_ body: @escaping @Sendable () throws -> Void) async throws {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        Thread {
            do {
                try body()
                continuation.resume()
            } catch {
                continuation.resume(throwing: error)
            }
        }.start()
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark(
        "enqueue 100,000 conversions and send them all to a server that accepts everything (batch size 100)",
        configuration: .init(metrics: [.wallClock, .throughput, .peakMemoryResident], scalingFactor: .one, maxDuration: .seconds(60), maxIterations: 5)
    ) { benchmark, server in
        benchmark.startMeasurement()
        await endToEnd("accept-all server", endpoint: server.url)
        benchmark.stopMeasurement()
    } setup: {
        try await AcceptAllServer.start()
    }

    // The same through the validating collector, which parses every body and checks every
    // event: what `eventspool collector` costs on the same two cores.
    Benchmark(
        "enqueue 100,000 conversions and send them all to the validating collector (batch size 100)",
        configuration: .init(metrics: [.wallClock, .throughput, .peakMemoryResident], scalingFactor: .one, maxDuration: .seconds(60), maxIterations: 3)
    ) { benchmark, collector in
        benchmark.startMeasurement()
        await endToEnd("validating collector", endpoint: collector.url.absoluteString)
        benchmark.stopMeasurement()
    } setup: {
        try await Collector.start(retainsRequests: false)
    }

    // HTTP alone: one request of 100 conversions (about 50 KB) after another through the
    // default dispatcher to the accept-all server, as the worker sends them (one in flight).
    Benchmark(
        "dispatch 1,000 requests of 100 events one after another to a server that accepts everything",
        configuration: .init(metrics: [.wallClock, .peakMemoryResident], scalingFactor: .one, maxDuration: .seconds(60), maxIterations: 3)
    ) { benchmark, server in
        do {
            var batch: [SerializedEvent] = []
            try makeConversions(1_000) { batch = $0.prefix(100).map { $0.serialized() } }
            guard let logEvent = LogEvent.batch(batch) else { return }
            let dispatcher = try httpDispatcher(to: server.url)
            _ = try await dispatcher.dispatch(logEvent)
            let started = Date()
            benchmark.startMeasurement()
            for _ in 0..<1_000 { _ = try await dispatcher.dispatch(logEvent) }
            benchmark.stopMeasurement()
            let seconds = Date().timeIntervalSince(started)
            print(String(format: "HTTP alone: 1,000 requests of %d bytes in %.2f s: %.3f ms a request", logEvent.body.count, seconds, seconds))
            try await dispatcher.shutdown()
        } catch {
            print("HTTP benchmark failed: \(error)")
        }
    } setup: {
        try await AcceptAllServer.start()
    }

    // The sending half alone: 100,000 events queued first, then sent by a processor through
    // `dispatcher` (batch size 100). With a dispatcher that answers at once it is the worker's
    // own ceiling (the queue's claims and outcomes); with the accept-all server, HTTP added.
    func sendQueued(_ label: String, _ dispatcher: any EventDispatcher) async {
        do {
            let queue = try EventQueue(path: try freshPath())
            try queueConversions(100_000, into: queue)
            let processor = BatchEventProcessor(queue: queue, configuration: batchesOf100, dispatcher: dispatcher)
            let started = Date()
            processor.start()
            try await processor.flushAndWait()
            let seconds = Date().timeIntervalSince(started)
            print(String(format: "%@: sent %d queued events in %.2f s: %.0f events/s", label, try queue.stats().sent, seconds, 100_000 / seconds))
            await processor.stop()
        } catch {
            print("\(label) failed: \(error)")
        }
    }

    Benchmark(
        "send 100,000 queued events with a dispatcher that answers at once (batch size 100)",
        configuration: .init(metrics: [.wallClock, .peakMemoryResident], scalingFactor: .one, maxDuration: .seconds(60), maxIterations: 3)
    ) { benchmark in
        await sendQueued("worker without HTTP", InstantDispatcher())
    }

    Benchmark(
        "send 100,000 queued events to a server that accepts everything (batch size 100)",
        configuration: .init(metrics: [.wallClock, .peakMemoryResident], scalingFactor: .one, maxDuration: .seconds(60), maxIterations: 3)
    ) { benchmark, server in
        do {
            let dispatcher = try httpDispatcher(to: server.url)
            await sendQueued("worker with HTTP", dispatcher)
            try await dispatcher.shutdown()
        } catch {
            print("worker with HTTP failed: \(error)")
        }
    } setup: {
        try await AcceptAllServer.start()
    }

    // A real network's round trip: the server answers 50 ms after each request. 2,000
    // conversions, batch size 10, every other setting as by default (the reference's setup:
    // Benchmarks/Reference/pipeline_rtt.py). One request at a time is the reference SDKs' way;
    // four at once is EventSpool's default.
    for inFlight in [1, 4] {
        Benchmark(
            "send 2,000 conversions to a server that answers after 50 ms (batch size 10, \(inFlight) in flight)",
            configuration: .init(metrics: [.wallClock], scalingFactor: .one, maxDuration: .seconds(60), maxIterations: 2)
        ) { benchmark, server in
            await roundTrips(inFlight: inFlight, endpoint: server.url)
        } setup: {
            try await AcceptAllServer.start(delay: .milliseconds(50))
        }
    }

    // Two processes: `eventspool run` as a service and `eventspool enqueue` of 100,000 lines
    // from another process, to the accept-all server in this one (batch size 100). Needs the
    // release build of the command: `swift build -c release --product eventspool` in the project.
    Benchmark(
        "eventspool run as a service, eventspool enqueue of 100,000 conversions from another process (batch size 100)",
        configuration: .init(metrics: [.wallClock], warmupIterations: 0, scalingFactor: .one, maxDuration: .seconds(120), maxIterations: 3)
    ) { benchmark, setup in
        await twoProcesses(endpoint: setup.server.url, input: setup.input)
    } setup: { () async throws -> (server: AcceptAllServer, input: String) in
        (try await AcceptAllServer.start(), try conversionLines(100_000))
    }

    // The worker's memory with a backlog of 1,000,000 events: it reads a batch at a time, so the
    // peak resident memory stays where it is with 100 events queued.
    Benchmark(
        "send a backlog of 1,000,000 events (batch size 100)",
        configuration: .init(metrics: [.wallClock, .peakMemoryResident], warmupIterations: 0, scalingFactor: .one, maxDuration: .seconds(300), maxIterations: 1)
    ) { benchmark, setup in
        do {
            let (collector, path) = setup
            let dispatcher = try httpDispatcher(to: collector.url.absoluteString)
            let processor = try BatchEventProcessor(queuePath: path, configuration: batchesOf100, dispatcher: dispatcher)
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

/// 2,000 conversions handed to a processor (batch size 10, `inFlight` requests at once, the
/// rest by default) in groups of 100 while it sends them to `endpoint`; prints the events/s.
func roundTrips(inFlight: Int, endpoint: String) async {
    do {
        let queue = try EventQueue(path: try freshPath())
        let dispatcher = try httpDispatcher(to: endpoint)
        var settings = ProcessorConfiguration()
        settings.maxRequestsInFlight = inFlight
        let processor = BatchEventProcessor(queue: queue, configuration: settings, dispatcher: dispatcher)
        let started = Date()
        processor.start()
        let factory = UserEventFactory(config: try ProjectConfig(datafile: datafile))
        for group in 0..<20 {
            let events = try (0..<100).map { index in
                try factory.makeConversion(
                    eventKey: "purchase", userId: "user-\(group * 100 + index)",
                    attributes: ["browser": "chrome", "age": 31, "ltv": 12.5], tags: ["revenue": 1999, "value": 19.99]
                )
            }
            try await processor.process(contentsOf: events)
        }
        try await processor.flushAndWait()
        let seconds = Date().timeIntervalSince(started)
        let sent = try queue.stats().sent
        print(String(format: "50 ms round trip, %d in flight: %d events in %.2f s: %.0f events/s", inFlight, sent, seconds, Double(sent) / seconds))
        await processor.stop()
        try await dispatcher.shutdown()
    } catch {
        print("round-trip benchmark failed: \(error)")
    }
}

/// The project's release build of `eventspool`.
let eventspoolBinary = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent(".build/release/eventspool").path

/// The conformance datafile of the project's tests (its `purchase` event is the one used).
let conformanceDatafile = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Tests/EventSpoolTests/Fixtures/conformance/datafile.json").path

/// A JSON Lines file of `count` conversions for `eventspool enqueue`, in this process's folder.
func conversionLines(_ count: Int) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("eventspool-lines-\(getpid()).jsonl").path
    var text = ""
    text.reserveCapacity(count * 200)
    for index in 0..<count {
        text += #"{"op": "conversion", "user_id": "user-\#(index)", "event_key": "purchase", "attributes": {"browser": "chrome", "age": \#(index % 90), "ltv": 12.5}, "tags": {"revenue": \#(index), "value": 19.99}}"# + "\n"
    }
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    atexit { try? FileManager.default.removeItem(atPath: FileManager.default.temporaryDirectory.appendingPathComponent("eventspool-lines-\(getpid()).jsonl").path) }
    return path
}

/// `eventspool run` on a new queue, then `eventspool enqueue` of `input` from another process;
/// prints the events/s from the start of `enqueue` until the last event is sent.
func twoProcesses(endpoint: String, input: String) async {
    do {
        guard FileManager.default.isExecutableFile(atPath: eventspoolBinary) else {
            print("two processes: build the command first: swift build -c release --product eventspool (looked for \(eventspoolBinary))")
            return
        }
        let path = try freshPath()
        let lines = try String(contentsOfFile: input, encoding: .utf8).split(separator: "\n").count
        let run = try launch(["run", "--db", path, "--endpoint", endpoint, "--batch-size", "100"])
        // The service creates the file and starts its worker; give it a moment.
        while !FileManager.default.fileExists(atPath: path + "-wal") { try await Task.sleep(nanoseconds: 10_000_000) }
        try await Task.sleep(nanoseconds: 300_000_000)
        let started = Date()
        let enqueue = try launch(["enqueue", "--db", path, "--datafile", conformanceDatafile, "--input", input])
        enqueue.waitUntilExit()
        let enqueued = Date()
        var configuration = QueueConfiguration()
        configuration.readOnly = true
        let reader = try EventQueue(path: path, configuration: configuration)
        while try reader.stats().sent < lines { try await Task.sleep(nanoseconds: 5_000_000) }
        let done = Date()
        kill(run.processIdentifier, SIGTERM)
        run.waitUntilExit()
        print(String(
            format: "two processes: %d lines enqueued by the other process in %.2f s, all sent after %.2f s: %.0f events/s end to end",
            lines, enqueued.timeIntervalSince(started), done.timeIntervalSince(started), Double(lines) / done.timeIntervalSince(started)
        ))
    } catch {
        print("two-process benchmark failed: \(error)")
    }
}

/// Starts `eventspool ARGUMENTS`, its output discarded.
func launch(_ arguments: [String]) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: eventspoolBinary)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
}

/// Answers 204 at once: the processor's cost without HTTP.
struct InstantDispatcher: EventDispatcher {
    func dispatch(_ logEvent: EventSpool.LogEvent) async throws -> DispatchResponse {
        DispatchResponse(status: 204)
    }
}
