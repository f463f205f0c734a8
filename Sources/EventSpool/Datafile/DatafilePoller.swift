import Logging

/// Live datafile updates by SDK key: the thin driver of the polling rules (a pure state machine). It
/// sends the requests the machine asks for through an ``HTTPTransport``, parses the bodies with
/// ``ProjectConfig``, sleeps on an ``EventClock``, logs the machine's notices, and hands every
/// accepted new datafile to `onConfigChange`. Every decision (when to fetch, what to send, what a
/// response means, when to retry) is the machine's.
///
/// ```swift
/// let settings = try DatafilePollingSettings(sdkKey: "VivZyCGPHY369D4z8T9yG").resolved()
/// let poller = DatafilePoller(settings: settings, transport: URLSessionTransport(), logger: logger) { config, _ in
///     processor.configDidChange(to: config)
/// }
/// poller.start()                          // the first fetch goes out at once
/// await poller.waitUntilReady()           // at most the blocking timeout
/// …
/// await poller.stop()                     // cancels a fetch in flight; no config change after it
/// ```
///
/// An ``OptimizelyClient`` made from an SDK key runs one for itself; use this type directly to
/// follow a project's revisions without a client. (`eventspool run --sdk-key` uses a client on
/// the queue's processor, which runs the worker and the polling together.)
public final class DatafilePoller: Sendable {
    /// Called with each accepted datafile whose project or revision differs from the current
    /// one (the first included), and the identity it replaces (`nil` for the first when none
    /// was bundled). Called on the poller's task, one at a time, never after ``stop()`` returns.
    public typealias ConfigChange = @Sendable (_ config: ProjectConfig, _ previous: DatafileIdentity?) -> Void

    /// The largest datafile accepted, in bytes: a larger body is rejected (the last good
    /// datafile stays).
    public static let maxDatafileBytes = 32 << 20

    /// The settings in force.
    public let resolved: DatafilePollingSettings.Resolved
    private let bundled: DatafileIdentity?
    private let transport: any HTTPTransport
    private let clock: any EventClock
    private let logger: Logger
    private let onConfigChange: ConfigChange
    private let state = LockedValue(State())

    private struct State {
        var loop: Task<Void, Never>?
        var stopped = false
        var finished = false
        var readiness: DatafileReadiness?
        var readinessDeadlineMillis: Int64?
        var waiters: [Int: CheckedContinuation<DatafileReadiness?, Never>] = [:]
        var nextWaiter = 0
    }

    /// A poller, not yet started.
    ///
    /// - Parameters:
    ///   - settings: resolved settings (``DatafilePollingSettings/resolved()``); log their
    ///     warnings where you resolve them.
    ///   - bundled: the identity of a datafile already in use: polling is ready at once, and a
    ///     fetched datafile with the same identity changes nothing.
    ///   - transport: sends the requests (``URLSessionTransport``, or the AsyncHTTPClient one in
    ///     a server). The poller does not shut it down.
    ///   - clock: what polling sleeps on (the system clock; a ``ManualEventClock`` in tests).
    ///   - logger: where failures (warning), 304s and unchanged revisions (debug) are logged,
    ///     with the URL and the SDK key as metadata; the access token is never logged.
    ///   - onConfigChange: takes each accepted new datafile.
    public init(
        settings: DatafilePollingSettings.Resolved,
        bundled: DatafileIdentity? = nil,
        transport: any HTTPTransport,
        clock: any EventClock = SystemEventClock(),
        logger: Logger = UserEventFactory.silentLogger,
        onConfigChange: @escaping ConfigChange
    ) {
        self.resolved = settings
        self.bundled = bundled
        self.transport = transport
        self.clock = clock
        self.logger = logger
        self.onConfigChange = onConfigChange
    }

    /// Starts polling: the first fetch goes out at once. Calling it again, or after
    /// ``stop()``, does nothing.
    public func start() {
        let startMillis = clock.nowMillis()
        state.withLock { state in
            guard state.loop == nil, !state.stopped else { return }
            state.readinessDeadlineMillis = startMillis + resolved.blockingTimeoutMillis
            state.loop = Task { [self] in await self.run(startMillis: startMillis) }
        }
    }

    /// How the wait for the first datafile ended, once it has; `nil` before.
    public var readiness: DatafileReadiness? { state.withLock { $0.readiness } }

    /// Waits for the first datafile, at most until the blocking timeout after ``start()``.
    ///
    /// - Returns: how the wait ended (a bundled datafile, the first datafile accepted, or the
    ///   first poll failed); `nil` when the blocking timeout passed first, polling stopped
    ///   first, polling was never started, or the calling task was cancelled.
    @discardableResult
    public func waitUntilReady() async -> DatafileReadiness? {
        let (ready, deadline) = state.withLock { ($0.readiness, $0.readinessDeadlineMillis) }
        if let ready { return ready }
        guard let deadline else { return nil }
        return await withTaskGroup(of: DatafileReadiness?.self) { group in
            group.addTask { await self.readinessOrFinish() }
            group.addTask { [clock] in
                try? await clock.sleep(untilMillis: deadline)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// Stops polling and returns once it has stopped: a request in flight is cancelled, and
    /// no datafile reaches `onConfigChange` after this returns. Safe to call more than once,
    /// and before ``start()`` (which then does nothing).
    public func stop() async {
        let loop = state.withLock { state in
            state.stopped = true
            return state.loop
        }
        loop?.cancel()
        await loop?.value
        finish()
    }

    /// Asks polling to stop without waiting for it (for an owner that cannot wait, in its
    /// `deinit`): the loop ends soon after, and no datafile reaches `onConfigChange` once it has
    /// seen the cancellation.
    func cancel() {
        state.withLock { state in
            state.stopped = true
            return state.loop
        }?.cancel()
    }

    // MARK: - The loop

    private func run(startMillis: Int64) async {
        let metadata: Logger.Metadata = ["url": "\(resolved.url)", "sdk_key": "\(resolved.settings.sdkKey)"]
        var machine = DatafilePollingStateMachine(resolved)
        var actions = machine.start(nowMillis: startMillis, bundled: bundled)[...]
        var candidate: ProjectConfig?
        var truncated = false
        var timer: Int64?
        while true {
            while let action = actions.popFirst() {
                switch action {
                case .fetch(let request):
                    let answer = await fetch(request)
                    let now = clock.nowMillis()
                    // A stop that raced the answer wins.
                    switch Task.isCancelled ? .cancelled : answer {
                    case .cancelled:
                        actions += machine.stop()
                    case .response(let response):
                        truncated = response.isBodyTruncated
                        let answer = DatafileResponse(response)
                        actions += machine.responseReceived(answer, nowMillis: now, jitter: .random(in: 0..<1))
                    case .failed(let reason):
                        actions += machine.transportFailed(reason, nowMillis: now, jitter: .random(in: 0..<1))
                    }
                case .validate(let body):
                    candidate = nil
                    if truncated {
                        actions += machine.datafileRejected("the body is larger than \(Self.maxDatafileBytes) bytes", nowMillis: clock.nowMillis())
                        continue
                    }
                    do {
                        let config = try ProjectConfig(datafile: body)
                        candidate = config
                        actions += machine.datafileAccepted(DatafileIdentity(config), nowMillis: clock.nowMillis())
                    } catch {
                        actions += machine.datafileRejected("\(error)", nowMillis: clock.nowMillis())
                    }
                case .configChanged(let previous, _):
                    // A stop that raced the fetch wins: nothing changes after `stop()`.
                    if let candidate, !Task.isCancelled { onConfigChange(candidate, previous) }
                    candidate = nil
                case .ready(let readiness):
                    resolveReadiness(readiness)
                case .scheduleFetch(let at):
                    timer = at
                case .log(let notice):
                    logger.log(level: notice.level, "\(notice)", metadata: metadata)
                case .finish:
                    finish()
                    return
                }
            }
            guard let at = timer, !Task.isCancelled else {
                actions += machine.stop()
                continue
            }
            do {
                try await clock.sleep(untilMillis: at)
                timer = nil
                actions += machine.timerFired(nowMillis: clock.nowMillis())
            } catch {
                actions += machine.stop()
            }
        }
    }

    private enum FetchAnswer {
        case response(HTTPResponse)
        case failed(String)
        case cancelled
    }

    /// Sends one request. Redirects are followed, each hop under the same plain-http rule as the
    /// URL itself; a cancellation is never reported as a transport failure.
    private func fetch(_ request: DatafileRequest) async -> FetchAnswer {
        let http = HTTPRequest(
            method: request.method, url: request.url,
            headers: request.headers,
            timeout: .milliseconds(request.timeoutMillis),
            redirects: .follow(allowInsecureHTTP: resolved.settings.allowInsecureHTTP),
            maxResponseBytes: Self.maxDatafileBytes
        )
        do {
            return .response(try await transport.send(http))
        } catch is CancellationError {
            return .cancelled
        } catch {
            return .failed("\(error)")
        }
    }

    // MARK: - Readiness

    private func readinessOrFinish() async -> DatafileReadiness? {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<DatafileReadiness?, Never>) in
                let now: DatafileReadiness?? = state.withLock { state in
                    if let readiness = state.readiness { return .some(readiness) }
                    if state.finished || Task.isCancelled { return .some(nil) }
                    state.waiters[id] = continuation
                    return .none
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            // Under the same lock as the install above: either it finds the waiter, or the
            // install sees the cancellation.
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(returning: nil)
        }
    }

    private func resolveReadiness(_ readiness: DatafileReadiness) {
        let waiters = state.withLock { state in
            state.readiness = readiness
            defer { state.waiters.removeAll() }
            return state.waiters.values
        }
        for waiter in waiters { waiter.resume(returning: readiness) }
    }

    private func finish() {
        let waiters = state.withLock { state in
            state.finished = true
            defer { state.waiters.removeAll() }
            return state.waiters.values
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }
}
