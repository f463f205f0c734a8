import ArgumentParser
import EventSpool
import EventSpoolAsyncHTTPClient
import EventSpoolCollector
import Foundation
import Synchronization

/// `eventspool demo`: the main job on an embedded default (cli.md). A queue file, the collector
/// in-process with a few injected faults, a stream of impressions and conversions, the worker
/// with a progress bar, and a summary.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the whole pipeline against a local collector with injected faults, and show what happened."
    )

    @Option(help: "How many user events to generate.")
    var events = 3_000

    @Option(help: ArgumentHelp("The queue file (created if missing).", valueName: "path"))
    var db = "eventspool-demo.sqlite"

    @Option(help: ArgumentHelp("The collector's fault plan (see `eventspool collector --help`).", valueName: "plan"))
    var fail = "200x4,503,200x6,429:1,200x5,reset,200x8,413,200x3,timeout,200"

    @Option(help: "Events generated per second (0: as fast as possible).")
    var rate = 1_500

    func validate() throws {
        guard events > 0 else { throw ValidationError("--events must be 1 or more") }
        guard rate >= 0 else { throw ValidationError("--rate must be 0 or more") }
    }

    func run() async throws {
        let plan = try CommandFailure.guarding { () throws(FaultPlanError) in try FaultPlan(parsing: fail) }
        let config = try CommandFailure.guarding { () throws(DatafileError) in try ProjectConfig(datafile: SampleDatafile.json) }
        let queue = try QueueOptions.openForWriting(path: db)
        let before = try CommandFailure.guarding { () throws(QueueError) in try queue.stats() }
        let collector = try await Self.failing("start the collector") { try await Collector.start(plan: plan, retainsRequests: false) }

        var dispatch = HTTPEventDispatcher.Configuration()
        dispatch.endpoint = collector.url.absoluteString
        dispatch.requestTimeout = 1
        let transport = AsyncHTTPClientTransport(configuration: .init(connectTimeout: .seconds(1)))
        let dispatcher = try CommandFailure.guarding { () throws(HTTPEventDispatcher.ConfigurationError) in
            try HTTPEventDispatcher(configuration: dispatch, transport: transport)
        }
        var settings = ProcessorConfiguration()
        settings.batchSize = 50
        settings.flushInterval = 0.5
        settings.leaseInterval = 6
        settings.retry = RetryPolicy(baseDelay: 0.1, maxDelay: 1, maxAttempts: 10, maxAge: 3_600)
        let processor = BatchEventProcessor(queue: queue, configuration: settings, dispatcher: dispatcher)

        let requests = RequestCount()
        processor.notificationCenter.addListener(for: .logEvent) { _ in requests.increment() }

        print("EventSpool demo: \(events) events → \(db) → local collector at \(collector.url.absoluteString)")
        print("injected faults: \(fail)")
        let started = Date()
        processor.start()
        var traffic = DemoTraffic(factory: UserEventFactory(config: config))
        var display = ProgressDisplay(total: events)
        var queued = 0
        var rejected = 0
        for index in 0..<events {
            do {
                try await processor.process(try traffic.nextEvent())
                queued += 1
            } catch {
                rejected += 1
                CommandFailure.standardError("eventspool demo: event \(index) refused: \(error)")
            }
            if index % 100 == 99 {
                display.show(queued: queued, stats: try Self.stats(queue, before: before))
                if rate > 0 { try? await Task.sleep(nanoseconds: UInt64(100 * 1_000_000_000 / rate)) }
            }
        }
        processor.flush()
        var stats = try Self.stats(queue, before: before)
        let deadline = Date().addingTimeInterval(120)
        while stats.pending + stats.inflight > 0 && Date() < deadline {
            display.show(queued: queued, stats: stats)
            try? await Task.sleep(nanoseconds: 100_000_000)
            processor.flush()
            stats = try Self.stats(queue, before: before)
        }
        let elapsed = Date().timeIntervalSince(started)
        display.show(queued: queued, stats: stats, final: true)
        await processor.stop()
        try? await transport.shutdown()
        try? await collector.shutdown()

        let totals = try CommandFailure.guarding { () throws(QueueError) in try queue.stats() }
        print("""

            summary
              events queued this run  \(queued)\(rejected > 0 ? " (\(rejected) refused)" : "")
              delivered this run      \(stats.sent) in \(stats.batchesSent) batches, \(String(format: "%.0f", Double(stats.sent) / max(elapsed, 0.001))) events/s over \(String(format: "%.1f", elapsed)) s
              requests                \(requests.value), the collector failing some on purpose
              retries                 \(stats.retries), splits \(stats.splits)
              dead letters            \(stats.dead)
              queue file totals       pending \(totals.pending), in flight \(totals.inflight), sent \(totals.sent), dead \(totals.dead)

            inspect the queue:
              sqlite3 \(db) 'SELECT * FROM queue_summary'
              swift run eventspool stats --db \(db)
            """)
        if totals.pending + totals.inflight > 0 {
            throw CommandFailure.report("\(totals.pending + totals.inflight) events were not delivered in time; run `eventspool run --db \(db) --until-empty` to finish")
        }
    }

    /// The queue's figures for this run: counters minus those of the file before it.
    static func stats(_ queue: EventQueue, before: QueueStats) throws -> QueueStats {
        var stats = try CommandFailure.guarding { () throws(QueueError) in try queue.stats() }
        stats.sent -= before.sent
        stats.dead -= before.dead
        stats.batchesSent -= before.batchesSent
        stats.retries -= before.retries
        stats.splits -= before.splits
        return stats
    }

    /// Runs `body`, turning a failure into the one-line report of `what`.
    static func failing<T>(_ what: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw CommandFailure.report("cannot \(what): \(error)")
        }
    }
}

/// Counts the requests the demo's worker sends (one `logEvent` notification each).
final class RequestCount: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
