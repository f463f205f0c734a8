/// The rules of live datafile updates (`decisions.md` §16.3, settled differences in §19) as a
/// value with no I/O and no clock: a driver tells it what happened, with the time, and does the
/// ``DatafilePollingAction``s it answers, in order.
///
/// The rules:
/// - the first fetch goes out at ``start(nowMillis:bundled:)``; each poll's end schedules the
///   next one a polling interval later;
/// - every request carries `If-Modified-Since` with the `Last-Modified` of the last
///   **accepted** datafile (none before one was accepted), and `Authorization: Bearer …`
///   with an access token;
/// - a 2xx body is handed out for validation; an accepted datafile whose project and revision
///   differ from the current one is a ``DatafilePollingAction/configChanged(from:to:)``, the
///   same project and revision change nothing; a rejected one keeps the last good datafile
///   and does not advance `If-Modified-Since`;
/// - 304 changes nothing;
/// - 500, 502, 503, 504 and transport errors are retried within the poll, at most
///   ``DatafilePollingSettings/maxRetries`` times, after capped exponential backoff with full
///   jitter (or the `Retry-After` the server asks for), then the poll ends: a server that is
///   down sees at most `1 + maxRetries` requests per polling interval;
/// - any other status logs a warning and ends the poll, keeping the last good datafile; a
///   `Retry-After` on it (a 429) delays the next poll when longer than the interval (by a
///   day at most);
/// - ``DatafilePollingAction/ready(_:)`` comes once: at start with a bundled datafile, else
///   when the first datafile is accepted or the first poll ends without one. The driver waits
///   for it at most ``readinessDeadlineMillis``.
///
/// ```swift
/// var poller = DatafilePollingStateMachine(try settings.resolved())
/// var actions = poller.start(nowMillis: clock.nowMillis())
/// // .fetch(request) → send it, then:
/// actions = poller.responseReceived(response, nowMillis: clock.nowMillis(), jitter: .random(in: 0..<1))
/// // .validate(body) → parse it with ProjectConfig, then:
/// actions = poller.datafileAccepted(DatafileIdentity(config), nowMillis: clock.nowMillis())
/// // [.configChanged(from: nil, to: …), .ready(…), .scheduleFetch(atMillis: …)]
/// ```
///
/// An event that does not fit the current phase (a response when no request is out, a late
/// verdict after ``stop()``) is ignored and answers no action.
package struct DatafilePollingStateMachine: Sendable {
    /// Where polling is.
    package enum Phase: Sendable, Hashable {
        /// Not started.
        case idle
        /// A request is out: try `attempt` of the current poll.
        case fetching(attempt: Int)
        /// A body is out for validation; `lastModified` is its response's header.
        case validating(lastModified: String?)
        /// Waiting to retry the current poll with try `attempt` at `atMillis`.
        case retrying(attempt: Int, atMillis: Int64)
        /// Waiting for the next poll at `atMillis`.
        case waiting(atMillis: Int64)
        /// Stopped: every event is ignored.
        case stopped
    }

    /// The settings in force.
    package let resolved: DatafilePollingSettings.Resolved
    /// Where polling is.
    package private(set) var phase: Phase = .idle
    /// The current datafile's project and revision: the last accepted (or the bundled one),
    /// `nil` while there is none.
    package private(set) var current: DatafileIdentity?
    /// The `Last-Modified` of the last accepted datafile: the next request's
    /// `If-Modified-Since`.
    package private(set) var lastModified: String?
    /// Whether ``DatafilePollingAction/ready(_:)`` was given.
    package private(set) var isReady = false
    /// When a caller waiting for the first datafile gives up: start plus the blocking
    /// timeout; `nil` before start.
    package private(set) var readinessDeadlineMillis: Int64?

    private let backoff: RetryPolicy

    /// The longest a `Retry-After` may put the next poll off: a day, so that a misconfigured
    /// server cannot stop updates for longer.
    static let longestRetryAfterMillis: Int64 = 86_400_000

    /// A poller with settings already resolved (log their warnings).
    package init(_ resolved: DatafilePollingSettings.Resolved) {
        self.resolved = resolved
        backoff = RetryPolicy(baseDelay: resolved.settings.retryBaseDelay, maxDelay: resolved.settings.retryMaxDelay)
    }

    /// When the driver's timer should fire next, if it is waiting for one.
    package var nextFetchAtMillis: Int64? {
        switch phase {
        case .retrying(_, let at), .waiting(let at): at
        default: nil
        }
    }

    /// Polling starts: the first fetch goes out at once.
    ///
    /// - Parameter bundled: the identity of a datafile given at construction, which serves
    ///   (and makes polling ready) before the first fetch answers; a fetched datafile with the
    ///   same identity then changes nothing.
    package mutating func start(nowMillis: Int64, bundled: DatafileIdentity? = nil) -> [DatafilePollingAction] {
        guard case .idle = phase else { return [] }
        readinessDeadlineMillis = nowMillis + resolved.blockingTimeoutMillis
        var actions: [DatafilePollingAction] = []
        if let bundled {
            current = bundled
            isReady = true
            actions.append(.ready(.bundledDatafile))
        }
        phase = .fetching(attempt: 1)
        actions.append(.fetch(request(attempt: 1)))
        return actions
    }

    /// The server answered the request out.
    ///
    /// - Parameter jitter: a random number in `0..<1` for the retry delay.
    package mutating func responseReceived(_ response: DatafileResponse, nowMillis: Int64, jitter: Double) -> [DatafilePollingAction] {
        guard case .fetching(let attempt) = phase else { return [] }
        switch response.status {
        case 200..<300:
            phase = .validating(lastModified: response.lastModified)
            return [.validate(body: response.body)]
        case 304:
            return endPoll(
                nowMillis: nowMillis, notice: .notModified(url: resolved.url, since: lastModified),
                failure: current == nil ? "HTTP 304 Not Modified, and no datafile yet" : nil
            )
        case 500, 502, 503, 504:
            let retryAfter = response.retryAfter.flatMap { RetryAfter.millis($0, nowMillis: nowMillis) }
            return retryOrEnd(.status(response.status), attempt: attempt, retryAfterMillis: retryAfter, nowMillis: nowMillis, jitter: jitter)
        default:
            let retryAfter = response.retryAfter.flatMap { RetryAfter.millis($0, nowMillis: nowMillis) }
            let failure = DatafilePollingNotice.Failure.status(response.status)
            return endPoll(
                nowMillis: nowMillis,
                notice: .fetchFailed(url: resolved.url, failure: failure, attempt: attempt, retryAtMillis: nil),
                failure: failure.description, notBeforeMillis: retryAfter
            )
        }
    }

    /// The request out failed without an answer (refused, reset, timed out).
    ///
    /// - Parameter jitter: a random number in `0..<1` for the retry delay.
    package mutating func transportFailed(_ reason: String, nowMillis: Int64, jitter: Double) -> [DatafilePollingAction] {
        guard case .fetching(let attempt) = phase else { return [] }
        return retryOrEnd(.transport(reason), attempt: attempt, retryAfterMillis: nil, nowMillis: nowMillis, jitter: jitter)
    }

    /// The body out for validation is a valid datafile with this identity; the driver keeps
    /// the parsed datafile for a ``DatafilePollingAction/configChanged(from:to:)``.
    package mutating func datafileAccepted(_ identity: DatafileIdentity, nowMillis: Int64) -> [DatafilePollingAction] {
        guard case .validating(let responseLastModified) = phase else { return [] }
        lastModified = responseLastModified
        var actions: [DatafilePollingAction] = []
        if identity == current {
            actions.append(.log(.sameRevision(identity)))
        } else {
            actions.append(.configChanged(from: current, to: identity))
            current = identity
        }
        if !isReady {
            isReady = true
            actions.append(.ready(.datafileAccepted(identity)))
        }
        return actions + endPoll(nowMillis: nowMillis, notice: nil, failure: nil)
    }

    /// The body out for validation is not a usable datafile: the last good one stays, and
    /// `If-Modified-Since` keeps the last accepted datafile's date.
    package mutating func datafileRejected(_ reason: String, nowMillis: Int64) -> [DatafilePollingAction] {
        guard case .validating = phase else { return [] }
        return endPoll(nowMillis: nowMillis, notice: .datafileRejected(url: resolved.url, reason: reason), failure: reason)
    }

    /// The timer asked for by ``DatafilePollingAction/scheduleFetch(atMillis:)`` fired. A
    /// timer that fires early is set again; one that is no longer wanted is ignored.
    package mutating func timerFired(nowMillis: Int64) -> [DatafilePollingAction] {
        let attempt: Int
        let due: Int64
        switch phase {
        case .retrying(let next, let at):
            (attempt, due) = (next, at)
        case .waiting(let at):
            (attempt, due) = (1, at)
        default:
            return []
        }
        guard nowMillis >= due else { return [.scheduleFetch(atMillis: due)] }
        phase = .fetching(attempt: attempt)
        return [.fetch(request(attempt: attempt))]
    }

    /// Polling stops: ``DatafilePollingAction/finish`` once, then nothing.
    package mutating func stop() -> [DatafilePollingAction] {
        if case .stopped = phase { return [] }
        phase = .stopped
        return [.finish]
    }

    /// The request for try `attempt` of a poll.
    private func request(attempt: Int) -> DatafileRequest {
        var headers: [HTTPHeader] = []
        if let lastModified { headers.append(.init(name: "If-Modified-Since", value: lastModified)) }
        if let token = resolved.settings.accessToken { headers.append(.init(name: "Authorization", value: "Bearer \(token)")) }
        return DatafileRequest(url: resolved.url, headers: headers, timeoutMillis: resolved.requestTimeoutMillis, attempt: attempt)
    }

    /// A retryable failure: retry within the poll while retries are left and the retry comes
    /// before the next poll would, else end the poll.
    private mutating func retryOrEnd(
        _ failure: DatafilePollingNotice.Failure, attempt: Int, retryAfterMillis: Int64?, nowMillis: Int64, jitter: Double
    ) -> [DatafilePollingAction] {
        let delay = retryAfterMillis ?? backoff.backoffMillis(attempt: attempt, unit: jitter)
        if attempt <= resolved.settings.maxRetries && delay < resolved.pollingIntervalMillis {
            let at = nowMillis + delay
            phase = .retrying(attempt: attempt + 1, atMillis: at)
            return [
                .log(.fetchFailed(url: resolved.url, failure: failure, attempt: attempt, retryAtMillis: at)),
                .scheduleFetch(atMillis: at),
            ]
        }
        return endPoll(
            nowMillis: nowMillis,
            notice: .fetchFailed(url: resolved.url, failure: failure, attempt: attempt, retryAtMillis: nil),
            failure: failure.description, notBeforeMillis: retryAfterMillis
        )
    }

    /// The poll is over: log, give readiness if the first poll ended without a datafile, and
    /// schedule the next poll an interval from now (or later, when the server asked for it).
    private mutating func endPoll(
        nowMillis: Int64, notice: DatafilePollingNotice?, failure: String?, notBeforeMillis: Int64? = nil
    ) -> [DatafilePollingAction] {
        var actions: [DatafilePollingAction] = []
        if let notice { actions.append(.log(notice)) }
        if !isReady, let failure {
            isReady = true
            actions.append(.ready(.firstFetchFailed(reason: failure)))
        }
        let at = nowMillis + max(resolved.pollingIntervalMillis, min(notBeforeMillis ?? 0, Self.longestRetryAfterMillis))
        phase = .waiting(atMillis: at)
        actions.append(.scheduleFetch(atMillis: at))
        return actions
    }
}
