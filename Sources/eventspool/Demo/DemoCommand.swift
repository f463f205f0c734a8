import ArgumentParser
import EventSpool
import EventSpoolAsyncHTTPClient
import EventSpoolCollector
import Foundation
import Logging

/// `eventspool demo`: the whole SDK on an embedded default (cli.md). The collector in-process,
/// serving the sample project's datafile by SDK key and failing some requests; an
/// `OptimizelyClient` started from that SDK key over a queue file; visitors deciding flags and
/// converting, with a progress bar; a new datafile revision published mid-run, whose arrival
/// sends the old revision's pending events at once; and a summary.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the whole SDK against a local collector with injected faults and a live datafile update, and show what happened."
    )

    /// The demo project's SDK key at the local collector.
    static let sdkKey = "DemoSdkKey"
    /// Events per batch.
    static let batchSize = 50

    @Option(help: "How many user events to generate (one per client call).")
    var events = 3_000

    @Option(help: ArgumentHelp("The queue file (created if missing).", valueName: "path"))
    var db = "eventspool-demo.sqlite"

    @Option(help: ArgumentHelp("The collector's fault plan for events (see `eventspool collector --help`).", valueName: "plan"))
    var fail = "200x4,503,200x6,429:1,200x5,reset,200x8,413,200x3,timeout,200"

    @Option(name: .customLong("datafile-fail"), help: ArgumentHelp("The collector's fault plan for datafile requests.", valueName: "plan"))
    var datafileFail = "200x3,503,200x4,503x2,200"

    @Option(help: "Events generated per second (0: as fast as possible).")
    var rate = 1_500

    func validate() throws {
        guard events > 0 else { throw ValidationError("--events must be 1 or more") }
        guard rate >= 0 else { throw ValidationError("--rate must be 0 or more") }
    }

    func run() async throws {
        let plan = try CommandFailure.guarding { () throws(FaultPlanError) in try FaultPlan(parsing: fail) }
        let datafilePlan = try CommandFailure.guarding { () throws(FaultPlanError) in try DatafileFaultPlan(parsing: datafileFail) }
        let queue = try QueueOptions.openForWriting(path: db)
        let before = try CommandFailure.guarding { () throws(QueueError) in try queue.stats() }
        let collector = try await Self.failing("start the collector") { try await Collector.start(plan: plan, datafilePlan: datafilePlan) }
        await collector.setDatafile(SampleDatafile.json, sdkKey: Self.sdkKey)

        // A server's transport, for events and the datafile alike.
        let transport = AsyncHTTPClientTransport(configuration: .init(connectTimeout: .seconds(1)))
        var dispatch = HTTPEventDispatcher.Configuration()
        dispatch.endpoint = collector.url.absoluteString
        dispatch.requestTimeout = 1
        let dispatcher = try CommandFailure.guarding { () throws(HTTPEventDispatcher.ConfigurationError) in
            try HTTPEventDispatcher(configuration: dispatch, transport: transport)
        }
        var settings = ProcessorConfiguration()
        settings.batchSize = Self.batchSize
        settings.flushInterval = 1
        settings.leaseInterval = 6
        settings.retry = RetryPolicy(baseDelay: 0.1, maxDelay: 1, maxAttempts: 10, maxAge: 3_600)
        let center = EventNotificationCenter()
        let tally = DemoTally(center: center, batchSize: Self.batchSize)
        let processor = BatchEventProcessor(queue: queue, configuration: settings, dispatcher: dispatcher, notificationCenter: center)

        var polling = DatafilePollingSettings(sdkKey: Self.sdkKey, urlTemplate: collector.datafileURLTemplate())
        polling.pollingInterval = 0.2  // a demo's pace; the default is 300 s
        polling.retryBaseDelay = 0.05
        polling.retryMaxDelay = 0.2
        // Logs only what would alarm: the short interval's advice and the injected datafile
        // faults are the demo's own doing.
        var logger = Logger(label: "eventspool.demo") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .error
        let client = try CommandFailure.guarding { () throws(OptimizelyClientError) in
            try OptimizelyClient(source: .polling(polling), eventProcessor: processor, transport: transport, logger: logger)
        }

        print("EventSpool demo: \(events) events from an OptimizelyClient → \(db) → local collector at \(collector.baseURL)")
        print("datafile: revision 241 at \(collector.baseURL)/datafiles/\(Self.sdkKey).json, polled every \(polling.pollingInterval) s")
        print("injected faults: events \(fail); datafile \(datafileFail)")
        let started = Date()
        guard await client.start() else {
            await Self.shutDown(client, transport, collector)
            throw CommandFailure.report("the client got no datafile from the local collector")
        }
        var showcase = DemoShowcase()
        showcase.record(client)
        var traffic = DemoTraffic()
        var display = ProgressDisplay(total: events)
        var kinds = (impressions: 0, conversions: 0)
        // Mid-run, and off a batch boundary, so that a partial batch of revision 241 is waiting.
        let changeAt = events / 2 - min(13, events / 2)
        for index in 0..<events {
            if index == changeAt {
                await publishNewRevision(collector, client, display: display)
                showcase.record(client)
            }
            switch traffic.step(on: client) {
            case .impression: kinds.impressions += 1
            case .conversion: kinds.conversions += 1
            }
            if index % 100 == 99 {
                display.show(queued: index + 1, stats: try Self.stats(queue, before: before))
                if rate > 0 { try? await Task.sleep(nanoseconds: UInt64(100 * 1_000_000_000 / rate)) }
            }
        }
        // The last partial batches go by age (the flush interval), retries by their backoff.
        var stats = try Self.stats(queue, before: before)
        let deadline = Date().addingTimeInterval(120)
        while stats.pending + stats.inflight > 0 && Date() < deadline {
            display.show(queued: events, stats: stats)
            try? await Task.sleep(nanoseconds: 100_000_000)
            stats = try Self.stats(queue, before: before)
        }
        let elapsed = Date().timeIntervalSince(started)
        display.show(queued: events, stats: stats, final: true)
        let datafileRequests = await collector.datafileRequests
        await Self.shutDown(client, transport, collector)

        let totals = try CommandFailure.guarding { () throws(QueueError) in try queue.stats() }
        let queued = totals.pending + totals.inflight + totals.sent + totals.dead
            - (before.pending + before.inflight + before.sent + before.dead)
        let figures = tally.figures
        let statuses = Dictionary(grouping: datafileRequests, by: \.status).mapValues(\.count)
        print("""

            summary
              events queued this run  \(queued) (\(kinds.impressions) impressions from decide and activate, \(kinds.conversions) conversions from track)
              delivered this run      \(stats.sent) in \(stats.batchesSent) batches, \(String(format: "%.0f", Double(stats.sent) / max(elapsed, 0.001))) events/s over \(String(format: "%.1f", elapsed)) s
              batches by trigger      size \(figures.bySize), age \(figures.byAge), revision \(figures.byRevision) (\(figures.eventsByRevision) events of revision 241 sent at once when 242 arrived)
              requests                \(figures.requests), the collector failing some on purpose
              retries                 \(stats.retries), splits \(stats.splits)
              dead letters            \(stats.dead)
              datafile                revisions \(figures.revisions.joined(separator: " → ")), the new one published after \(changeAt) events; \(datafileRequests.count) requests: \(statuses[200] ?? 0) served, \(statuses[304] ?? 0) not modified, \(datafileRequests.count - (statuses[200] ?? 0) - (statuses[304] ?? 0)) failed (retried)
              queue file totals       pending \(totals.pending), in flight \(totals.inflight), sent \(totals.sent), dead \(totals.dead)

            \(showcase.table())

            inspect the queue:
              sqlite3 \(db) 'SELECT * FROM queue_summary'
              swift run eventspool stats --db \(db)
            """)
        if totals.pending + totals.inflight > 0 {
            throw CommandFailure.report("\(totals.pending + totals.inflight) events were not delivered in time; run `eventspool run --db \(db) --until-empty` to finish")
        }
    }

    /// Publishes revision 242 at the collector and waits (at most 10 s) for the client to poll
    /// it: its arrival sends the pending events of revision 241 at once.
    private func publishNewRevision(_ collector: Collector, _ client: OptimizelyClient, display: ProgressDisplay) async {
        await collector.setDatafile(SampleDatafile.revision242, sdkKey: Self.sdkKey)
        let deadline = Date().addingTimeInterval(10)
        while client.config?.revision != "242" && Date() < deadline {
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        display.note(client.config?.revision == "242"
            ? "datafile revision 242 arrived (dark_mode now for everyone): the pending events of revision 241 go at once"
            : "datafile revision 242 did not arrive within 10 s; going on with revision \(client.config?.revision ?? "none")")
    }

    /// Closes the client (polling, then the processor), the transport and the collector.
    static func shutDown(_ client: OptimizelyClient, _ transport: AsyncHTTPClientTransport, _ collector: Collector) async {
        await client.close()
        try? await transport.shutdown()
        try? await collector.shutdown()
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
