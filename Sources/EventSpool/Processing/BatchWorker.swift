import Foundation
import Logging

/// The loop that turns the queue into requests: it drives ``WorkerStateMachine`` against the
/// ``EventQueue`` and an ``EventDispatcher``, one batch in flight at a time.
final class BatchWorker: Sendable {
    private struct State {
        var machine: WorkerStateMachine
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextToken = 1
        var task: Task<Void, Never>?
    }

    private let queue: EventQueue
    private let settings: ProcessorConfiguration
    private let dispatcher: any EventDispatcher
    private let notificationCenter: EventNotificationCenter
    private let logger: Logger
    private let clock: any EventClock
    private let wake = WakeSignal()
    private let state: LockedValue<State>

    init(
        queue: EventQueue, settings: ProcessorConfiguration, dispatcher: any EventDispatcher,
        notificationCenter: EventNotificationCenter, logger: Logger, clock: any EventClock
    ) {
        self.queue = queue
        self.settings = settings
        self.dispatcher = dispatcher
        self.notificationCenter = notificationCenter
        self.logger = logger
        self.clock = clock
        state = LockedValue(State(machine: WorkerStateMachine(flushIntervalMillis: Int64(settings.flushInterval * 1000))))
    }

    /// Starts the loop; `false` when it was started before.
    @discardableResult
    func start() -> Bool {
        state.withLock { state in
            guard state.task == nil else { return false }
            state.task = Task { [self] in await self.loop() }
            return true
        }
    }

    /// Whether the loop was started.
    var isStarted: Bool { state.withLock { $0.task != nil } }

    /// Wakes the loop to look for a full batch (after an append).
    func poke() { wake.signal() }

    /// Asks for everything pending to be sent now.
    func requestFlush() {
        state.withLock { $0.machine.requestFlush() }
        wake.signal()
    }

    /// Returns once every event queued up to `lastEventId` has been tried, or the loop ends.
    func flushAndWait(lastEventId: Int64) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state in
                if state.machine.phase == .stopped { return true }
                let token = state.nextToken
                state.nextToken += 1
                state.waiters[token] = continuation
                state.machine.requestFlush(token: token, lastEventId: lastEventId)
                return false
            }
            if resumeNow { continuation.resume() } else { wake.signal() }
        }
    }

    /// Asks the loop to send what is pending and finish; waits for it at most until
    /// `deadlineMillis`, then cancels it (abandoning a request still running) and waits for
    /// that, which is prompt.
    func stop(deadlineMillis: Int64) async {
        let task = state.withLock { state in
            state.machine.requestStop(deadlineMillis: deadlineMillis)
            return state.task
        }
        wake.signal()
        guard let task else { return }
        let delay = max(0, deadlineMillis - clock.nowMillis())
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await task.value
                return true
            }
            group.addTask {
                try? await Task.sleep(nanoseconds: UInt64(delay) * 1_000_000)
                return false
            }
            if await group.next() == false { task.cancel() }
            group.cancelAll()
        }
    }

    private func resume(_ tokens: [Int]) {
        guard !tokens.isEmpty else { return }
        let continuations = state.withLock { state in tokens.compactMap { state.waiters.removeValue(forKey: $0) } }
        for continuation in continuations { continuation.resume() }
    }

    // MARK: - The loop

    private func loop() async {
        let leaseMillis = Int64(settings.leaseInterval * 1000)
        let pruneMillis = Int64(settings.pruneInterval * 1000)
        var nextPrune = clock.nowMillis()
        while !Task.isCancelled {
            let now = clock.nowMillis()
            let rule: WorkerStateMachine.ClaimRule? = state.withLock { state in
                state.machine.isPastDeadline(nowMillis: now) ? nil : state.machine.beginClaim(nowMillis: now)
            }
            guard let rule else { break }

            let batch: ClaimedBatch?
            do {
                batch = try queue.claimNextBatch(
                    limits: settings.batchLimits,
                    includeOpenBatch: rule.includeOpenBatch,
                    openBatchQueuedBeforeMillis: rule.openBatchQueuedBeforeMillis,
                    leaseMillis: leaseMillis
                )
            } catch {
                logger.error("cannot claim a batch; trying again in a second", metadata: ["error": "\(error)"])
                await wake.wait(nanoseconds: 1_000_000_000)
                continue
            }

            if let batch {
                resume(state.withLock { $0.machine.batchClaimed(firstEventId: batch.members.first?.id ?? 0) })
                await send(batch)
                continue
            }

            let (done, finish) = state.withLock { $0.machine.nothingToClaim() }
            resume(done)
            if finish { break }

            if now >= nextPrune {
                do { try queue.pruneSent() } catch { logger.warning("cannot prune sent events", metadata: ["error": "\(error)"]) }
                nextPrune = now + pruneMillis
            }
            let schedule: PendingSchedule
            do {
                schedule = try queue.pendingSchedule()
            } catch {
                logger.error("cannot read the queue's schedule; trying again in a second", metadata: ["error": "\(error)"])
                await wake.wait(nanoseconds: 1_000_000_000)
                continue
            }
            let wakeAt = [state.withLock { $0.machine.wakeTime(schedule: schedule, nowMillis: now) }, nextPrune].compactMap { $0 }.min() ?? nextPrune
            let delay = max(0, wakeAt - clock.nowMillis())
            await wake.wait(nanoseconds: UInt64(delay) * 1_000_000)
        }
        resume(state.withLock { $0.machine.finished() })
    }

    /// Sends one claimed batch and records what its response means.
    private func send(_ batch: ClaimedBatch) async {
        let logEvent = LogEvent.batch(context: batch.context, visitors: batch.visitors)
        notificationCenter.post(.logEvent(logEvent))
        logger.debug("dispatching batch", metadata: ["batch": "\(batch.id)", "events": "\(batch.members.count)", "attempt": "\(batch.attempts)"])

        guard let result = await DispatchRace.run(dispatcher, logEvent) else {
            // The stop deadline passed mid-request: leave the batch for the next processor.
            let reason = "the processor stopped before the response"
            do {
                try queue.scheduleRetry(batchId: batch.id, notBeforeMillis: clock.nowMillis(), status: nil, error: reason)
            } catch {
                logger.warning("cannot release an abandoned batch; its lease will expire", metadata: ["batch": "\(batch.id)", "error": "\(error)"])
            }
            post(batch, status: nil, result: .abandoned, reason: reason)
            return
        }

        let now = clock.nowMillis()
        if case .response(let response) = result, !response.body.isEmpty, !response.isSuccess {
            logger.debug("response body", metadata: ["batch": "\(batch.id)", "status": "\(response.status)", "body": "\(DispatchDecision.describe(response))"])
        }
        let action = DispatchDecision.decide(
            result, eventCount: batch.members.count, attempts: batch.attempts,
            oldestEnqueuedAtMillis: batch.oldestEnqueuedAtMillis, nowMillis: now,
            policy: settings.retry, unit: Double.random(in: 0..<1)
        )
        do {
            switch action {
            case .markSent(let status):
                try queue.markSent(batchId: batch.id, status: status)
                logger.debug("batch sent", metadata: ["batch": "\(batch.id)", "status": "\(status)"])
                post(batch, status: status, result: .sent, reason: nil)
            case .retry(let at, let status, let reason):
                try queue.scheduleRetry(batchId: batch.id, notBeforeMillis: at, status: status, error: reason)
                logger.warning("batch failed; retrying", metadata: ["batch": "\(batch.id)", "attempt": "\(batch.attempts)", "in_ms": "\(at - now)", "reason": "\(Self.loggable(reason, result))"])
                post(batch, status: status, result: .retryScheduled(atMillis: at), reason: reason)
            case .split(let status, let reason):
                try queue.split(batchId: batch.id, status: status, error: reason)
                logger.warning("batch refused; splitting it", metadata: ["batch": "\(batch.id)", "events": "\(batch.members.count)", "reason": "\(Self.loggable(reason, result))"])
                post(batch, status: status, result: .split, reason: reason)
            case .deadLetter(let status, let reason):
                try queue.deadLetter(batchId: batch.id, status: status, reason: reason)
                logger.error("events dead-lettered", metadata: ["batch": "\(batch.id)", "events": "\(batch.members.count)", "reason": "\(Self.loggable(reason, result))"])
                post(batch, status: status, result: .deadLettered, reason: reason)
            }
        } catch {
            // The lease expires and the batch is tried again as it was: nothing is lost.
            logger.error("cannot record a dispatch outcome; the batch will be retried when its lease expires", metadata: ["batch": "\(batch.id)", "error": "\(error)"])
        }
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
