import Testing
@testable import EventSpool

/// The worker's rules (spec §5–§7) as transitions of ``WorkerStateMachine`` in virtual time:
/// each test feeds events with a time and checks the actions. Nothing sleeps.
@Suite("The worker's rules (spec §5–§7)")
struct WorkerStateMachineTests {
    let t0: Int64 = 1_700_000_000_000
    let retry = RetryPolicy(baseDelay: 1, maxDelay: 60, maxAttempts: 10, maxAge: 86_400)

    func machine(maxInFlight: Int = 4, flushInterval: Int64 = 30_000, lease: Int64 = 15_000) -> WorkerStateMachine {
        WorkerStateMachine(settings: .init(
            flushIntervalMillis: flushInterval, leaseMillis: lease, maxRequestsInFlight: maxInFlight, pruneIntervalMillis: 60_000
        ))
    }

    /// A claimed batch of events `first...last`, its lease running `lease` from `now`.
    func batch(_ id: Int64, events first: Int64, _ last: Int64, attempts: Int = 1, at now: Int64? = nil, lease: Int64 = 15_000) -> ClaimedBatch {
        ClaimedBatch(
            id: id, context: QueueFixtures.context,
            members: (first...last).map { ClaimedBatch.Member(id: $0, uuid: "u\($0)", visitorJSON: "{}") },
            attempts: attempts, bodyBytes: 100, oldestEnqueuedAtMillis: now ?? t0, leaseExpiresAtMillis: (now ?? t0) + lease
        )
    }

    let ok = DispatchDecision.Result.response(DispatchResponse(status: 204))

    func claims(_ actions: [WorkerStateMachine.Action]) -> [ClaimRule] {
        actions.compactMap { if case .claim(let rule) = $0 { rule } else { nil } }
    }

    func sends(_ actions: [WorkerStateMachine.Action]) -> [Int64] {
        actions.compactMap { if case .send(let batch) = $0 { batch.id } else { nil } }
    }

    func completed(_ actions: [WorkerStateMachine.Action]) -> [Int] {
        actions.flatMap { action -> [Int] in
            if case .completeFlushes(let tokens) = action { return tokens }
            return []
        }
    }

    /// The response of `batchId` comes and its outcome is recorded: the actions that follow. A
    /// claim the machine makes in the record's transaction is shown as a `.claim` first.
    func answer(
        _ machine: inout WorkerStateMachine, _ batchId: Int64, _ result: DispatchDecision.Result? = nil, at now: Int64, returned: Bool = false
    ) -> [WorkerStateMachine.Action] {
        let actions = machine.responded(batchId: batchId, result: result ?? ok, nowMillis: now, jitter: 0, retry: retry)
        var claim: [WorkerStateMachine.Action] = []
        if case .record(_, _, let rule?)? = actions.first { claim = [.claim(rule)] }
        return claim + machine.recorded(batchId: batchId, returnedEventsToPending: returned, nowMillis: now)
    }

    /// Starts a machine and lets its first claim find nothing due, at `t0`.
    func started(_ machine: inout WorkerStateMachine, schedule: PendingSchedule = PendingSchedule()) {
        _ = machine.start(nowMillis: t0)
        _ = machine.nothingDue(schedule, nowMillis: t0)
    }

    // MARK: - Spec §5: when a batch is sent

    @Test func startClaimsClosedBatchesAndOpenOnesOnlyOnceAged() {
        var machine = machine()
        let actions = machine.start(nowMillis: t0)
        #expect(claims(actions) == [ClaimRule(includeOpenBatch: false, openBatchQueuedBeforeMillis: t0 - 30_000)])
        #expect(actions.contains(.prune), "old sent rows are pruned when the worker starts")
    }

    @Test func appendSeenClaimsAtOnce() {
        var machine = machine()
        started(&machine)
        #expect(claims(machine.appendSeen(nowMillis: t0 + 5)).count == 1)
    }

    @Test func openBatchIsClaimedWhenItsOldestEventHasWaitedTheFlushInterval() {
        var machine = machine()
        _ = machine.start(nowMillis: t0)
        // An open batch whose oldest event was queued at t0: due at t0 + 30 s.
        _ = machine.nothingDue(PendingSchedule(oldestUnbatchedEnqueuedAtMillis: t0), nowMillis: t0)
        #expect(machine.nextWakeMillis == t0 + 100, "before that, only the watch for other processes' appends")
        var now = t0
        while now < t0 + 30_000 - 100 {
            now += 100
            let actions = machine.timerFired(nowMillis: now)
            #expect(claims(actions).isEmpty, "not due at \(now - t0) ms")
            _ = machine.appendsChecked(changed: false, nowMillis: now)
        }
        let due = machine.timerFired(nowMillis: t0 + 30_000)
        #expect(claims(due) == [ClaimRule(includeOpenBatch: false, openBatchQueuedBeforeMillis: t0)])
    }

    @Test func flushClaimsOpenBatchesUntilNothingIsLeft() {
        var machine = machine()
        started(&machine)
        #expect(claims(machine.flushRequested(nowMillis: t0)).first?.includeOpenBatch == true)
        _ = machine.claimed(batch(1, events: 1, 3), nowMillis: t0)
        _ = machine.nothingDue(PendingSchedule(), nowMillis: t0)
        #expect(claims(machine.appendSeen(nowMillis: t0)).first?.includeOpenBatch == false, "the flush is over")
    }

    @Test func retryIsClaimedWhenItsTimeComes() {
        var machine = machine()
        _ = machine.start(nowMillis: t0)
        _ = machine.nothingDue(PendingSchedule(nextRetryAtMillis: t0 + 2_000), nowMillis: t0)
        #expect(claims(machine.timerFired(nowMillis: t0 + 1_999)).isEmpty)
        #expect(claims(machine.timerFired(nowMillis: t0 + 2_000)).count == 1)
    }

    @Test func wakesAtTheEarliestOfAgeRetryAndAnotherWorkersLease() {
        let machine = machine()
        let schedule = PendingSchedule(oldestUnbatchedEnqueuedAtMillis: t0 - 10_000, nextRetryAtMillis: t0 + 25_000, nextLeaseExpiryMillis: t0 + 40_000)
        #expect(machine.wakeTime(schedule: schedule, nowMillis: t0) == t0 + 20_000)
        #expect(machine.wakeTime(schedule: PendingSchedule(nextLeaseExpiryMillis: t0 + 1_000), nowMillis: t0) == t0 + 1_000)
        #expect(machine.wakeTime(schedule: PendingSchedule(), nowMillis: t0) == nil)
    }

    // MARK: - Spec §6: requests in flight and outcomes

    @Test func upToMaxRequestsInFlightAreClaimedAndSentOneClaimAtATime() {
        var machine = machine(maxInFlight: 3)
        _ = machine.start(nowMillis: t0)
        var actions = machine.claimed(batch(1, events: 1, 10), nowMillis: t0)
        #expect(sends(actions) == [1] && claims(actions).count == 1, "sent at once, and the next claimed")
        actions = machine.claimed(batch(2, events: 11, 20), nowMillis: t0)
        #expect(sends(actions) == [2] && claims(actions).count == 1)
        actions = machine.claimed(batch(3, events: 21, 30), nowMillis: t0)
        #expect(sends(actions) == [3] && claims(actions).isEmpty, "three out: no more claims")
        #expect(claims(machine.appendSeen(nowMillis: t0)).isEmpty, "not even for new events")
        // A response frees a slot once its outcome is recorded.
        actions = machine.responded(batchId: 2, result: ok, nowMillis: t0 + 50, jitter: 0, retry: retry)
        guard case .record(let recorded, .decided(.markSent(204), _), let thenClaim)? = actions.first else {
            Issue.record("a 2xx is recorded as sent: \(actions)")
            return
        }
        #expect(recorded.id == 2 && thenClaim != nil, "the freed slot's claim goes in the same transaction as the record")
        #expect(claims(machine.recorded(batchId: 2, returnedEventsToPending: false, nowMillis: t0 + 51)).isEmpty, "no second claim")
        #expect(sends(machine.claimed(batch(4, events: 31, 40), nowMillis: t0 + 51)) == [4])
    }

    @Test func oneRequestAtATimeWhenMaxIsOne() {
        var machine = machine(maxInFlight: 1)
        _ = machine.start(nowMillis: t0)
        let actions = machine.claimed(batch(1, events: 1, 10), nowMillis: t0)
        #expect(sends(actions) == [1] && claims(actions).isEmpty)
        #expect(claims(answer(&machine, 1, ok, at: t0 + 50, returned: false)).count == 1)
    }

    @Test func responsesAreDecidedBySpecSix() {
        var machine = machine()
        _ = machine.start(nowMillis: t0)
        _ = machine.claimed(batch(1, events: 1, 10), nowMillis: t0)
        _ = machine.claimed(batch(2, events: 11, 11), nowMillis: t0)
        _ = machine.claimed(batch(3, events: 12, 20), nowMillis: t0)
        _ = machine.nothingDue(PendingSchedule(), nowMillis: t0)
        let tooLarge = machine.responded(batchId: 1, result: .response(DispatchResponse(status: 413)), nowMillis: t0, jitter: 0, retry: retry)
        let rule = ClaimRule(includeOpenBatch: false, openBatchQueuedBeforeMillis: t0 - 30_000)
        #expect(tooLarge == [.record(batch(1, events: 1, 10), .decided(.split(status: 413, reason: "HTTP 413"), .response(DispatchResponse(status: 413))), thenClaim: rule)])
        let refused = machine.responded(batchId: 2, result: .response(DispatchResponse(status: 400)), nowMillis: t0, jitter: 0, retry: retry)
        #expect(refused == [.record(batch(2, events: 11, 11), .decided(.deadLetter(status: 400, reason: "HTTP 400"), .response(DispatchResponse(status: 400))), thenClaim: nil)],
                "a claim is already made with the first record")
        let busy = machine.responded(batchId: 3, result: .failure("connection reset"), nowMillis: t0, jitter: 0.5, retry: retry)
        #expect(busy == [.record(batch(3, events: 12, 20), .decided(.retry(atMillis: t0 + 500, status: nil, reason: "connection reset"), .failure("connection reset")), thenClaim: nil)])
    }

    @Test func failedBatchMakesTheNextClaimLookFromTheOldestEventsAgain() {
        // A split or a retry puts events back: the next claim (oldest first) finds them before
        // newer events; and a flush waits for them again.
        var machine = machine(maxInFlight: 2)
        _ = machine.start(nowMillis: t0)
        _ = machine.claimed(batch(1, events: 1, 10), nowMillis: t0)
        _ = machine.claimed(batch(2, events: 11, 20), nowMillis: t0)
        _ = machine.flushRequested(token: 7, lastEventId: 20, nowMillis: t0)
        let actions = answer(&machine, 1, .response(DispatchResponse(status: 413)), at: t0, returned: true)
        #expect(claims(actions) == [ClaimRule(includeOpenBatch: true, openBatchQueuedBeforeMillis: t0 - 30_000)])
        #expect(completed(actions).isEmpty)
        // The halves are claimed and answered; only then is the flush complete.
        _ = machine.claimed(batch(3, events: 1, 5, attempts: 1), nowMillis: t0)
        #expect(completed(answer(&machine, 2, ok, at: t0, returned: false)).isEmpty)
        _ = machine.claimed(batch(4, events: 6, 10, attempts: 1), nowMillis: t0)
        _ = machine.nothingDue(PendingSchedule(), nowMillis: t0)
        #expect(completed(answer(&machine, 3, ok, at: t0, returned: false)).isEmpty)
        #expect(completed(answer(&machine, 4, ok, at: t0, returned: false)) == [7])
    }

    // MARK: - Spec §7: flush, stop, leases, other processes

    @Test func awaitedFlushCompletesOnceEveryRequestCarryingItsEventsIsAnswered() {
        var machine = machine()
        _ = machine.start(nowMillis: t0)
        _ = machine.claimed(batch(1, events: 1, 10), nowMillis: t0)
        _ = machine.nothingDue(PendingSchedule(oldestUnbatchedEnqueuedAtMillis: t0), nowMillis: t0)
        // flushAndWait() with events 1...15 queued: 11...15 are an open batch.
        let flush = machine.flushRequested(token: 1, lastEventId: 15, nowMillis: t0)
        #expect(claims(flush).first?.includeOpenBatch == true)
        #expect(completed(machine.claimed(batch(2, events: 11, 15), nowMillis: t0)).isEmpty)
        #expect(completed(machine.nothingDue(PendingSchedule(), nowMillis: t0)).isEmpty, "both requests are still out")
        #expect(completed(answer(&machine, 2, ok, at: t0, returned: false)).isEmpty, "events 1...10 are still out")
        _ = machine.nothingDue(PendingSchedule(), nowMillis: t0)
        let afterRetry = answer(&machine, 1, .response(DispatchResponse(status: 503)), at: t0, returned: true)
        #expect(completed(afterRetry).isEmpty, "a claim must look again after the retry was scheduled")
        #expect(completed(machine.nothingDue(PendingSchedule(nextRetryAtMillis: t0 + 1_000), nowMillis: t0)) == [1], "tried: the retry waits for its time")
    }

    @Test func flushAskedForDuringAClaimWaitsForAClaimOfItsOwn() {
        var machine = machine()
        _ = machine.start(nowMillis: t0)
        // process() appends and flushAndWait() is called while the claim runs...
        _ = machine.flushRequested(token: 1, lastEventId: 1, nowMillis: t0)
        // ...so that claim's empty result says nothing about the new event.
        let actions = machine.nothingDue(PendingSchedule(), nowMillis: t0)
        #expect(completed(actions).isEmpty)
        #expect(claims(actions).first?.includeOpenBatch == true)
        #expect(completed(machine.nothingDue(PendingSchedule(), nowMillis: t0)) == [1])
    }

    @Test func stopSendsWhatIsPendingWaitsForRequestsThenFinishes() {
        var machine = machine()
        started(&machine)
        _ = machine.claimed(batch(1, events: 1, 10), nowMillis: t0)
        let stop = machine.stopRequested(deadlineMillis: t0 + 5_000, nowMillis: t0 + 1)
        #expect(stop.isEmpty, "a claim is already running")
        let open = machine.nothingDue(PendingSchedule(oldestUnbatchedEnqueuedAtMillis: t0), nowMillis: t0 + 1)
        #expect(claims(open).first?.includeOpenBatch == true, "the claim began before the stop: open batches go now")
        _ = machine.claimed(batch(2, events: 11, 12), nowMillis: t0 + 1)
        #expect(!machine.nothingDue(PendingSchedule(), nowMillis: t0 + 1).contains(.finish), "requests are out")
        _ = answer(&machine, 1, ok, at: t0 + 2, returned: false)
        _ = machine.nothingDue(PendingSchedule(), nowMillis: t0 + 2)
        let recorded = answer(&machine, 2, ok, at: t0 + 3, returned: false)
        #expect(claims(recorded).count == 1, "one last look")
        #expect(machine.nothingDue(PendingSchedule(), nowMillis: t0 + 3) == [.finish])
        #expect(machine.phase == .stopped)
        #expect(machine.nextWakeMillis == nil)
    }

    @Test func stopDeadlineCancelsTheRequestsStillOutAndRecordsThemWhenTheyEnd() {
        var machine = machine()
        started(&machine)
        _ = machine.claimed(batch(1, events: 1, 10), nowMillis: t0)
        _ = machine.claimed(batch(2, events: 11, 20), nowMillis: t0)
        _ = machine.nothingDue(PendingSchedule(), nowMillis: t0)
        _ = machine.stopRequested(deadlineMillis: t0 + 5_000, nowMillis: t0)
        _ = machine.nothingDue(PendingSchedule(), nowMillis: t0)
        #expect(machine.timerFired(nowMillis: t0 + 5_000) == [.cancelRequests([1, 2])])
        // A cancelled request that ends without a 2xx is given back; a late 2xx is the truth.
        #expect(machine.responded(batchId: 1, result: .failure("cancelled"), nowMillis: t0 + 5_001, jitter: 0, retry: retry) == [.record(batch(1, events: 1, 10), .abandoned, thenClaim: nil)])
        #expect(machine.recorded(batchId: 1, returnedEventsToPending: true, nowMillis: t0 + 5_001).isEmpty)
        #expect(machine.responded(batchId: 2, result: ok, nowMillis: t0 + 5_002, jitter: 0, retry: retry)
            == [.record(batch(2, events: 11, 20), .decided(.markSent(status: 204), ok), thenClaim: nil)], "no claims past the deadline")
        #expect(machine.recorded(batchId: 2, returnedEventsToPending: false, nowMillis: t0 + 5_002) == [.finish])
    }

    @Test func requestThatIgnoresCancellationIsLeftToItsLeaseAfterTheGrace() {
        var machine = machine()
        started(&machine)
        _ = machine.claimed(batch(1, events: 1, 10), nowMillis: t0)
        _ = machine.nothingDue(PendingSchedule(), nowMillis: t0)
        _ = machine.stopRequested(deadlineMillis: t0 + 100, nowMillis: t0)
        _ = machine.nothingDue(PendingSchedule(), nowMillis: t0)
        #expect(machine.timerFired(nowMillis: t0 + 100) == [.cancelRequests([1])])
        #expect(machine.nextWakeMillis == t0 + 350)
        #expect(machine.timerFired(nowMillis: t0 + 349).isEmpty)
        #expect(machine.timerFired(nowMillis: t0 + 350) == [.finish])
    }

    @Test func awaitedFlushesStillWaitingWhenTheWorkerFinishesAreCompleted() {
        var machine = machine()
        started(&machine)
        _ = machine.claimed(batch(1, events: 1, 10), nowMillis: t0)
        _ = machine.flushRequested(token: 3, lastEventId: 10, nowMillis: t0)
        _ = machine.stopRequested(deadlineMillis: t0, nowMillis: t0)
        _ = machine.nothingDue(PendingSchedule(), nowMillis: t0)
        #expect(machine.timerFired(nowMillis: t0 + 300) == [.completeFlushes([3]), .finish])
        #expect(machine.flushRequested(token: 4, lastEventId: 1, nowMillis: t0 + 400) == [.completeFlushes([4])], "after the end: at once")
    }

    @Test func stoppingTwiceKeepsTheFirstDeadline() {
        var machine = machine()
        started(&machine)
        _ = machine.stopRequested(deadlineMillis: t0 + 5_000, nowMillis: t0)
        _ = machine.stopRequested(deadlineMillis: t0 + 50_000, nowMillis: t0)
        #expect(machine.phase == .stopping(deadlineMillis: t0 + 5_000))
    }

    @Test func leaseOfEachRequestIsRenewedEveryThirdOfALeaseWhileItIsOut() {
        var machine = machine(lease: 15_000)
        started(&machine)
        _ = machine.claimed(batch(1, events: 1, 10, lease: 15_000), nowMillis: t0)
        _ = machine.nothingDue(PendingSchedule(), nowMillis: t0)
        #expect(machine.timerFired(nowMillis: t0 + 4_999).filter { if case .renewLease = $0 { true } else { false } }.isEmpty)
        #expect(machine.timerFired(nowMillis: t0 + 5_000).contains(.renewLease(batchId: 1)))
        machine.leaseRenewed(batchId: 1, expiresAtMillis: t0 + 20_000)
        // A dispatcher slower than several leases: renewed all along.
        var renewals = 1
        for now in stride(from: t0 + 5_100, through: t0 + 60_000, by: 100) {
            if machine.timerFired(nowMillis: now).contains(.renewLease(batchId: 1)) {
                renewals += 1
                machine.leaseRenewed(batchId: 1, expiresAtMillis: now + 15_000)
            }
            _ = machine.appendsChecked(changed: false, nowMillis: now)
        }
        #expect(renewals == 12, "every 5 s for 60 s")
        // Once the response is in, the lease is no longer renewed.
        _ = machine.responded(batchId: 1, result: ok, nowMillis: t0 + 60_001, jitter: 0, retry: retry)
        #expect(!machine.timerFired(nowMillis: t0 + 70_000).contains(.renewLease(batchId: 1)))
    }

    @Test func idleWorkerLooksForOtherProcessesAppendsEveryWatchInterval() {
        var machine = machine()
        started(&machine)
        #expect(machine.nextWakeMillis == t0 + 100)
        #expect(machine.timerFired(nowMillis: t0 + 100) == [.checkForAppends])
        #expect(claims(machine.appendsChecked(changed: false, nowMillis: t0 + 101)).isEmpty)
        #expect(machine.nextWakeMillis == t0 + 201)
        #expect(machine.timerFired(nowMillis: t0 + 201) == [.checkForAppends])
        // Another process appended: claim (a full batch goes at once).
        #expect(claims(machine.appendsChecked(changed: true, nowMillis: t0 + 202)).count == 1)
    }

    @Test func busyWorkerDoesNotLookForAppendsItCouldNotClaim() {
        var machine = machine(maxInFlight: 1)
        started(&machine)
        _ = machine.appendSeen(nowMillis: t0)
        _ = machine.claimed(batch(1, events: 1, 10), nowMillis: t0)
        #expect(machine.nextWakeMillis == t0 + 5_000, "only the lease renewal")
    }

    @Test func sentRowsArePrunedEveryPruneInterval() {
        var machine = machine()
        #expect(machine.start(nowMillis: t0).contains(.prune))
        _ = machine.pruned(nowMillis: t0)
        _ = machine.nothingDue(PendingSchedule(), nowMillis: t0)
        #expect(!machine.timerFired(nowMillis: t0 + 59_999).contains(.prune))
        #expect(machine.timerFired(nowMillis: t0 + 60_000).contains(.prune))
    }

    @Test func failedClaimIsTriedAgainASecondLater() {
        var machine = machine()
        _ = machine.start(nowMillis: t0)
        _ = machine.claimFailed(nowMillis: t0)
        #expect(claims(machine.timerFired(nowMillis: t0 + 999)).isEmpty)
        #expect(claims(machine.timerFired(nowMillis: t0 + 1_000)).count == 1)
    }
}
