import Foundation
import Logging

/// The thin driver of ``WorkerStateMachine``: it feeds the machine what happens and does the
/// I/O its actions ask for (claims and outcomes on the ``EventQueue``, requests through the
/// ``EventDispatcher``, notifications, a timer on the injected ``EventClock``).
///
/// One task runs the loop. Other threads talk to it through an inbox (appends, flushes, stop);
/// each request runs in a task of its own and posts its response to the inbox; so does the
/// timer. Queue work is synchronous and done on the loop, one call at a time; the loop's task
/// runs on a thread of the worker's own (``DispatchQueueTaskExecutor``), not on the cooperative
/// pool.
final class BatchWorker: Sendable {
    /// What the loop is told from outside.
    private enum Message {
        case flush
        case awaitedFlush(token: Int, lastEventId: Int64)
        case stop(deadlineMillis: Int64)
        case response(batchId: Int64, DispatchDecision.Result)
        case timer
    }

    private struct Inbox {
        /// Appends coalesce: `process` signals after every call.
        var appendSeen = false
        var messages: [Message] = []
        var started = false
        var finished = false
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextToken = 1
        var loop: Task<Void, Never>?
        /// Callers of ``idle()``.
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let queue: EventQueue
    private let settings: ProcessorConfiguration
    private let dispatcher: any EventDispatcher
    private let notificationCenter: EventNotificationCenter
    private let logger: Logger
    private let clock: any EventClock
    private let metrics: ProcessorMetrics
    private let wake = WakeSignal()
    private let inbox = LockedValue(Inbox())
    /// Where the loop runs: its SQLite calls may wait for another process's write lock (up to
    /// the queue's `busyRetryLimitMillis`), so they hold a thread of the worker's own, never
    /// one of Swift's cooperative pool.
    private let executor = DispatchQueueTaskExecutor(label: "eventspool.worker")

    init(
        queue: EventQueue, settings: ProcessorConfiguration, dispatcher: any EventDispatcher,
        notificationCenter: EventNotificationCenter, logger: Logger, clock: any EventClock, metrics: ProcessorMetrics
    ) {
        self.metrics = metrics
        self.queue = queue
        self.settings = settings
        self.dispatcher = dispatcher
        self.notificationCenter = notificationCenter
        self.logger = logger
        self.clock = clock
    }

    /// Starts the loop; `false` when it was started before.
    @discardableResult
    func start() -> Bool {
        inbox.withLock { inbox in
            guard !inbox.started else { return false }
            inbox.started = true
            inbox.loop = Task(executorPreference: executor) { [self] in await self.run() }
            return true
        }
    }

    /// Whether the loop was started.
    var isStarted: Bool { inbox.withLock { $0.started } }

    /// Tells the loop that events were appended (after `process`).
    func poke() {
        inbox.withLock { $0.appendSeen = true }
        wake.signal()
    }

    /// Asks for everything pending to be sent now.
    func requestFlush() {
        post(.flush)
    }

    /// Returns once every event queued up to `lastEventId` has been tried, the loop ends, or
    /// the calling task is cancelled (the flush itself goes on).
    func flushAndWait(lastEventId: Int64) async {
        let token = inbox.withLock { inbox in
            defer { inbox.nextToken += 1 }
            return inbox.nextToken
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = inbox.withLock { inbox in
                    if inbox.finished || Task.isCancelled { return true }
                    inbox.waiters[token] = continuation
                    inbox.messages.append(.awaitedFlush(token: token, lastEventId: lastEventId))
                    return false
                }
                if resumeNow { continuation.resume() } else { wake.signal() }
            }
        } onCancel: {
            // Under the same lock as the install above: either it finds the waiter, or the
            // install sees the cancellation.
            inbox.withLock { $0.waiters.removeValue(forKey: token) }?.resume()
        }
    }

    /// Asks the loop to send what is pending and finish by `deadlineMillis` (requests still
    /// out then are cancelled), and waits for it.
    ///
    /// The loop's writes may be waiting for another connection's write lock (a `sqlite3`
    /// session in a transaction), each for up to the queue's `busyRetryLimitMillis`. At the
    /// deadline those waits are interrupted, so the loop finishes in time; what it could not
    /// write stays as it was in the file (pending events stay pending, a batch in flight is
    /// taken back when its lease runs out).
    func stop(deadlineMillis: Int64) async {
        post(.stop(deadlineMillis: deadlineMillis))
        // It holds the queue's lock waits, not the queue: a stopped processor frees its queue.
        let interrupter = Task { [clock, lockWaits = queue.lockWaits, round = queue.lockWaits.round] in
            do { try await clock.sleep(untilMillis: deadlineMillis) } catch { return }
            lockWaits.interrupt(round: round)
        }
        await inbox.withLock { $0.loop }?.value
        interrupter.cancel()
        queue.lockWaits.resume()
    }

    /// Returns once the loop has handled everything it was told and waits for something new
    /// (a response, the timer, an append, a flush). For tests that run the worker in virtual
    /// time: after `idle()`, what the worker decided to send has been posted as `logEvent`.
    func idle() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = inbox.withLock { inbox in
                if inbox.finished { return true }
                inbox.idleWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() } else { wake.signal() }
        }
    }

    private func post(_ message: Message) {
        inbox.withLock { $0.messages.append(message) }
        wake.signal()
    }

    // MARK: - The loop

    /// What the loop keeps besides the machine: the running requests and the armed timer.
    private struct Driver {
        var machine: WorkerStateMachine
        var requests: [Int64: Task<Void, Never>] = [:]
        var timer: (deadline: Int64, task: Task<Void, Never>)?
    }

    private func run() async {
        var driver = Driver(machine: WorkerStateMachine(settings: WorkerStateMachine.Settings(
            flushIntervalMillis: Int64(settings.flushInterval * 1000),
            leaseMillis: settings.leaseMillis,
            maxRequestsInFlight: settings.maxRequestsInFlight,
            pruneIntervalMillis: Int64(settings.pruneInterval * 1000)
        )))
        var actions = driver.machine.start(nowMillis: clock.nowMillis())
        while true {
            if perform(actions, &driver) { break }
            actions = []
            // Everything told so far, in order; wait when there is nothing. Idle means nothing
            // to handle and no timer due (a due timer is about to post).
            let timerDue = driver.machine.nextWakeMillis.map { $0 <= clock.nowMillis() } ?? false
            let (appendSeen, messages, idleWaiters) = inbox.withLock { inbox in
                defer {
                    inbox.appendSeen = false
                    inbox.messages.removeAll()
                }
                let idle = inbox.messages.isEmpty && !inbox.appendSeen && !timerDue ? inbox.idleWaiters : []
                if !idle.isEmpty { inbox.idleWaiters.removeAll() }
                return (inbox.appendSeen, inbox.messages, idle)
            }
            for waiter in idleWaiters { waiter.resume() }
            if !appendSeen && messages.isEmpty {
                arm(&driver)
                await wake.wait()
                continue
            }
            let now = clock.nowMillis()
            if appendSeen { actions += driver.machine.appendSeen(nowMillis: now) }
            for message in messages {
                switch message {
                case .flush:
                    actions += driver.machine.flushRequested(nowMillis: now)
                case .awaitedFlush(let token, let lastEventId):
                    actions += driver.machine.flushRequested(token: token, lastEventId: lastEventId, nowMillis: now)
                case .stop(let deadline):
                    actions += driver.machine.stopRequested(deadlineMillis: deadline, nowMillis: now)
                case .response(let batchId, let result):
                    driver.requests[batchId] = nil
                    actions += driver.machine.responded(
                        batchId: batchId, result: result, nowMillis: now, jitter: Double.random(in: 0..<1), retry: settings.retry
                    )
                case .timer:
                    driver.timer = nil
                    actions += driver.machine.timerFired(nowMillis: now)
                }
            }
        }
    }

    /// Arms the timer for the machine's next wake time, unless it is armed for that time or
    /// earlier (an early timer is harmless: the machine is asked again then).
    private func arm(_ driver: inout Driver) {
        guard let deadline = driver.machine.nextWakeMillis else { return }
        if let armed = driver.timer, armed.deadline <= deadline { return }
        driver.timer?.task.cancel()
        driver.timer = (deadline, Task { [clock, weak self] in
            do { try await clock.sleep(untilMillis: deadline) } catch { return }
            self?.post(.timer)
        })
    }

    /// Does `actions` and what their answers lead to. Returns `true` once the worker finished.
    private func perform(_ actions: [WorkerStateMachine.Action], _ driver: inout Driver) -> Bool {
        var todo = actions[...]
        while let action = todo.popFirst() {
            let next: [WorkerStateMachine.Action]
            switch action {
            case .claim(let rule):
                next = claim(rule, &driver.machine)
            case .send(let batch):
                driver.requests[batch.id] = send(batch)
                next = []
            case .record(let batch, let outcome, let thenClaim):
                let (returned, claimed) = record(batch, outcome, thenClaim: thenClaim)
                var answers = driver.machine.recorded(batchId: batch.id, returnedEventsToPending: returned, nowMillis: clock.nowMillis())
                if let thenClaim {
                    // Claimed with the record, or (when the record failed) now.
                    if let claimed {
                        answers += answer(claimed, &driver.machine)
                    } else {
                        answers += claim(thenClaim, &driver.machine)
                    }
                }
                next = answers
            case .renewLease(let batchId):
                do {
                    let expires = try queue.renewLease(batchId: batchId, leaseMillis: settings.leaseMillis)
                    driver.machine.leaseRenewed(batchId: batchId, expiresAtMillis: expires)
                } catch QueueError.batchNotInFlight {
                    logger.error("lost the lease of a batch whose request is still out; another worker may send it too", metadata: ["batch": "\(batchId)"])
                    driver.machine.leaseLost(batchId: batchId)
                } catch {
                    // Tried again at the next renewal, a third of a lease later.
                    logger.warning("cannot renew the lease of a batch in flight", metadata: ["batch": "\(batchId)", "error": "\(error)"])
                }
                next = []
            case .cancelRequests(let ids):
                for id in ids { driver.requests[id]?.cancel() }
                next = []
            case .prune:
                do { try queue.pruneSent() } catch { logger.warning("cannot prune sent events", metadata: ["error": "\(error)"]) }
                next = driver.machine.pruned(nowMillis: clock.nowMillis())
            case .checkForAppends:
                let changed: Bool
                do { changed = try queue.hasChangedElsewhere() } catch { changed = true }
                next = driver.machine.appendsChecked(changed: changed, nowMillis: clock.nowMillis())
            case .completeFlushes(let tokens):
                let continuations = inbox.withLock { inbox in tokens.compactMap { inbox.waiters.removeValue(forKey: $0) } }
                for continuation in continuations { continuation.resume() }
                next = []
            case .finish:
                metrics.refreshGauges(from: queue, nowMillis: clock.nowMillis(), force: true)
                // Requests still out after the grace are left to their leases.
                for request in driver.requests.values { request.cancel() }
                driver.timer?.task.cancel()
                let waiters = inbox.withLock { inbox in
                    inbox.finished = true
                    defer {
                        inbox.waiters.removeAll()
                        inbox.idleWaiters.removeAll()
                    }
                    return Array(inbox.waiters.values) + inbox.idleWaiters
                }
                for waiter in waiters { waiter.resume() }
                return true
            }
            todo.append(contentsOf: next)
        }
        // The gauges, at most once a gauge interval: the loop comes here at least every 100 ms
        // while it runs (it looks for other processes' appends that often).
        metrics.refreshGauges(from: queue, nowMillis: clock.nowMillis())
        return false
    }

    private func claim(_ rule: ClaimRule, _ machine: inout WorkerStateMachine) -> [WorkerStateMachine.Action] {
        let result: EventQueue.ClaimResult
        do {
            result = try queue.claim(limits: settings.batchLimits, rule: rule, leaseMillis: settings.leaseMillis)
        } catch {
            logger.error("cannot claim a batch; trying again in a second", metadata: ["error": "\(error)"])
            return machine.claimFailed(nowMillis: clock.nowMillis())
        }
        return answer(result, &machine)
    }

    private func answer(_ result: EventQueue.ClaimResult, _ machine: inout WorkerStateMachine) -> [WorkerStateMachine.Action] {
        switch result {
        case .claimed(let batch): machine.claimed(batch, nowMillis: clock.nowMillis())
        case .nothingDue(let schedule): machine.nothingDue(schedule, nowMillis: clock.nowMillis())
        }
    }

    /// Posts `logEvent` and starts the request of `batch` in a task of its own.
    private func send(_ batch: ClaimedBatch) -> Task<Void, Never> {
        let logEvent = LogEvent.batch(context: batch.context, visitors: batch.visitors)
        notificationCenter.post(.logEvent(logEvent))
        logger.debug("dispatching batch", metadata: ["batch": "\(batch.id)", "events": "\(batch.members.count)", "attempt": "\(batch.attempts)"])
        return Task { [dispatcher, clock, metrics, weak self] in
            let started = clock.nowMillis()
            let result: DispatchDecision.Result
            do {
                result = .response(try await dispatcher.dispatch(logEvent))
            } catch {
                result = .failure(Self.describe(error))
            }
            if case .response(let response) = result {
                metrics.dispatched(status: response.status, millis: clock.nowMillis() - started)
            } else {
                metrics.dispatched(status: nil, millis: clock.nowMillis() - started)
            }
            self?.post(.response(batchId: batch.id, result))
        }
    }

    /// Records what the request of `batch` came to (with a claim in the same transaction when
    /// `thenClaim` is given) and posts the outcome. Returns whether its events are pending again
    /// (a retry or a split), and the claim's result (`nil` when the record failed: nothing was
    /// written, and the lease runs out).
    private func record(
        _ batch: ClaimedBatch, _ outcome: WorkerStateMachine.Outcome, thenClaim rule: ClaimRule?
    ) -> (returnedEventsToPending: Bool, claimed: EventQueue.ClaimResult?) {
        let now = clock.nowMillis()
        let claim = rule.map { (limits: settings.batchLimits, rule: $0, leaseMillis: settings.leaseMillis) }
        let recorded: EventQueue.Outcome
        let notified: DispatchOutcome.Result
        var status: Int?
        var reason: String?
        var decided: DispatchDecision.Result?
        switch outcome {
        case .abandoned:
            reason = "the processor stopped before the response"
            recorded = .retry(atMillis: now, status: nil, reason: "the processor stopped before the response")
            notified = .abandoned
        case .decided(let action, let result):
            decided = result
            if case .response(let response) = result, !response.body.isEmpty, !response.isSuccess {
                logger.debug("response body", metadata: ["batch": "\(batch.id)", "status": "\(response.status)", "body": "\(DispatchDecision.describe(response))"])
            }
            switch action {
            case .markSent(let sent):
                status = sent
                recorded = .sent(status: sent)
                notified = .sent
            case .retry(let at, let failed, let why):
                (status, reason) = (failed, why)
                recorded = .retry(atMillis: at, status: failed, reason: why)
                notified = .retryScheduled(atMillis: at)
            case .split(let refused, let why):
                (status, reason) = (refused, why)
                recorded = .split(status: refused, reason: why)
                notified = .split
            case .deadLetter(let refused, let why):
                (status, reason) = (refused, why)
                recorded = .deadLetter(status: refused, reason: why)
                notified = .deadLettered
            }
        }
        let claimed: EventQueue.ClaimResult?
        do {
            claimed = try queue.record(recorded, batchId: batch.id, thenClaim: claim)
        } catch {
            // The lease is no longer renewed: it runs out and the batch is tried again as it
            // was. Nothing is lost.
            logger.error("cannot record a dispatch outcome; the batch will be retried when its lease runs out", metadata: ["batch": "\(batch.id)", "error": "\(error)"])
            return (false, nil)
        }
        let loggable = reason.map { Self.loggable($0, decided ?? .failure("")) } ?? ""
        switch notified {
        case .sent: logger.debug("batch sent", metadata: ["batch": "\(batch.id)", "status": "\(status ?? 0)"])
        case .retryScheduled(let at): logger.warning("batch failed; retrying", metadata: ["batch": "\(batch.id)", "attempt": "\(batch.attempts)", "in_ms": "\(at - now)", "reason": "\(loggable)"])
        case .split: logger.warning("batch refused; splitting it", metadata: ["batch": "\(batch.id)", "events": "\(batch.members.count)", "reason": "\(loggable)"])
        case .deadLettered: logger.error("events dead-lettered", metadata: ["batch": "\(batch.id)", "events": "\(batch.members.count)", "reason": "\(loggable)"])
        case .abandoned: logger.warning("request abandoned at the stop deadline; the batch is due again", metadata: ["batch": "\(batch.id)"])
        }
        metrics.recorded(notified, events: batch.members.count)
        post(batch, status: status, result: notified, reason: reason)
        switch notified {
        case .retryScheduled, .split, .abandoned: return (true, claimed)
        case .sent, .deadLettered: return (false, claimed)
        }
    }

    /// A readable one-line description of a dispatch error.
    static func describe(_ error: any Error) -> String {
        let text = "\(error)".replacingOccurrences(of: "\n", with: " ")
        return text.isEmpty ? "\(type(of: error))" : text
    }

    /// `reason` for a log line above debug level: the response body, which a server or proxy
    /// may fill with an echo of the request (event data, maybe personal), is replaced by its
    /// size. The full reason stays in the queue (`last_error`, in a 0600 file), in the dispatch
    /// outcome notification, and in the debug-level "response body" line.
    static func loggable(_ reason: String, _ result: DispatchDecision.Result) -> String {
        guard case .response(let response) = result, !response.body.isEmpty else { return reason }
        return reason.replacingOccurrences(
            of: DispatchDecision.describe(response),
            with: "HTTP \(response.status) (\(response.body.count)-byte response body, logged at debug level)"
        )
    }

    private func post(_ batch: ClaimedBatch, status: Int?, result: DispatchOutcome.Result, reason: String?) {
        notificationCenter.post(.dispatchOutcome(DispatchOutcome(
            batchId: batch.id, uuids: batch.uuids, attempt: batch.attempts, status: status, result: result, reason: reason
        )))
    }
}
