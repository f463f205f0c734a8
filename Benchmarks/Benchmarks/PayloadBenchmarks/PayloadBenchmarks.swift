import Benchmark
import EventSpool
import Foundation

// Building and serialising user events (issue: Optimizely events and the wire payload).

/// A small datafile with the attributes and events the benchmark uses.
let datafile = #"""
{"version": "4", "accountId": "10367498574", "projectId": "10431130345", "revision": "241",
 "anonymizeIP": true, "botFiltering": true,
 "attributes": [{"id": "10401066117", "key": "browser"}, {"id": "10401066119", "key": "age"}, {"id": "10401066120", "key": "ltv"}],
 "events": [{"id": "10428540015", "key": "purchase", "experimentIds": []}],
 "experiments": [], "featureFlags": [], "rollouts": [], "audiences": [], "groups": []}
"""#

let benchmarks: @Sendable () -> Void = {
    let metrics: [BenchmarkMetric] = [.throughput, .wallClock, .mallocCountTotal]

    // 1,000 conversions a run (three attributes, two tags), each built and serialised. The
    // serialisation is `LogEvent.single`, the public way to an event's wire form: the visitor
    // object the queue stores, inside a one-event body (the context's header and the closing
    // brackets added).
    Benchmark(
        "build and serialise a conversion (3 attributes, 2 tags)",
        configuration: .init(metrics: metrics, scalingFactor: .kilo, maxDuration: .seconds(10), maxIterations: 200)
    ) { benchmark, factory in
        for index in benchmark.scaledIterations {
            let age: EventValue = .int(Int64(index % 90))
            let revenue: EventValue = .int(Int64(index))
            let attributes: UserAttributes = ["browser": "chrome", "age": age, "ltv": 12.5]
            let tags: EventTags = ["revenue": revenue, "value": 19.99]
            guard let event = try? factory.makeConversion(eventKey: "purchase", userId: "user-\(index)", attributes: attributes, tags: tags)
            else { continue }
            blackHole(LogEvent.single(event))
        }
    } setup: {
        UserEventFactory(config: try ProjectConfig(datafile: datafile))
    }

    // 1,000 enqueue lines a run, decoded and serialised as `eventspool enqueue` does.
    Benchmark(
        "decode and serialise an enqueue line",
        configuration: .init(metrics: metrics, scalingFactor: .kilo, maxDuration: .seconds(10), maxIterations: 200)
    ) { benchmark, decoder in
        let lines = benchmark.scaledIterations.map { index in
            #"{"op": "conversion", "user_id": "user-\#(index)", "event_key": "purchase", "attributes": {"browser": "chrome", "age": 31, "ltv": 12.5}, "tags": {"revenue": 1999, "value": 19.99}}"#
        }
        benchmark.startMeasurement()
        for line in lines {
            if let event = try? decoder.decode(line) { blackHole(LogEvent.single(event)) }
        }
        benchmark.stopMeasurement()
    } setup: {
        EventLineDecoder(factory: UserEventFactory(config: try ProjectConfig(datafile: datafile)))
    }
}
