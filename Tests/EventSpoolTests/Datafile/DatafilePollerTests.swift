import EventSpoolCollector
import Foundation
import Testing
@testable import EventSpool

/// The polling driver against the collector's datafile route over loopback: real requests, and
/// virtual time for everything that waits (intervals, retries, the blocking timeout).
@Suite("Datafile poller over loopback")
struct DatafilePollerTests {
    /// A poller against the rig, on a new transport of `kind`, started.
    struct Started {
        let rig: DatafileRig
        let made: MadeTransport
        let changes = ConfigChanges()
        let poller: DatafilePoller

        init(_ rig: DatafileRig, kind: TransportKind = .urlSession, logger: LogCapture? = nil) throws {
            self.rig = rig
            made = kind.make()
            let changes = changes
            poller = DatafilePoller(settings: try rig.resolved, transport: made.transport, clock: rig.clock,
                                    logger: logger?.logger ?? UserEventFactory.silentLogger) { changes.record($0, $1) }
            poller.start()
        }

        /// Waits for the first datafile, then for polling to sleep until the next poll.
        func ready() async -> Bool {
            guard await poller.waitUntilReady() != nil else { return false }
            return await rig.settle()
        }

        /// Stops polling, then shuts the transport and the collector down.
        func end() async throws {
            await poller.stop()
            await made.shutdown()
            try await rig.collector.shutdown()
        }
    }

    @Test(arguments: TransportKind.allCases)
    func theFirstFetchGoesOutAtOnceAndLaterPollsAreAnswered304(kind: TransportKind) async throws {
        let rig = try await DatafileRig.start()
        let started = try Started(rig, kind: kind)
        let readiness = await started.poller.waitUntilReady()
        #expect(readiness == .datafileAccepted(DatafileIdentity(projectId: "10431130345", revision: "241")))
        #expect(started.changes.revisions == ["241"] && started.changes.previous == [nil])
        #expect(await rig.settle())
        #expect(rig.clock.sleepers == [rig.clock.nowMillis() + 60_000], "the next poll an interval after the first")

        for _ in 0..<2 { #expect(await rig.advance(byMillis: 60_000)) }
        let requests = await rig.requests
        #expect(requests.map(\.status) == [200, 304, 304])
        #expect(requests[0].ifModifiedSince == nil, "nothing accepted yet")
        let lastModified = try #require(requests[0].lastModified)
        #expect(requests.dropFirst().allSatisfy { $0.ifModifiedSince == lastModified })
        #expect(started.changes.revisions == ["241"], "a 304 changes nothing")
        try await started.end()
    }

    @Test func theAccessTokenIsSentOnEveryRequest() async throws {
        let rig = try await DatafileRig.start(authenticated: true)
        let started = try Started(rig)
        #expect(await started.ready())
        await rig.collector.setDatafile(try DatafileRig.datafile(revision: "242"), sdkKey: DatafileRig.sdkKey, accessToken: DatafileRig.token)
        for _ in 0..<3 { #expect(await rig.advance(byMillis: 60_000)) }
        let requests = await rig.requests
        #expect(requests.count == 4)
        #expect(requests.allSatisfy { $0.authenticatedRoute && $0.authorization == "Bearer \(DatafileRig.token)" })
        #expect(requests.map(\.status) == [200, 200, 304, 304])
        #expect(started.changes.revisions == ["241", "242"])
        try await started.end()
    }

    @Test func theSameRevisionServedAgainChangesNothing() async throws {
        let rig = try await DatafileRig.start()
        let started = try Started(rig)
        #expect(await started.ready())
        // A newer Last-Modified, the same project and revision: a 200 that changes nothing.
        await rig.collector.setDatafile(try DatafileRig.datafile(), sdkKey: DatafileRig.sdkKey)
        #expect(await rig.advance(byMillis: 60_000))
        #expect(await rig.requests.map(\.status) == [200, 200])
        #expect(started.changes.revisions == ["241"])
        try await started.end()
    }

    @Test func aBrokenDatafileKeepsTheLastGoodOneAndIfModifiedSince() async throws {
        let rig = try await DatafileRig.start()
        let log = LogCapture()
        let started = try Started(rig, logger: log)
        #expect(await started.ready())
        let accepted = try #require(await rig.requests.first?.lastModified)

        // A cut-off body with a newer Last-Modified, then a body that is JSON but no datafile.
        await rig.collector.setDatafilePlan(try DatafileFaultPlan(parsing: "invalid,200"))
        #expect(await rig.advance(byMillis: 60_000))
        await rig.collector.setDatafilePlan(.alwaysServe)
        await rig.collector.setDatafile(#"{"version": "4"}"#, sdkKey: DatafileRig.sdkKey)
        #expect(await rig.advance(byMillis: 60_000))
        #expect(await rig.advance(byMillis: 60_000))
        let requests = await rig.requests
        #expect(requests.map(\.status) == [200, 200, 200, 200])
        #expect(requests.dropFirst().allSatisfy { $0.ifModifiedSince == accepted }, "only an accepted datafile moves If-Modified-Since")
        #expect(started.changes.revisions == ["241"])
        let warnings = log.entries.filter { $0.level == .warning }.map(\.message)
        #expect(warnings.count == 3 && warnings.allSatisfy { $0.contains("is not valid") && $0.contains("keeping the last good datafile") })
        #expect(log.entries.allSatisfy { $0.metadata["sdk_key"] == "\(DatafileRig.sdkKey)" })
        try await started.end()
    }

    @Test func anUnreachableServerEndsTheFirstWaitAndPollingGoesOn() async throws {
        var rig = try await DatafileRig.start()
        try await rig.collector.shutdown()  // nothing listens on its port now
        rig.settings.maxRetries = 3
        let log = LogCapture()
        let started = try Started(rig, logger: log)
        // The first try and three retries, each refused; the retries wait in virtual time.
        #expect(await rig.settle())
        for _ in 0..<3 { #expect(await rig.advance(byMillis: 4_000)) }
        guard case .firstFetchFailed(let reason)? = await started.poller.waitUntilReady() else {
            Issue.record("the first wait ended with the first poll's failure")
            return
        }
        #expect(!reason.isEmpty)
        #expect(log.entries.filter { $0.message.contains("failed (attempt") }.count == 4)
        #expect(rig.clock.sleepers.count == 1, "the next poll is scheduled")
        #expect(started.changes.revisions.isEmpty)
        try await started.end()
    }

    @Test func theWaitForTheFirstDatafileIsBoundedByTheBlockingTimeout() async throws {
        var rig = try await DatafileRig.start(plan: try DatafileFaultPlan(parsing: "timeout"))
        rig.settings.blockingTimeout = 2
        let started = try Started(rig)
        let waiting = Task { await started.poller.waitUntilReady() }
        #expect(await CollectorFixtures.eventually(within: 30) { await rig.requests.count == 1 }, "the request is held")
        #expect(await CollectorFixtures.eventually(within: 30) { rig.clock.sleepers.count == 1 }, "the wait sleeps until the deadline")
        rig.clock.advance(byMillis: 2_000)
        #expect(await waiting.value == nil, "the deadline passed first")
        try await started.end()
    }

    @Test(arguments: TransportKind.allCases)
    func stopDuringAFetchCancelsItAndNothingChangesAfter(kind: TransportKind) async throws {
        var rig = try await DatafileRig.start(plan: try DatafileFaultPlan(parsing: "timeout"))
        rig.settings.requestTimeout = 60  // longer than the test's bound: only cancellation ends it
        let started = try Started(rig, kind: kind)
        #expect(await CollectorFixtures.eventually(within: 30) { await rig.requests.count == 1 }, "the request is held")
        let began = Date()
        await started.poller.stop()
        #expect(Date().timeIntervalSince(began) < 30, "stop does not wait for the request timeout")
        #expect(started.changes.revisions.isEmpty)
        #expect(await started.poller.waitUntilReady() == nil, "a waiter after stop does not wait")
        #expect(rig.clock.sleepers.isEmpty, "no timer is left")
        started.poller.start()  // after stop: nothing
        #expect(await rig.requests.count == 1)
        try await started.end()
    }

    @Test func noRequestStormWhenTheServerIsDown() async throws {
        var rig = try await DatafileRig.start(plan: try DatafileFaultPlan(parsing: "503"))
        rig.settings.pollingInterval = 30
        rig.settings.maxRetries = 3
        let start = rig.clock.nowMillis()
        let started = try Started(rig)
        var seen: [(atMillis: Int64, count: Int)] = []
        // Five minutes of virtual time in one-second steps.
        for _ in 0..<300 {
            #expect(await rig.advance(byMillis: 1_000))
            seen.append((rig.clock.nowMillis() - start, await rig.requests.count))
        }
        let total = try #require(seen.last?.count)
        #expect(total >= 8 * 4 && total <= 11 * 4, "1 + 3 retries each poll, a poll 30 s after the last ended: \(total)")
        for mark in seen {
            let before = seen.last { $0.atMillis <= mark.atMillis - 30_000 }?.count ?? 0
            #expect(mark.count - before <= 4, "at most four requests in any 30 s, at \(mark.atMillis) ms")
        }
        #expect(await rig.requests.allSatisfy { $0.status == 503 })
        try await started.end()
    }
}
