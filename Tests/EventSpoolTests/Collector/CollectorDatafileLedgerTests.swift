import EventSpool
import Testing
@testable import EventSpoolCollector

/// The datafile route's decisions, without sockets.
@Suite("Collector datafile route rules")
struct CollectorDatafileLedgerTests {
    let t0: Int64 = 1_700_000_000_500  // Tue, 14 Nov 2023 22:13:20.500 GMT
    let t0Date = "Tue, 14 Nov 2023 22:13:20 GMT"
    let json = HTTPHeader(name: "Content-Type", value: "application/json")

    func ledger(_ plan: DatafileFaultPlan = .alwaysServe, datafile: String? = #"{"revision": "1"}"#, token: String? = nil) -> DatafileLedger {
        var ledger = DatafileLedger(plan: plan)
        if let datafile { _ = ledger.setDatafile(datafile, sdkKey: "KEY", accessToken: token, nowMillis: t0) }
        return ledger
    }

    func get(_ ledger: inout DatafileLedger, _ path: String = "/datafiles/KEY.json", method: String = "GET", since: String? = nil, authorization: String? = nil) -> (request: ReceivedDatafileRequest, reply: CollectorReply) {
        ledger.receive(method: method, path: path, ifModifiedSince: since, authorization: authorization)
    }

    @Test func aServedDatafileIs200WithItsLastModified() {
        var ledger = ledger()
        let (request, reply) = get(&ledger)
        #expect(reply == .respond(status: 200, headers: [json, .init(name: "Last-Modified", value: t0Date)], body: #"{"revision": "1"}"#))
        #expect(request.lastModified == t0Date)
        #expect(request.sdkKey == "KEY")
        #expect(!request.authenticatedRoute)
    }

    @Test func aQueryStringIsIgnored() {
        var ledger = ledger()
        #expect(get(&ledger, "/datafiles/KEY.json?cache=no").request.status == 200)
    }

    @Test(arguments: ["Tue, 14 Nov 2023 22:13:20 GMT", "Wed, 15 Nov 2023 00:00:00 GMT"])
    func anIfModifiedSinceThatIsNotOlderIs304(since: String) {
        var ledger = ledger()
        #expect(get(&ledger, since: since).reply == .respond(status: 304, headers: [.init(name: "Last-Modified", value: t0Date)], body: ""))
    }

    @Test(arguments: ["Tue, 14 Nov 2023 22:13:19 GMT", "yesterday", ""])
    func anOlderOrUnreadableIfModifiedSinceIs200(since: String) {
        var ledger = ledger()
        #expect(get(&ledger, since: since).request.status == 200)
    }

    @Test func aReplacementIsServedWithANewerLastModifiedEvenWithinTheSameSecond() {
        var ledger = ledger()
        let second = ledger.setDatafile(#"{"revision": "2"}"#, sdkKey: "KEY", accessToken: nil, nowMillis: t0 + 100)
        #expect(second == "Tue, 14 Nov 2023 22:13:21 GMT")
        let (request, reply) = get(&ledger, since: t0Date)
        #expect(request.status == 200)
        guard case .respond(_, _, let body) = reply else { Issue.record("\(reply)"); return }
        #expect(body == #"{"revision": "2"}"#)
        let later = ledger.setDatafile(#"{"revision": "3"}"#, sdkKey: "KEY", accessToken: nil, nowMillis: t0 + 60_000)
        #expect(later == "Tue, 14 Nov 2023 22:14:20 GMT")
    }

    @Test func aDatafileSetAgainAfterRemovalIsStillNewer() {
        var ledger = ledger()
        let removed = ledger.removeDatafile(sdkKey: "KEY")
        let removedAgain = ledger.removeDatafile(sdkKey: "KEY")
        #expect(removed && !removedAgain)
        #expect(get(&ledger).request.status == 404)
        #expect(ledger.setDatafile("{}", sdkKey: "KEY", accessToken: nil, nowMillis: t0) == "Tue, 14 Nov 2023 22:13:21 GMT")
    }

    @Test func keysAreServedApart() {
        var ledger = ledger()
        _ = ledger.setDatafile("other", sdkKey: "OTHER", accessToken: nil, nowMillis: t0)
        guard case .respond(200, _, let body) = get(&ledger, "/datafiles/OTHER.json").reply else { Issue.record("not served"); return }
        #expect(body == "other")
    }

    @Test func anUnknownKeyIs404AndUsesNoPlanStep() throws {
        var ledger = ledger(try DatafileFaultPlan(parsing: "503,200"))
        let (request, reply) = get(&ledger, "/datafiles/NOPE.json")
        #expect(reply == .respond(status: 404, headers: [json], body: #"{"error": "no datafile for SDK key NOPE"}"#))
        #expect(request.sdkKey == "NOPE")
        #expect(get(&ledger).request.status == 503)
    }

    @Test(arguments: ["/datafiles/", "/datafiles/.json", "/datafiles/a/b.json", "/datafiles/KEY", "/datafiles/auth/.json", "/datafiles/auth/x/y.json"])
    func aPathThatNamesNoDatafileIs404(path: String) {
        var ledger = ledger()
        let (request, reply) = get(&ledger, path)
        #expect(request.status == 404)
        #expect(request.sdkKey == nil)
        guard case .respond(_, _, let body) = reply else { Issue.record("\(reply)"); return }
        #expect(body.contains("GET /datafiles/{sdk_key}.json or /datafiles/auth/{sdk_key}.json"))
    }

    @Test func aHeadIsAnsweredAsAGet() {
        var ledger = ledger()
        #expect(get(&ledger, method: "HEAD").reply == get(&ledger).reply)
    }

    @Test func otherMethodsAre405() {
        var ledger = ledger()
        #expect(get(&ledger, method: "POST").reply == .respond(
            status: 405, headers: [json, .init(name: "Allow", value: "GET, HEAD")], body: #"{"error": "method POST not allowed on a datafile; use GET"}"#
        ))
    }

    @Test func theEventsRouteKeepsPathsEndingInV1Events() {
        #expect(DatafileRoute.claims("/datafiles/KEY.json"))
        #expect(DatafileRoute.claims("/datafiles/anything"))
        #expect(!DatafileRoute.claims("/datafiles/x/v1/events"))
        #expect(!DatafileRoute.claims("/v1/events"))
        #expect(!DatafileRoute.claims("/datafile/KEY.json"))
    }

    @Test func theAuthenticatedRouteNeedsTheBearerToken() {
        var ledger = ledger(token: "s3cret")
        let missing = get(&ledger, "/datafiles/auth/KEY.json").reply
        #expect(missing == .error(401, "the authenticated datafile route needs Authorization: Bearer TOKEN", extra: [.init(name: "WWW-Authenticate", value: "Bearer")]))
        #expect(get(&ledger, "/datafiles/auth/KEY.json", authorization: "Basic czNjcmV0").request.status == 401)
        #expect(get(&ledger, "/datafiles/auth/KEY.json", authorization: "Bearer ").request.status == 401)
        #expect(get(&ledger, "/datafiles/auth/KEY.json", authorization: "Bearer wrong").reply == .error(403, "the access token is not valid for SDK key KEY"))
        let (request, reply) = get(&ledger, "/datafiles/auth/KEY.json", authorization: "Bearer s3cret")
        #expect(request.status == 200)
        #expect(request.authenticatedRoute)
        #expect(request.authorization == "Bearer s3cret")
        #expect(request.hasAuthorization)
        guard case .respond(200, _, let body) = reply else { Issue.record("\(reply)"); return }
        #expect(body == #"{"revision": "1"}"#)
        #expect(get(&ledger, "/datafiles/auth/KEY.json", authorization: "bearer s3cret").request.status == 200, "the scheme is case-insensitive")
    }

    @Test func aDatafileWithATokenIsNotServedOnThePublicRoute() {
        var ledger = ledger(token: "s3cret")
        let (request, reply) = get(&ledger, authorization: "Bearer s3cret")
        #expect(request.status == 403)
        guard case .respond(_, _, let body) = reply else { Issue.record("\(reply)"); return }
        #expect(body.contains("needs an access token: GET /datafiles/auth/KEY.json with Authorization: Bearer TOKEN"))
    }

    @Test func aPublicDatafileIsNotOnTheAuthenticatedRoute() {
        var ledger = ledger()
        #expect(get(&ledger, "/datafiles/auth/KEY.json").request.status == 401)
        #expect(get(&ledger, "/datafiles/auth/KEY.json", authorization: "Bearer any").request.status == 403)
    }

    @Test func refusedAuthorizationUsesNoPlanStep() throws {
        var ledger = ledger(try DatafileFaultPlan(parsing: "503,200"), token: "t")
        #expect(get(&ledger, "/datafiles/auth/KEY.json").request.status == 401)
        #expect(get(&ledger, "/datafiles/auth/KEY.json", authorization: "Bearer t").request.status == 503)
    }

    @Test func faultStepsAreAnsweredInTurn() throws {
        var ledger = ledger(try DatafileFaultPlan(parsing: "500,502,503,504,403,429:7,timeout,reset,200"))
        let replies = (0..<10).map { _ in get(&ledger).reply }
        for (reply, status) in zip(replies, [500, 502, 503, 504, 403]) {
            #expect(reply == .error(status, "injected fault \(status)"))
        }
        #expect(replies[5] == .error(429, "injected fault 429:7", extra: [.init(name: "Retry-After", value: "7")]))
        #expect(replies[6] == .hold)
        #expect(replies[7] == .reset)
        #expect(replies[8] == .respond(status: 200, headers: [json, .init(name: "Last-Modified", value: t0Date)], body: #"{"revision": "1"}"#))
        #expect(ledger.requests.map(\.outcome)[6...7] == [.timedOut, .reset])
    }

    @Test func anInvalidBodyComesWithANewerLastModified() throws {
        var ledger = ledger(try DatafileFaultPlan(parsing: "invalid,200"))
        let (request, reply) = get(&ledger)
        #expect(reply == .respond(status: 200, headers: [json, .init(name: "Last-Modified", value: "Tue, 14 Nov 2023 22:13:21 GMT")], body: DatafileLedger.invalidBody))
        #expect(request.lastModified == "Tue, 14 Nov 2023 22:13:21 GMT")
        #expect(throws: DatafileError.self) { try ProjectConfig(datafile: DatafileLedger.invalidBody) }
        // A client that took the broken file's date would be told the good one is not modified.
        #expect(get(&ledger, since: "Tue, 14 Nov 2023 22:13:21 GMT").request.status == 304)
    }

    @Test func aNewPlanStartsAtItsFirstStep() throws {
        var ledger = ledger(try DatafileFaultPlan(parsing: "503"))
        #expect(get(&ledger).request.status == 503)
        ledger.setPlan(try DatafileFaultPlan(parsing: "500,200"))
        #expect(get(&ledger).request.status == 500)
        #expect(get(&ledger).request.status == 200)
    }

    @Test func requestsAreRecordedWithTheirHeaders() {
        var ledger = ledger(token: "t")
        _ = get(&ledger, "/datafiles/auth/KEY.json", since: t0Date, authorization: "Bearer t")
        _ = get(&ledger, "/datafiles/other")
        #expect(ledger.requests == [
            ReceivedDatafileRequest(
                seq: 1, method: "GET", path: "/datafiles/auth/KEY.json", sdkKey: "KEY", authenticatedRoute: true,
                ifModifiedSince: t0Date, authorization: "Bearer t", outcome: .responded(status: 304), lastModified: t0Date
            ),
            ReceivedDatafileRequest(
                seq: 2, method: "GET", path: "/datafiles/other", sdkKey: nil, authenticatedRoute: false,
                ifModifiedSince: nil, authorization: nil, outcome: .responded(status: 404), lastModified: nil
            ),
        ])
    }

    @Test func withoutRetainingRequestsTheyAreStillNumbered() {
        var ledger = DatafileLedger(plan: .alwaysServe, retainsRequests: false)
        _ = get(&ledger)
        #expect(get(&ledger).request.seq == 2)
        #expect(ledger.requests.isEmpty)
    }
}

@Suite("Collector datafile fault plans")
struct DatafileFaultPlanTests {
    @Test(arguments: [
        ("200", DatafileFaultStep.serve),
        ("500", .status(500)), ("502", .status(502)), ("503", .status(503)), ("504", .status(504)),
        ("400", .status(400)), ("401", .status(401)), ("403", .status(403)), ("404", .status(404)), ("410", .status(410)),
        ("429:3", .tooManyRequests(retryAfterSeconds: 3)),
        ("invalid", .invalidBody), ("timeout", .timeout), ("reset", .reset),
    ])
    func everyDatafileStepIsRead(text: String, step: DatafileFaultStep) throws {
        let plan = try DatafileFaultPlan(parsing: text)
        #expect(plan.entries == [DatafileFaultPlan.Entry(step)])
        #expect(plan.description == text)
    }

    @Test func countsAndTheLastStepRepeatingWorkAsForEvents() throws {
        let plan = try DatafileFaultPlan(parsing: "503x2, invalid ,200")
        #expect((0..<5).map { plan.step(forRequestAt: $0) } == [.status(503), .status(503), .invalidBody, .serve, .serve])
        #expect(DatafileFaultPlan.alwaysServe.step(forRequestAt: 3) == .serve)
    }

    @Test(arguments: [("418", FaultPlanError.Problem.unknownStep), ("204", .unknownStep), ("5000", .unknownStep), ("429", .missingRetryAfter), ("429:a", .invalidRetryAfter), ("503x0", .invalidCount), ("", .emptyPlan)])
    func aWrongDatafileStepIsNamedWithWhatIsAllowed(text: String, problem: FaultPlanError.Problem) {
        do {
            _ = try DatafileFaultPlan(parsing: text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.problem == problem)
            #expect(error.description.hasSuffix("steps are comma-separated: \(DatafileFaultStep.allowedSteps)"))
        }
    }

    @Test func theEventsPlanDoesNotTakeDatafileSteps() {
        for text in ["500", "invalid", "404"] {
            #expect(throws: FaultPlanError.self) { try FaultPlan(parsing: text) }
        }
    }
}
