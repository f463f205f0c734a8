import EventSpool
import Testing

/// The polling rules (decisions.md §16.3, §19) as transitions in virtual time.
@Suite("Datafile polling rules")
struct DatafilePollingStateMachineTests {
    typealias Sim = PollingSimulation
    let t0: Int64 = 1_700_000_000_000
    let interval: Int64 = 300_000
    let monday = "Mon, 13 Nov 2023 10:00:00 GMT"
    let tuesday = "Tue, 14 Nov 2023 10:00:00 GMT"
    let p1r1 = DatafileIdentity(projectId: "P1", revision: "1")
    let p1r2 = DatafileIdentity(projectId: "P1", revision: "2")

    func machine(_ settings: DatafilePollingSettings = DatafilePollingSettings(sdkKey: "KEY")) throws -> DatafilePollingStateMachine {
        DatafilePollingStateMachine(try settings.resolved())
    }

    func fetchRequest(_ actions: [DatafilePollingAction]) -> DatafileRequest? {
        for case .fetch(let request) in actions { return request }
        return nil
    }

    // MARK: the first fetch, the request

    @Test func theFirstFetchGoesOutAtOnceWithoutIfModifiedSince() throws {
        var poller = try machine()
        let actions = poller.start(nowMillis: t0)
        #expect(actions == [.fetch(DatafileRequest(
            url: "https://cdn.optimizely.com/datafiles/KEY.json", headers: [], timeoutMillis: 10_000, attempt: 1
        ))])
        #expect(poller.phase == .fetching(attempt: 1))
        #expect(!poller.isReady)
    }

    @Test func theTokenIsSentOnEveryRequest() throws {
        var sim = try Sim(settings: DatafilePollingSettings(sdkKey: "KEY", accessToken: "s3cret")) { index, _, _ in
            index == 1 ? .transportError("connection reset") : Sim.ok(revision: "1", lastModified: "Mon, 13 Nov 2023 10:00:00 GMT")
        }
        sim.start()
        sim.run(forMillis: 3 * interval)
        #expect(sim.requests.count >= 4)
        #expect(sim.requests.allSatisfy { $0.request.header("Authorization") == "Bearer s3cret" })
        #expect(sim.requests.allSatisfy { $0.request.url == "https://config.optimizely.com/datafiles/auth/KEY.json" })
        #expect(sim.requests.allSatisfy { $0.request.method == "GET" })
    }

    @Test func eventsBeforeStartAreIgnored() throws {
        var poller = try machine()
        #expect(poller.responseReceived(DatafileResponse(status: 200), nowMillis: t0, jitter: 0).isEmpty)
        #expect(poller.transportFailed("refused", nowMillis: t0, jitter: 0).isEmpty)
        #expect(poller.datafileAccepted(p1r1, nowMillis: t0).isEmpty)
        #expect(poller.datafileRejected("bad", nowMillis: t0).isEmpty)
        #expect(poller.timerFired(nowMillis: t0).isEmpty)
        #expect(poller.phase == .idle)
    }

    // MARK: accepted datafiles, revisions, readiness

    @Test func aFirstDatafileIsAConfigChangeThenReadinessThenTheNextPoll() throws {
        var poller = try machine()
        _ = poller.start(nowMillis: t0)
        let body = Sim.body(revision: "1")
        #expect(poller.responseReceived(DatafileResponse(status: 200, lastModified: monday, body: body), nowMillis: t0 + 50, jitter: 0.5) == [.validate(body: body)])
        #expect(poller.phase == .validating(lastModified: monday))
        #expect(poller.datafileAccepted(p1r1, nowMillis: t0 + 60) == [
            .configChanged(from: nil, to: p1r1),
            .ready(.datafileAccepted(p1r1)),
            .scheduleFetch(atMillis: t0 + 60 + interval),
        ])
        #expect(poller.current == p1r1)
        #expect(poller.lastModified == monday)
        #expect(poller.isReady)
    }

    @Test func itPollsEveryIntervalCountedFromTheEndOfThePoll() throws {
        var sim = try Sim { _, _, _ in Sim.ok(revision: "1", lastModified: "Mon, 13 Nov 2023 10:00:00 GMT") }
        sim.latencyMillis = 40
        sim.start()
        sim.run(forMillis: 3 * interval + 1_000)
        #expect(sim.requests.map(\.atMillis) == [t0, t0 + 40 + interval, t0 + 2 * (40 + interval), t0 + 3 * (40 + interval)])
    }

    @Test func ifModifiedSinceIsTheLastAcceptedDatafilesLastModified() throws {
        var sim = try Sim { index, _, _ in
            switch index {
            case 0: Sim.ok(revision: "1", lastModified: "Mon, 13 Nov 2023 10:00:00 GMT")
            case 1: Sim.ok(revision: "2", lastModified: "Tue, 14 Nov 2023 10:00:00 GMT")
            default: .response(DatafileResponse(status: 304, lastModified: "Tue, 14 Nov 2023 10:00:00 GMT"))
            }
        }
        sim.start()
        sim.run(forMillis: 3 * interval + 1_000)
        #expect(sim.requests.map { $0.request.header("If-Modified-Since") } == [nil, monday, tuesday, tuesday])
    }

    @Test func aDatafileWithoutLastModifiedClearsIfModifiedSince() throws {
        var sim = try Sim { index, _, _ in
            index == 0 ? Sim.ok(revision: "1", lastModified: "Mon, 13 Nov 2023 10:00:00 GMT") : Sim.ok(revision: "2", lastModified: nil)
        }
        sim.start()
        sim.run(forMillis: 2 * interval + 1_000)
        #expect(sim.requests.map { $0.request.header("If-Modified-Since") } == [nil, monday, nil])
    }

    @Test func notModifiedChangesNothing() throws {
        var poller = try machine()
        _ = poller.start(nowMillis: t0)
        _ = poller.responseReceived(DatafileResponse(status: 200, lastModified: monday, body: Sim.body(revision: "1")), nowMillis: t0, jitter: 0)
        _ = poller.datafileAccepted(p1r1, nowMillis: t0)
        _ = poller.timerFired(nowMillis: t0 + interval)
        let actions = poller.responseReceived(DatafileResponse(status: 304, lastModified: tuesday), nowMillis: t0 + interval + 10, jitter: 0)
        #expect(actions == [
            .log(.notModified(url: "https://cdn.optimizely.com/datafiles/KEY.json", since: monday)),
            .scheduleFetch(atMillis: t0 + 2 * interval + 10),
        ])
        #expect(poller.current == p1r1)
        #expect(poller.lastModified == monday, "a 304's own Last-Modified is not taken")
    }

    @Test func theSameProjectAndRevisionChangeNothing() throws {
        var sim = try Sim { index, _, _ in
            Sim.ok(revision: "1", lastModified: index == 0 ? "Mon, 13 Nov 2023 10:00:00 GMT" : "Tue, 14 Nov 2023 10:00:00 GMT")
        }
        sim.start()
        sim.run(forMillis: interval + 1_000)
        #expect(sim.configChanges == [p1r1])
        #expect(sim.notices == [.sameRevision(p1r1)])
        #expect(sim.machine.lastModified == tuesday, "an accepted datafile advances If-Modified-Since even when it changes nothing")
    }

    @Test func aNewRevisionIsAConfigChangeFromTheOldOne() throws {
        var sim = try Sim { index, _, _ in Sim.ok(revision: index == 0 ? "1" : "2", lastModified: nil) }
        sim.start()
        sim.run(forMillis: 2 * interval)
        let changes = sim.actions.compactMap { if case .configChanged(let from, let to) = $0.action { (from, to) } else { nil } }
        #expect(changes.count == 2)
        #expect(changes.first?.0 == nil && changes.first?.1 == p1r1)
        #expect(changes.last?.0 == p1r1 && changes.last?.1 == p1r2)
        #expect(sim.readiness == [.datafileAccepted(p1r1)], "readiness is given once")
    }

    @Test func anotherProjectWithTheSameRevisionIsAConfigChange() throws {
        var sim = try Sim { index, _, _ in Sim.ok(project: index == 0 ? "P1" : "P2", revision: "1", lastModified: nil) }
        sim.start()
        sim.run(forMillis: interval + 1_000)
        #expect(sim.configChanges == [p1r1, DatafileIdentity(projectId: "P2", revision: "1")])
    }

    @Test func aRejectedDatafileKeepsTheLastGoodOneAndDoesNotAdvanceIfModifiedSince() throws {
        var sim = try Sim { index, _, _ in
            switch index {
            case 0: Sim.ok(revision: "1", lastModified: "Mon, 13 Nov 2023 10:00:00 GMT")
            case 1: .response(DatafileResponse(status: 200, lastModified: "Tue, 14 Nov 2023 10:00:00 GMT", body: Array("{broken".utf8)))
            default: Sim.ok(revision: "2", lastModified: "Wed, 15 Nov 2023 10:00:00 GMT")
            }
        }
        sim.start()
        sim.run(forMillis: interval + 100)
        #expect(sim.machine.current == p1r1)
        #expect(sim.machine.lastModified == monday)
        #expect(sim.notices == [.datafileRejected(url: "https://cdn.optimizely.com/datafiles/KEY.json", reason: "not a datafile")])
        sim.run(forMillis: interval)
        #expect(sim.requests.map { $0.request.header("If-Modified-Since") } == [nil, monday, monday])
        #expect(sim.configChanges == [p1r1, p1r2], "the next good datafile still arrives")
        #expect(sim.requests.count == 3, "a rejected body is not retried within the poll")
    }

    @Test func aBundledDatafileIsReadyAtOnceAndTheSameOneFetchedChangesNothing() throws {
        var sim = try Sim { _, _, _ in Sim.ok(revision: "1", lastModified: "Mon, 13 Nov 2023 10:00:00 GMT") }
        sim.start(bundled: p1r1)
        #expect(sim.actions.first?.action == .ready(.bundledDatafile))
        #expect(sim.configChanges.isEmpty)
        #expect(sim.notices == [.sameRevision(p1r1)])
        #expect(sim.readiness == [.bundledDatafile])
        #expect(sim.machine.lastModified == monday)
    }

    @Test func aBundledDatafileIsReplacedByANewRevision() throws {
        var sim = try Sim { _, _, _ in Sim.ok(revision: "2", lastModified: nil) }
        sim.start(bundled: p1r1)
        #expect(sim.actions.compactMap { if case .configChanged(let from, _) = $0.action { from } else { nil } } == [p1r1])
        #expect(sim.configChanges == [p1r2])
    }

    @Test func theReadinessDeadlineIsStartPlusTheBlockingTimeout() throws {
        var settings = DatafilePollingSettings(sdkKey: "KEY")
        settings.blockingTimeout = 2.5
        var poller = try machine(settings)
        #expect(poller.readinessDeadlineMillis == nil)
        _ = poller.start(nowMillis: t0)
        #expect(poller.readinessDeadlineMillis == t0 + 2_500)
    }

    @Test func aFirstPollThatFailsEndsTheWaitWithoutADatafile() throws {
        var sim = try Sim { _, _, _ in .transportError("connection refused") }
        sim.start()
        sim.run(forMillis: 10_000)
        #expect(sim.requests.count == 4)
        #expect(sim.readiness == [.firstFetchFailed(reason: "connection refused")])
        #expect(sim.machine.current == nil)
        sim.run(forMillis: interval)
        #expect(sim.readiness.count == 1, "readiness is given once")
    }

    @Test func aRejectedFirstDatafileEndsTheWaitWithoutADatafile() throws {
        var sim = try Sim { _, _, _ in .response(DatafileResponse(status: 200, body: Array("nope".utf8))) }
        sim.start()
        #expect(sim.readiness == [.firstFetchFailed(reason: "not a datafile")])
        #expect(sim.machine.current == nil)
    }

    @Test func aNotModifiedBeforeAnyDatafileEndsTheWaitWithoutOne() throws {
        var sim = try Sim { _, _, _ in .response(DatafileResponse(status: 304)) }
        sim.start()
        #expect(sim.readiness == [.firstFetchFailed(reason: "HTTP 304 Not Modified, and no datafile yet")])
    }

    // MARK: failures, retries, no storm

    @Test(arguments: [500, 502, 503, 504])
    func serverErrorsAreRetriedWithCappedJitteredBackoff(status: Int) throws {
        var sim = try Sim { index, _, _ in
            index < 3 ? .response(DatafileResponse(status: status)) : Sim.ok(revision: "1", lastModified: nil)
        }
        sim.start()
        sim.run(forMillis: 10_000)
        #expect(sim.requests.map(\.request.attempt) == [1, 2, 3, 4])
        #expect(sim.configChanges == [p1r1])
        // Full jitter below 0.5 s, 1 s, 2 s (retryBaseDelay 0.5, doubling), after 40 ms of latency.
        let gaps = zip(sim.requests.dropFirst(), sim.requests).map { $0.atMillis - $1.atMillis - sim.latencyMillis }
        #expect(gaps.count == 3)
        for (gap, ceiling) in zip(gaps, [500, 1_000, 2_000] as [Int64]) {
            #expect(gap >= 0 && gap <= ceiling)
        }
        let failures = sim.notices.compactMap { if case .fetchFailed(_, let failure, let attempt, let retryAt) = $0 { (failure, attempt, retryAt) } else { nil } }
        #expect(failures.map(\.0) == Array(repeating: .status(status), count: 3))
        #expect(failures.map(\.1) == [1, 2, 3])
        #expect(failures.allSatisfy { $0.2 != nil })
    }

    @Test func retriesAreBoundedPerPollThenItWaitsForTheNextInterval() throws {
        var sim = try Sim { _, _, _ in .response(DatafileResponse(status: 503)) }
        sim.start()
        sim.run(forMillis: 10_000)
        #expect(sim.requests.count == 4, "the first try and 3 retries")
        let lastTry = try #require(sim.requests.last?.atMillis)
        guard case .waiting(let next) = sim.machine.phase else {
            Issue.record("not waiting: \(sim.machine.phase)")
            return
        }
        #expect(next == lastTry + sim.latencyMillis + interval)
        #expect(sim.notices.last == .fetchFailed(url: "https://cdn.optimizely.com/datafiles/KEY.json", failure: .status(503), attempt: 4, retryAtMillis: nil))
    }

    @Test func maxRetriesZeroDoesNotRetry() throws {
        var settings = DatafilePollingSettings(sdkKey: "KEY")
        settings.maxRetries = 0
        var sim = try Sim(settings: settings) { _, _, _ in .response(DatafileResponse(status: 500)) }
        sim.start()
        sim.run(forMillis: interval - 1_000)
        #expect(sim.requests.count == 1)
    }

    @Test func transportErrorsAreRetriedLikeServerErrors() throws {
        var sim = try Sim { index, _, _ in
            index == 0 ? .transportError("timed out after 10 s") : Sim.ok(revision: "1", lastModified: nil)
        }
        sim.start()
        sim.run(forMillis: 1_000)
        #expect(sim.requests.count == 2)
        #expect(sim.configChanges == [p1r1])
        if case .log(.fetchFailed(_, let failure, 1, .some(_))) = sim.actions[1].action {
            #expect(failure == .transport("timed out after 10 s"))
        } else {
            Issue.record("\(sim.actions[1].action)")
        }
    }

    @Test func aRetryAfterOnAServerErrorIsHonoured() throws {
        var poller = try machine()
        _ = poller.start(nowMillis: t0)
        let actions = poller.responseReceived(DatafileResponse(status: 503, retryAfter: "7"), nowMillis: t0, jitter: 0.99)
        #expect(actions.last == .scheduleFetch(atMillis: t0 + 7_000))
        #expect(poller.phase == .retrying(attempt: 2, atMillis: t0 + 7_000))
    }

    @Test func aRetryAfterLongerThanTheIntervalEndsThePollAndPutsTheNextOneOff() throws {
        var poller = try machine()
        _ = poller.start(nowMillis: t0)
        let actions = poller.responseReceived(DatafileResponse(status: 503, retryAfter: "900"), nowMillis: t0, jitter: 0)
        #expect(actions.last == .scheduleFetch(atMillis: t0 + 900_000))
        #expect(poller.phase == .waiting(atMillis: t0 + 900_000))
    }

    @Test(arguments: [400, 401, 403, 404, 410, 429, 302])
    func otherStatusesAreNotRetriedAndKeepTheLastGoodDatafile(status: Int) throws {
        var sim = try Sim { index, _, _ in
            index == 0 ? Sim.ok(revision: "1", lastModified: "Mon, 13 Nov 2023 10:00:00 GMT") : .response(DatafileResponse(status: status))
        }
        sim.start()
        sim.run(forMillis: interval + 10_000)
        #expect(sim.requests.count == 2)
        #expect(sim.machine.current == p1r1)
        #expect(sim.machine.lastModified == monday)
        #expect(sim.notices.last == .fetchFailed(url: "https://cdn.optimizely.com/datafiles/KEY.json", failure: .status(status), attempt: 1, retryAtMillis: nil))
        #expect(sim.notices.last?.level == .warning)
    }

    @Test func aTooManyRequestsRetryAfterPutsTheNextPollOff() throws {
        var poller = try machine()
        _ = poller.start(nowMillis: t0)
        #expect(poller.responseReceived(DatafileResponse(status: 429, retryAfter: "1200"), nowMillis: t0, jitter: 0).last == .scheduleFetch(atMillis: t0 + 1_200_000))
        var short = try machine()
        _ = short.start(nowMillis: t0)
        #expect(short.responseReceived(DatafileResponse(status: 429, retryAfter: "5"), nowMillis: t0, jitter: 0).last == .scheduleFetch(atMillis: t0 + interval))
    }

    @Test func aRetryAfterCannotStopUpdatesForMoreThanADay() throws {
        var poller = try machine()
        _ = poller.start(nowMillis: t0)
        let actions = poller.responseReceived(DatafileResponse(status: 429, retryAfter: "\(30 * 86_400)"), nowMillis: t0, jitter: 0)
        #expect(actions.last == .scheduleFetch(atMillis: t0 + 86_400_000))
    }

    @Test func noRequestStormWhenTheServerIsDown() throws {
        var settings = DatafilePollingSettings(sdkKey: "KEY")
        settings.pollingInterval = 30
        var sim = try Sim(settings: settings) { _, _, _ in .transportError("connection refused") }
        sim.latencyMillis = 1
        sim.start()
        sim.run(forMillis: 3_600_000)
        // 1 + 3 tries a poll (the retries within 3.5 s), then 30 s of quiet: 107 to 121 polls in the hour.
        #expect(sim.requests.count <= 121 * 4)
        #expect(sim.requests.count >= 107 * 4)
        // Never more than 4 requests in any 30 s window.
        let times = sim.requests.map(\.atMillis)
        let crowded = times.indices.dropLast(4).filter { times[$0 + 4] - times[$0] < 30_000 }
        #expect(crowded.isEmpty, "5 requests within 30 s, starting at requests \(crowded.prefix(5))")
    }

    @Test func theSameSeedGivesTheSameSchedule() throws {
        func schedule(seed: UInt64) throws -> [Int64] {
            var sim = try Sim(seed: seed) { _, _, _ in .response(DatafileResponse(status: 502)) }
            sim.start()
            sim.run(forMillis: 2 * interval)
            return sim.requests.map(\.atMillis)
        }
        #expect(try schedule(seed: 7) == schedule(seed: 7))
        #expect(try schedule(seed: 7) != schedule(seed: 8))
    }

    // MARK: timers and stop

    @Test func anEarlyTimerIsSetAgain() throws {
        var poller = try machine()
        _ = poller.start(nowMillis: t0)
        _ = poller.transportFailed("refused", nowMillis: t0, jitter: 1)
        #expect(poller.nextFetchAtMillis == t0 + 500)
        #expect(poller.timerFired(nowMillis: t0 + 499) == [.scheduleFetch(atMillis: t0 + 500)])
        #expect(fetchRequest(poller.timerFired(nowMillis: t0 + 500))?.attempt == 2)
    }

    @Test func aTimerDuringAFetchIsIgnored() throws {
        var poller = try machine()
        _ = poller.start(nowMillis: t0)
        #expect(poller.timerFired(nowMillis: t0 + interval).isEmpty)
        #expect(poller.phase == .fetching(attempt: 1))
    }

    @Test func stopFinishesOnceAndLateAnswersAreIgnored() throws {
        var poller = try machine()
        _ = poller.start(nowMillis: t0)
        #expect(poller.stop() == [.finish])
        #expect(poller.stop().isEmpty)
        #expect(poller.responseReceived(DatafileResponse(status: 200, body: Sim.body(revision: "1")), nowMillis: t0, jitter: 0).isEmpty)
        #expect(poller.timerFired(nowMillis: t0 + interval).isEmpty)
        #expect(poller.current == nil)
        #expect(poller.phase == .stopped)
    }

    @Test func aVerdictAfterStopChangesNothing() throws {
        var poller = try machine()
        _ = poller.start(nowMillis: t0)
        _ = poller.responseReceived(DatafileResponse(status: 200, lastModified: monday, body: Sim.body(revision: "1")), nowMillis: t0, jitter: 0)
        _ = poller.stop()
        #expect(poller.datafileAccepted(p1r1, nowMillis: t0).isEmpty)
        #expect(poller.current == nil)
        #expect(poller.lastModified == nil)
    }

    @Test func stopWhileWaitingCancelsTheTimer() throws {
        var sim = try Sim { _, _, _ in Sim.ok(revision: "1", lastModified: nil) }
        sim.start()
        sim.stop()
        sim.run(forMillis: 3 * interval)
        #expect(sim.requests.count == 1)
        #expect(sim.finished)
    }
}
