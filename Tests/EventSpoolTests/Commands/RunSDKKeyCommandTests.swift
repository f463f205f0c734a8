import EventSpoolCollector
import Foundation
import Testing
@testable import EventSpool

/// `eventspool run --sdk-key …` (cli.md), run as the built binary against the loopback
/// collector's events and datafile routes.
@Suite("eventspool run --sdk-key")
struct RunSDKKeyCommandTests {
    let folder = TemporaryFolder()
    var db: String { folder.file("events.sqlite") }

    func queueEvents(_ range: Range<Int>) throws {
        // Stamped with the real clock: the child process judges their age by it.
        let queue = try QueueFixtures.open(db, clock: SystemEventClock())
        _ = try queue.append(contentsOf: QueueFixtures.events(range))
        queue.close()
    }

    @Test func aNewRevisionSendsThePendingEventsOfTheOldOneAtOnce() async throws {
        let collector = try await Collector.start()
        await collector.setDatafile(try DatafileRig.datafile(), sdkKey: DatafileRig.sdkKey, accessToken: DatafileRig.token)
        let child = try ChildProcess("eventspool", [
            "run", "--db", db, "--endpoint", collector.url.absoluteString, "--flush-interval", "3600",
            "--sdk-key", DatafileRig.sdkKey, "--datafile-url-template", collector.datafileURLTemplate(authenticated: true),
            "--datafile-access-token", DatafileRig.token, "--poll-interval", "0.2",
        ])
        // A 200 and then a 304: the first datafile is in use.
        #expect(await CollectorFixtures.eventually(within: 30) { await collector.datafileRequests.map(\.status).starts(with: [200, 304]) })
        // Another process appends three events of revision 241: a partial batch, which would
        // wait the flush interval, an hour.
        try queueEvents(0..<3)
        await collector.setDatafile(try DatafileRig.datafile(revision: "242"), sdkKey: DatafileRig.sdkKey, accessToken: DatafileRig.token)
        #expect(await CollectorFixtures.eventually(within: 30) { await collector.acceptedUUIDs.count == 3 },
                "the new revision sent the old revision's pending events")
        #expect(Set(await collector.acceptedUUIDs) == Set((0..<3).map { QueueFixtures.event($0).uuid }))
        kill(child.process.processIdentifier, SIGTERM)
        let result = await child.finish()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("polling intervals below 30 seconds are not recommended"))
        #expect(!result.stderr.contains(DatafileRig.token), "the token is never logged")

        let requests = await collector.datafileRequests
        #expect(requests.allSatisfy { $0.authorization == "Bearer \(DatafileRig.token)" }, "the token on every request")
        #expect(requests.dropFirst().allSatisfy { $0.ifModifiedSince != nil })
        #expect(requests.contains { $0.status == 200 && $0.ifModifiedSince != nil }, "the new revision was fetched")
        try await collector.shutdown()
    }

    @Test func aDatafileThatCannotBeFetchedIsAWarningAndTheWorkerGoesOn() async throws {
        try queueEvents(0..<12)
        let collector = try await Collector.start()  // serves no datafile: 404
        let result = try await ChildProcess("eventspool", [
            "run", "--db", db, "--endpoint", collector.url.absoluteString, "--until-empty",
            "--sdk-key", "UnknownKey", "--datafile-url-template", collector.datafileURLTemplate(),
        ]).finish()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("sent 12 events"))
        #expect(result.stderr.contains("warning") && result.stderr.contains("HTTP 404"))
        #expect(await collector.datafileRequests.first?.sdkKey == "UnknownKey")
        try await collector.shutdown()
    }

    @Test func badDatafileArgumentsAreOneLineErrorsAndLeaveNoFile() async throws {
        let cases: [(arguments: [String], says: String)] = [
            (["--poll-interval", "5"], "--poll-interval needs --sdk-key"),
            (["--datafile-url-template", "https://x/{sdk_key}"], "--datafile-url-template needs --sdk-key"),
            (["--sdk-key", "K", "--datafile-url-template", "http://example.com/{sdk_key}.json"], "plain http"),
            (["--sdk-key", "K", "--datafile-url-template", "https://example.com/{project}.json"], "unknown field {project}"),
            (["--sdk-key", "K", "--datafile-access-token", ""], "access token is empty"),
            (["--sdk-key", "K", "--poll-interval", "--verbose"], "--poll-interval needs a value"),
            (["--batch-size", "--verbose"], "--batch-size needs a value"),
        ]
        for (arguments, says) in cases {
            let result = try await ChildProcess("eventspool", ["run", "--db", db, "--until-empty"] + arguments).finish()
            #expect(result.status != 0, "\(arguments)")
            #expect(result.stderr.split(separator: "\n").count == 1 && result.stderr.contains(says), "\(arguments): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: db), "\(arguments)")
        }
    }

    @Test func aNegativeNumberIsAnInvalidValueThatFallsBackNotAMissingOne() async throws {
        try queueEvents(0..<2)
        let collector = try await Collector.start()
        let result = try await ChildProcess("eventspool", [
            "run", "--db", db, "--endpoint", collector.url.absoluteString, "--until-empty",
            "--batch-size", "-5", "--flush-interval", "-1", "--max-in-flight", "-2",
        ]).finish()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("sent 2 events"))
        for (flag, value, fallback) in [("--batch-size", "-5", "10"), ("--flush-interval", "-1", "30.0"), ("--max-in-flight", "-2", "4")] {
            #expect(result.stderr.contains("\(flag) \(value) is not a valid value (a positive number); using the default \(fallback)"), "\(result.stderr)")
        }
        try await collector.shutdown()
    }

    @Test func anInvalidPollIntervalFallsBackWithAWarning() async throws {
        try queueEvents(0..<2)
        let collector = try await Collector.start()
        await collector.setDatafile(try DatafileRig.datafile(), sdkKey: DatafileRig.sdkKey)
        for interval in ["0", "-5", "soon"] {
            let result = try await ChildProcess("eventspool", [
                "run", "--db", db, "--endpoint", collector.url.absoluteString, "--until-empty",
                "--sdk-key", DatafileRig.sdkKey, "--datafile-url-template", collector.datafileURLTemplate(), "--poll-interval", interval,
            ]).finish()
            #expect(result.status == 0, "\(result.stderr)")
            let warning = Double(interval).map { "pollingInterval \($0); using the default 300.0" } ?? "--poll-interval soon is not a valid value"
            #expect(result.stderr.contains(warning), "\(result.stderr)")
        }
        try await collector.shutdown()
    }
}
