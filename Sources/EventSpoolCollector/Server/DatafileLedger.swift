import EventSpool

/// The collector's datafile route as a pure state machine: the datafiles it serves by SDK key,
/// the fault plan for datafile requests, and the record of those requests. No I/O and no
/// clock: the time of a replacement comes in as a parameter.
///
/// A request is checked first: a path that names no datafile (404), a method other than GET
/// or HEAD (405; HEAD is answered as GET, and the handler leaves the body out), an unknown SDK key (404), a missing (401) or wrong (403) bearer token. Those answers
/// do not use a plan step; every other request takes the plan's next one.
struct DatafileLedger {
    /// A datafile being served.
    struct Served: Equatable {
        var body: String
        /// The token the authenticated route requires; `nil`: served on the public route.
        var accessToken: String?
        /// Its `Last-Modified`, in whole seconds since the epoch.
        var lastModifiedSeconds: Int64

        var lastModified: String { HTTPDate.string(millis: lastModifiedSeconds * 1000) }
    }

    /// The body of the `invalid` step: a datafile cut off in the middle.
    static let invalidBody = #"{"version": "4", "projectId": "#

    /// The plan answering datafile requests that pass the checks.
    private(set) var plan: DatafileFaultPlan
    /// How many requests the current plan has answered.
    private(set) var planPosition = 0
    /// The datafiles served, by SDK key.
    private(set) var datafiles: [String: Served] = [:]
    /// The last `Last-Modified` given to each key, kept after a removal, so that a datafile set
    /// again is always newer.
    private var lastIssuedSeconds: [String: Int64] = [:]
    /// Every request received, in order (none when not retaining them).
    private(set) var requests: [ReceivedDatafileRequest] = []
    /// How many requests were received.
    private(set) var received = 0
    /// Whether ``requests`` keeps them.
    let retainsRequests: Bool

    init(plan: DatafileFaultPlan, retainsRequests: Bool = true) {
        self.plan = plan
        self.retainsRequests = retainsRequests
    }

    /// Serves `body` for `sdkKey` from now on, in place of any earlier one. Its `Last-Modified`
    /// is the current second, or one second after the key's previous one when that is not
    /// older, so that every replacement is newer than what a client last saw.
    ///
    /// - Returns: the new `Last-Modified`.
    mutating func setDatafile(_ body: String, sdkKey: String, accessToken: String?, nowMillis: Int64) -> String {
        let nowSeconds = nowMillis >= 0 ? nowMillis / 1000 : (nowMillis - 999) / 1000
        let seconds = lastIssuedSeconds[sdkKey].map { max(nowSeconds, $0 + 1) } ?? nowSeconds
        lastIssuedSeconds[sdkKey] = seconds
        let served = Served(body: body, accessToken: accessToken, lastModifiedSeconds: seconds)
        datafiles[sdkKey] = served
        return served.lastModified
    }

    /// Stops serving `sdkKey` (its requests are answered 404); `false` when it was not served.
    mutating func removeDatafile(sdkKey: String) -> Bool {
        datafiles.removeValue(forKey: sdkKey) != nil
    }

    /// Replaces the plan; the new plan starts at its first step.
    mutating func setPlan(_ plan: DatafileFaultPlan) {
        self.plan = plan
        planPosition = 0
    }

    /// Takes in one complete datafile request and decides its answer.
    mutating func receive(method: String, path: String, ifModifiedSince: String?, authorization: String?) -> (request: ReceivedDatafileRequest, reply: CollectorReply) {
        let route = DatafileRoute(path: path)
        let (reply, lastModified) = answer(route: route, method: method, path: path, ifModifiedSince: ifModifiedSince, authorization: authorization)
        let outcome: ReceivedRequest.Outcome = switch reply {
        case .respond(let status, _, _): .responded(status: status)
        case .hold: .timedOut
        case .reset: .reset
        }
        received += 1
        let request = ReceivedDatafileRequest(
            seq: received, method: method, path: path, sdkKey: route?.sdkKey, authenticatedRoute: route?.authenticated ?? false,
            ifModifiedSince: ifModifiedSince, authorization: authorization, outcome: outcome, lastModified: lastModified
        )
        if retainsRequests { requests.append(request) }
        return (request, reply)
    }

    private mutating func answer(
        route: DatafileRoute?, method: String, path: String, ifModifiedSince: String?, authorization: String?
    ) -> (CollectorReply, lastModified: String?) {
        guard let route else {
            return (.error(404, "no such datafile route \(path); GET \(DatafileRoute.pathTemplate) or \(DatafileRoute.authenticatedPathTemplate)"), nil)
        }
        guard method == "GET" || method == "HEAD" else {
            return (.error(405, "method \(method) not allowed on a datafile; use GET", extra: [.init(name: "Allow", value: "GET, HEAD")]), nil)
        }
        guard let served = datafiles[route.sdkKey] else {
            return (.error(404, "no datafile for SDK key \(route.sdkKey)"), nil)
        }
        if let refusal = Self.authorizationRefusal(route: route, served: served, authorization: authorization) {
            return (refusal, nil)
        }
        let step = plan.step(forRequestAt: planPosition)
        planPosition += 1
        switch step {
        case .serve:
            let notModified = ifModifiedSince.flatMap(HTTPDate.millis).map { $0 >= served.lastModifiedSeconds * 1000 } ?? false
            let lastModified = HTTPHeader(name: "Last-Modified", value: served.lastModified)
            if notModified { return (.respond(status: 304, headers: [lastModified], body: ""), served.lastModified) }
            return (.respond(status: 200, headers: [CollectorReply.jsonContent, lastModified], body: served.body), served.lastModified)
        case .invalidBody:
            let newer = HTTPDate.string(millis: (served.lastModifiedSeconds + 1) * 1000)
            return (.respond(status: 200, headers: [CollectorReply.jsonContent, .init(name: "Last-Modified", value: newer)], body: Self.invalidBody), newer)
        case .status(let status):
            return (.error(status, "injected fault \(step)"), nil)
        case .tooManyRequests(let seconds):
            return (.error(429, "injected fault \(step)", extra: [.init(name: "Retry-After", value: "\(seconds)")]), nil)
        case .timeout:
            return (.hold, nil)
        case .reset:
            return (.reset, nil)
        }
    }

    /// 401 without a bearer token on the authenticated route, 403 with a wrong one, or for a
    /// datafile that needs a token asked for on the public route; `nil` when allowed.
    private static func authorizationRefusal(route: DatafileRoute, served: Served, authorization: String?) -> CollectorReply? {
        let key = route.sdkKey
        guard route.authenticated else {
            guard served.accessToken == nil else {
                return .error(403, "the datafile for SDK key \(key) needs an access token: GET \(DatafileRoute.prefix)auth/\(key).json with Authorization: Bearer TOKEN")
            }
            return nil
        }
        guard let token = bearerToken(authorization) else {
            return .error(401, "the authenticated datafile route needs Authorization: Bearer TOKEN", extra: [.init(name: "WWW-Authenticate", value: "Bearer")])
        }
        guard let expected = served.accessToken else {
            return .error(403, "the datafile for SDK key \(key) is public: GET \(DatafileRoute.prefix)\(key).json without a token")
        }
        guard token == expected else {
            return .error(403, "the access token is not valid for SDK key \(key)")
        }
        return nil
    }

    /// The token of `Bearer TOKEN` (the scheme in any case), or `nil`.
    static func bearerToken(_ authorization: String?) -> String? {
        guard let authorization else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].drop { $0 == " " }
        return token.isEmpty ? nil : String(token)
    }
}
