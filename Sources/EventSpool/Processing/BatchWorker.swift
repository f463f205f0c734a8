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

    /// Returns once every event queued up to `lastEventId` has been tried, the loop ends, or
    /// the calling task is cancelled (the flush itself goes on).
    func flushAndWait(lastEventId: Int64) async {
        let token = state.withLock { state in
            defer { state.nextToken += 1 }
            return state.nextToken
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.machine.phase == .stopped || Task.isCancelled { return true }
                    state.waiters[token] = continuation
                    state.machine.requestFlush(token: token, lastEventId: lastEventId)
                    return false
                }
                if resumeNow { continuation.resume() } else { wake.signal() }
            }
        } onCancel: {
            // Under the same lock as the install above: either it finds the waiter, or the
            // install sees the cancellation.
            state.withLock { $0.waiters.removeValue(forKey: token) }?.resume()
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

    /// A request on its way.
    private struct InFlight {
        var batch: ClaimedBatch
        var race: DispatchRace
    }

    /// One request is in flight at a time (spec §6), but the worker does not sit idle while it
    /// is: it claims the next closed batch meanwhile (``prefetch(leaseMillis:)``), and when a
    /// request gets a 2xx it sends that next batch at once and records the 2xx while the new
    /// request is on its way, claiming the batch after it in the same transaction. A claimed
    /// batch that is not sent after all (the request before it failed and its events must keep
    /// their place, or the processor stops) is given back with ``EventQueue/releaseClaim(batchId:)``.
    private func loop() async {
        let leaseMillis = Int64(settings.leaseInterval * 1000)
        let pruneMillis = Int64(settings.pruneInterval * 1000)
        var nextPrune = clock.nowMillis()
        var inFlight: InFlight?
        var prepared: ClaimedBatch?
        /// The last outcome was recorded together with a claim of the next batch (which may
        /// have found none): no other claim is tried during the request in flight.
        var claimedWithOutcome = false
        while !Task.isCancelled {
            if inFlight == nil {
                let now = clock.nowMillis()
                let rule: WorkerStateMachine.ClaimRule? = state.withLock { state in
                    state.machine.isPastDeadline(nowMillis: now) ? nil : state.machine.beginClaim(nowMillis: now)
                }
                guard let rule else { break }

                var batch: ClaimedBatch?
                if let ready = prepared {
                    prepared = nil
                    batch = readyToSend(ready, leaseMillis: leaseMillis)
                }
                if batch == nil {
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
                }

                guard let batch else {
                    let finish = await idle(nowMillis: now, nextPrune: &nextPrune, pruneMillis: pruneMillis)
                    if finish { break }
                    continue
                }
                resume(state.withLock { $0.machine.batchClaimed(firstEventId: batch.members.first?.id ?? 0) })
                inFlight = start(batch)
            }
            guard let current = inFlight else { continue }

            if prepared == nil && !claimedWithOutcome { prepared = prefetch(leaseMillis: leaseMillis) }
            claimedWithOutcome = false
            guard let result = await current.race.result() else { break }
            inFlight = nil

            let now = clock.nowMillis()
            let action = decide(current.batch, result, nowMillis: now)
            if case .markSent = action, let next = prepared, !state.withLock({ $0.machine.isPastDeadline(nowMillis: now) }) {
                // The next request goes out first; this 2xx is recorded while it is on its way,
                // and only then do flushes count the next batch's events as tried.
                prepared = nil
                let ready = readyToSend(next, leaseMillis: leaseMillis)
                if let ready { inFlight = start(ready) }
                prepared = record(current.batch, action, result, claimingNextWithLease: leaseMillis)
                claimedWithOutcome = true
                if let ready { resume(state.withLock { $0.machine.batchClaimed(firstEventId: ready.members.first?.id ?? 0) }) }
                continue
            }
            record(current.batch, action, result)
            if action.returnsEventsToPending, let next = prepared {
                // The failed batch's events (or its halves) come first again: oldest first.
                prepared = nil
                release(next)
            }
        }
        if let inFlight {
            // The stop deadline passed mid-request: leave the batch for the next processor.
            inFlight.race.abandon()
            abandon(inFlight.batch)
        }
        if let prepared { release(prepared) }
        resume(state.withLock { $0.machine.finished() })
    }

    /// Nothing was due: completes the flushes that covered, prunes sent rows when it is time,
    /// and sleeps until the next batch is due or something wakes the worker.
    ///
    /// - Returns: whether the worker should finish (a stop, with nothing left to send).
    private func idle(nowMillis now: Int64, nextPrune: inout Int64, pruneMillis: Int64) async -> Bool {
        let (done, finish) = state.withLock { $0.machine.nothingToClaim() }
        resume(done)
        if finish { return true }

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
            return false
        }
        let wakeAt = [state.withLock { $0.machine.wakeTime(schedule: schedule, nowMillis: now) }, nextPrune].compactMap { $0 }.min() ?? nextPrune
        let delay = max(0, wakeAt - clock.nowMillis())
        await wake.wait(nanoseconds: UInt64(delay) * 1_000_000)
        return false
    }

    /// What the result of `batch`'s request means (spec §6).
    private func decide(_ batch: ClaimedBatch, _ result: DispatchDecision.Result, nowMillis now: Int64) -> DispatchDecision.Action {
        if case .response(let response) = result, !response.body.isEmpty, !response.isSuccess {
            logger.debug("response body", metadata: ["batch": "\(batch.id)", "status": "\(response.status)", "body": "\(DispatchDecision.describe(response))"])
        }
        return DispatchDecision.decide(
            result, eventCount: batch.members.count, attempts: batch.attempts,
            oldestEnqueuedAtMillis: batch.oldestEnqueuedAtMillis, nowMillis: now,
            policy: settings.retry, unit: Double.random(in: 0..<1)
        )
    }

    /// Claims the next closed batch (full, or followed by another context) while a request is
    /// in flight. An open batch is left to grow, or for the claim after the request.
    private func prefetch(leaseMillis: Int64) -> ClaimedBatch? {
        do {
            return try queue.claimNextBatch(limits: settings.batchLimits, includeOpenBatch: false, leaseMillis: leaseMillis)
        } catch {
            logger.warning("cannot claim the next batch during a request; claiming it after", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// `batch`, claimed a while ago, with a lease long enough for a whole request; `nil` when
    /// its lease was lost meanwhile (another worker recovered it after it expired).
    private func readyToSend(_ batch: ClaimedBatch, leaseMillis: Int64) -> ClaimedBatch? {
        // Claimed within the last second: the lease still covers a request timeout.
        if batch.leaseExpiresAtMillis - clock.nowMillis() >= leaseMillis - 1_000 { return batch }
        do {
            var renewed = batch
            renewed.leaseExpiresAtMillis = try queue.renewLease(batchId: batch.id, leaseMillis: leaseMillis)
            return renewed
        } catch {
            logger.warning("lost the lease of a claimed batch before sending it; another worker has it", metadata: ["batch": "\(batch.id)", "error": "\(error)"])
            return nil
        }
    }

    /// Gives back a batch claimed but not sent.
    private func release(_ batch: ClaimedBatch) {
        do {
            try queue.releaseClaim(batchId: batch.id)
        } catch {
            logger.warning("cannot give back a claimed batch; its lease will expire", metadata: ["batch": "\(batch.id)", "error": "\(error)"])
        }
    }

    /// Posts `logEvent` and starts the request of `batch`.
    private func start(_ batch: ClaimedBatch) -> InFlight {
        let logEvent = LogEvent.batch(context: batch.context, visitors: batch.visitors)
        notificationCenter.post(.logEvent(logEvent))
        logger.debug("dispatching batch", metadata: ["batch": "\(batch.id)", "events": "\(batch.members.count)", "attempt": "\(batch.attempts)"])
        return InFlight(batch: batch, race: DispatchRace(dispatcher, logEvent))
    }

    /// Leaves a batch whose response will not be waited for to the next processor, due now.
    private func abandon(_ batch: ClaimedBatch) {
        let reason = "the processor stopped before the response"
        do {
            try queue.scheduleRetry(batchId: batch.id, notBeforeMillis: clock.nowMillis(), status: nil, error: reason)
        } catch {
            logger.warning("cannot release an abandoned batch; its lease will expire", metadata: ["batch": "\(batch.id)", "error": "\(error)"])
        }
        post(batch, status: nil, result: .abandoned, reason: reason)
    }

    /// Records what a response means for `batch` and posts the outcome. With
    /// `claimingNextWithLease`, a 2xx is recorded in one transaction with the claim of the next
    /// closed batch, which is returned.
    @discardableResult
    private func record(
        _ batch: ClaimedBatch, _ action: DispatchDecision.Action, _ result: DispatchDecision.Result,
        claimingNextWithLease leaseMillis: Int64? = nil
    ) -> ClaimedBatch? {
        let now = clock.nowMillis()
        var claimed: ClaimedBatch?
        do {
            switch action {
            case .markSent(let status):
                if let leaseMillis {
                    do {
                        claimed = try queue.markSent(batchId: batch.id, status: status, claimingNextClosedBatch: settings.batchLimits, leaseMillis: leaseMillis)
                    } catch {
                        // Nothing was recorded: the 2xx alone, below, must still be.
                        logger.warning("cannot claim the next batch with a 2xx; recording the 2xx alone", metadata: ["batch": "\(batch.id)", "error": "\(error)"])
                        try queue.markSent(batchId: batch.id, status: status)
                    }
                } else {
                    try queue.markSent(batchId: batch.id, status: status)
                }
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
        return claimed
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
