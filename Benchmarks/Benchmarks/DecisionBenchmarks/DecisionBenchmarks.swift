import Benchmark
import EventSpool
import Foundation

// The Optimizely client deciding (issue 14): the 911 calls of the decision fixtures (example,
// generated1 … generated6), replayed as `eventspool decide` runs them, side by side with
// Benchmarks/Reference/decide_throughput.py (the official Python SDK on the same calls).
//
// A pass replays every call of every fixture in order, each fixture on its own client (with a
// user profile service where the fixture has `user_profiles`); state starts afresh for each
// pass, so every pass makes the fixtures' decisions and events. Each run of a benchmark does
// passes for about five seconds and prints calls/s, the figure to read beside the reference's
// `reference decide mode=… calls_per_second=…`.

/// One fixture: its datafile, read once, its calls, and its starting user profiles.
struct Fixture {
    let config: ProjectConfig
    let calls: [ClientCall]
    let profiles: [UserProfile]?

    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Tests/EventSpoolTests/Fixtures/conformance/decisions")

    static func load(_ name: String) throws -> Fixture {
        let input = try parse(Data(contentsOf: folder.appendingPathComponent("\(name).input.json")))
        guard case .object(let fields) = input, case .string(let datafile)? = fields["datafile"], case .array(let calls)? = fields["calls"] else {
            throw CocoaError(.fileReadCorruptFile)
        }
        return Fixture(
            config: try ProjectConfig(datafile: Data(contentsOf: folder.appendingPathComponent(datafile))),
            calls: try calls.map { try ClientCall(json: $0) },
            profiles: try fields["user_profiles"].map { try UserProfile.profiles(fromJSON: $0) }
        )
    }

    static func parse(_ data: Data) throws -> EventValue {
        try Array(data).withUnsafeBufferPointer { buffer throws(JSONParseError) in try EventValue.parse(buffer) }
    }

    static let all: [Fixture] = {
        do {
            return try ["example", "generated1", "generated2", "generated3", "generated4", "generated5", "generated6"].map(load)
        } catch {
            print("cannot read the decision fixtures: \(error)")
            return []
        }
    }()
}

/// Accepts every batch at once, without a network: the reference's `--dispatch none`.
struct AcceptingDispatcher: EventDispatcher {
    func dispatch(_ logEvent: LogEvent) async throws -> DispatchResponse { DispatchResponse(status: 204) }
}

/// This process's folder for queue files, removed at exit.
let benchmarkFolder: URL = {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("eventspool-decide-bench-\(getpid())")
    try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(at: benchmarkFolder) }
    return folder
}()

/// Replays passes for about `seconds`; returns the number of calls and events.
func replay(seconds: Double, processor: (any EventProcessor)?, options: [OptimizelyDecideOption]) -> (calls: Int, events: Int) {
    var calls = 0
    var events = 0
    let started = Date()
    while Date().timeIntervalSince(started) < seconds {
        for fixture in Fixture.all {
            let session = ClientCallSession(
                config: fixture.config, eventProcessor: processor,
                userProfileService: fixture.profiles.map { InMemoryUserProfileService(profiles: $0) },
                defaultDecideOptions: options, collectsNotifications: false)
            for call in fixture.calls {
                events += session.run(call).events.count
            }
            calls += fixture.calls.count
        }
    }
    return (calls, events)
}

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(metrics: [.wallClock, .peakMemoryResident], scalingFactor: .one,
                                                maxDuration: .seconds(60), maxIterations: 3)

    // The figure: impressions and conversions written durably to the SQLite queue by a
    // running BatchEventProcessor, which sends them (to a dispatcher that accepts at once);
    // the time includes the drain, as the reference's does.
    for (label, options) in [("events", [OptimizelyDecideOption]()), ("no_decision_events", [.disableDecisionEvent])] {
        Benchmark("decide the fixture calls, durable events sent by the worker (\(label))", configuration: configuration) { benchmark in
            let path = benchmarkFolder.appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8)).sqlite").path
            guard let processor = try? BatchEventProcessor(queuePath: path, dispatcher: AcceptingDispatcher()) else { return }
            processor.start()
            benchmark.startMeasurement()
            let started = Date()
            let (calls, events) = replay(seconds: 5, processor: processor, options: options)
            try? await processor.flushAndWait()
            let seconds = Date().timeIntervalSince(started)
            benchmark.stopMeasurement()
            let sent = (try? processor.queue.stats().sent) ?? 0
            await processor.stop()
            print(String(format: "decide mode=%@ durable: %d calls in %.2f s = %.0f calls/s (%d events, %d sent)",
                         label, calls, seconds, Double(calls) / seconds, events, sent))
        }
    }

    // The same, without the worker: each event durable in the queue when its call returns.
    Benchmark("decide the fixture calls, durable events, worker not running", configuration: configuration) { benchmark in
        let path = benchmarkFolder.appendingPathComponent("queued-\(UUID().uuidString.prefix(8)).sqlite").path
        guard let processor = try? BatchEventProcessor(queuePath: path, dispatcher: AcceptingDispatcher()) else { return }
        benchmark.startMeasurement()
        let started = Date()
        let (calls, events) = replay(seconds: 5, processor: processor, options: [])
        let seconds = Date().timeIntervalSince(started)
        benchmark.stopMeasurement()
        await processor.stop()
        print(String(format: "decide mode=events queued only: %d calls in %.2f s = %.0f calls/s (%d events)",
                     calls, seconds, Double(calls) / seconds, events))
    }

    // The queue's share: the events of one pass (recorded beforehand), appended as the client
    // appends them, one transaction for each call that has events.
    Benchmark("append the events of the fixture calls, one transaction a call", configuration: configuration) { benchmark in
        var groups: [[SerializedEvent]] = []
        for fixture in Fixture.all {
            let session = ClientCallSession(config: fixture.config, userProfileService: fixture.profiles.map { InMemoryUserProfileService(profiles: $0) },
                                            collectsNotifications: false)
            for call in fixture.calls {
                let events = session.run(call).events
                if !events.isEmpty { groups.append(events.map { $0.serialized() }) }
            }
        }
        let path = benchmarkFolder.appendingPathComponent("append-\(UUID().uuidString.prefix(8)).sqlite").path
        guard let queue = try? EventQueue(path: path) else { return }
        let passes = 40
        // Fresh uuids for each pass, made as the client makes them, so nothing is refused as a
        // duplicate.
        let renamed = (0..<passes).flatMap { _ in
            groups.map { group in
                group.map { SerializedEvent(uuid: UserEventFactory.makeUUID(), kind: $0.kind, userId: $0.userId, context: $0.context,
                                            visitorJSON: $0.visitorJSON, timestampMillis: $0.timestampMillis) }
            }
        }
        benchmark.startMeasurement()
        let started = Date()
        for group in renamed {
            if group.count == 1 { _ = try? queue.append(group[0]) } else { _ = try? queue.append(contentsOf: group) }
        }
        let seconds = Date().timeIntervalSince(started)
        benchmark.stopMeasurement()
        let events = groups.reduce(0) { $0 + $1.count } * passes
        print(String(format: "append: %d events in %d transactions in %.2f s = %.1f µs a transaction (%.0f calls/s of the pass at most)",
                     events, groups.count * passes, seconds, seconds / Double(groups.count * passes) * 1e6,
                     Double(Fixture.all.reduce(0) { $0 + $1.calls.count } * passes) / seconds))
    }

    // The decisions alone: events kept in memory only (the engine's own cost).
    Benchmark("decide the fixture calls, events in memory", configuration: configuration) { benchmark in
        benchmark.startMeasurement()
        let started = Date()
        let (calls, events) = replay(seconds: 5, processor: nil, options: [])
        let seconds = Date().timeIntervalSince(started)
        benchmark.stopMeasurement()
        print(String(format: "decide mode=events in memory: %d calls in %.2f s = %.0f calls/s (%d events)",
                     calls, seconds, Double(calls) / seconds, events))
    }
}
