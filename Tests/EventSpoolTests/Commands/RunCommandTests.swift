import EventSpoolCollector
import Foundation
import Testing
@testable import EventSpool

/// `eventspool run` (cli.md), run as the built binary against the loopback collector.
@Suite("eventspool run")
struct RunCommandTests {
    let folder = TemporaryFolder()
    var db: String { folder.file("events.sqlite") }

    func queueEvents(_ count: Int) throws {
        // Stamped with the real clock: the child process judges their age by it.
        let queue = try QueueFixtures.open(db, clock: SystemEventClock())
        _ = try queue.append(contentsOf: QueueFixtures.events(0..<count))
        queue.close()
    }

    @Test func untilEmptySendsEverythingAndExits() async throws {
        try queueEvents(25)
        let collector = try await Collector.start(plan: try FaultPlan(parsing: "503,200"))
        let result = try await ChildProcess("eventspool", ["run", "--db", db, "--endpoint", collector.url.absoluteString, "--until-empty", "--batch-size", "10"]).finish()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("sent 25 events in 3 batches"))
        #expect(Set(await collector.acceptedUUIDs) == Set((0..<25).map { QueueFixtures.event($0).uuid }))
        let stats = try QueueFixtures.open(db).stats()
        #expect((stats.pending, stats.inflight, stats.sent) == (0, 0, 25))
        try await collector.shutdown()
    }

    @Test func invalidSettingFallsBackWithAWarning() async throws {
        try queueEvents(12)
        let collector = try await Collector.start()
        let result = try await ChildProcess("eventspool", ["run", "--db", db, "--endpoint", collector.url.absoluteString, "--until-empty", "--batch-size", "0", "--flush-interval", "soon"]).finish()
        #expect(result.status == 0)
        #expect(result.stderr.contains("--batch-size 0 is not a valid value") && result.stderr.contains("using the default 10"))
        #expect(result.stderr.contains("--flush-interval soon"))
        #expect(await collector.requests.map { $0.batch?.uuids.count ?? 0 }.sorted() == [2, 10], "two requests, out at once")
        try await collector.shutdown()
    }

    @Test func sigtermSendsWhatIsPendingAndExitsZero() async throws {
        try queueEvents(13)
        let collector = try await Collector.start()
        let child = try ChildProcess("eventspool", ["run", "--db", db, "--endpoint", collector.url.absoluteString, "--flush-interval", "3600"])
        // The full batch goes at once: the worker is running (and SIGTERM handled). The other
        // three events form an open batch that waits for the interval.
        #expect(await CollectorFixtures.eventually(within: 30) { await collector.requests.count == 1 })
        kill(child.process.processIdentifier, SIGTERM)
        let result = await child.finish()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(await collector.requests.map { $0.batch?.uuids.count ?? 0 } == [10, 3], "the open batch was sent on SIGTERM")
        try await collector.shutdown()
    }

    @Test func plainHttpEndpointElsewhereIsRefused() async throws {
        try queueEvents(1)
        let result = try await ChildProcess("eventspool", ["run", "--db", db, "--endpoint", "http://example.com/v1/events", "--until-empty"]).finish()
        #expect(result.status != 0)
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(result.stderr.contains("plain http"))
        #expect(try QueueFixtures.open(db).stats().pending == 1)
    }
}
