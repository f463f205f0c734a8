/// The batch worker's rules (spec §5–§7) as a value with no I/O: events in, actions out.
///
/// ``BatchWorker`` is the thin driver: it tells the machine what happened (the worker started,
/// a claim found a batch or nothing, a response came, a timer fired, an append was seen, a
/// flush or a stop was asked for) and does what each answer says (claim, send, record, renew a
/// lease, prune, look for other processes' appends, complete flushes, finish). Time is the
/// `nowMillis` of each event, so every rule is tested in virtual time, without sleeping.
///
/// The rules:
/// - **Claims** go one at a time, oldest events first, while fewer than
///   ``Settings/maxRequestsInFlight`` requests are out. An open batch (one that could still
///   grow) is claimed only once its oldest event has waited `flushInterval`, or while a flush or
///   a stop is under way. A claim is made again whenever something may have made a batch due:
///   an append, an outcome, a timer, a flush.
/// - **Requests** run at once, up to ``Settings/maxRequestsInFlight``. Each response becomes an
///   outcome (``DispatchDecision``) that is recorded before the slot is used again; a retry or a
///   split makes the next claim look again from the oldest events, so the failed events go
///   before newer ones.
/// - **Leases** are renewed every third of ``Settings/leaseMillis`` while their request is
///   out: a lease never runs out under a request that may still be answered.
/// - **Flushes** that a caller awaits complete once every event queued before them has been
///   tried: no claim begun after the flush finds one of them due, and no request carrying one
///   is still out.
/// - **Stop** sends what is pending, then finishes once nothing is due and nothing is out. At
///   its deadline the requests still out are cancelled; each is recorded when it ends (a late
///   2xx counts as sent), and after ``Settings/abandonGraceMillis`` more the worker finishes
///   without them (their leases then run out).
/// - **Other processes' appends** are looked for every ``Settings/watchIntervalMillis`` while
///   the worker could claim but has nothing due (`PRAGMA data_version`, one read, no I/O).
struct WorkerStateMachine: Sendable {
    /// The settings that shape the rules.
    struct Settings: Equatable, Sendable {
        var flushIntervalMillis: Int64
        var leaseMillis: Int64
        var maxRequestsInFlight: Int
        var pruneIntervalMillis: Int64
        var watchIntervalMillis: Int64 = 100
        var abandonGraceMillis: Int64 = 250
        /// How long after a failed claim (the file could not be read) the next is tried.
        var claimRetryMillis: Int64 = 1_000
    }

    /// What the driver does next.
    enum Action: Equatable, Sendable {
        /// Claim the next batch with this rule; answer ``claimed(_:nowMillis:)``,
        /// ``nothingDue(_:nowMillis:)`` or ``claimFailed(nowMillis:)``.
        case claim(ClaimRule)
        /// Post `logEvent` and start the batch's request; answer ``responded(batchId:result:nowMillis:jitter:)``.
        case send(ClaimedBatch)
        /// Record the outcome of the batch's request and post it; answer
        /// ``recorded(batchId:returnedEventsToPending:nowMillis:)``. With `thenClaim`, claim with
        /// that rule in the same transaction (the request's slot is free) and answer as for ``claim(_:)``.
        case record(ClaimedBatch, Outcome, thenClaim: ClaimRule?)
        /// Extend the batch's lease; answer ``leaseRenewed(batchId:expiresAtMillis:)`` or ``leaseLost(batchId:)``.
        case renewLease(batchId: Int64)
        /// Cancel these requests (the stop deadline passed); their responses still come.
        case cancelRequests([Int64])
        /// Delete sent events past their retention; answer ``pruned(nowMillis:)``.
        case prune
        /// Ask the file whether another connection committed; answer ``appendsChecked(changed:nowMillis:)``.
        case checkForAppends
        /// Resume the callers of these awaited flushes.
        case completeFlushes([Int])
        /// Stop: the worker is done (the flushes still waiting were completed just before).
        case finish
    }

    /// What to record for a batch whose request ended.
    enum Outcome: Equatable, Sendable {
        /// What the response means (spec §6).
        case decided(DispatchDecision.Action, DispatchDecision.Result)
        /// The request was cancelled at the stop deadline and ended without a 2xx: due again at
        /// once, for the next worker.
        case abandoned
    }

    /// Where the worker is in its life.
    enum Phase: Equatable, Sendable {
        /// Sending batches as they become due.
        case running
        /// `stop()` was called: send what is pending, then finish (by the deadline at most).
        case stopping(deadlineMillis: Int64)
        /// The deadline passed: the requests still out were cancelled; wait for them until
        /// `graceEndsMillis`.
        case abandoning(graceEndsMillis: Int64)
        /// Finished.
        case stopped
    }

    /// A request on its way.
    struct Request: Equatable, Sendable {
        var batch: ClaimedBatch
        /// When to renew its lease; `nil` once the lease is lost or the request cancelled.
        var renewAtMillis: Int64?
        var cancelled = false
        /// Its response is being recorded.
        var recording = false
        var firstEventId: Int64 { batch.members.first?.id ?? 0 }
    }

    /// A `flush()` that a caller awaits.
    struct FlushRequest: Equatable, Sendable {
        var token: Int
        /// Every event up to this id must be tried.
        var lastEventId: Int64
        var sequence: Int
        /// A claim begun after it (and after the last outcome that made events pending again)
        /// found none of its events due.
        var claimsDone = false
    }

    let settings: Settings
    private(set) var phase: Phase = .running
    private(set) var requests: [Request] = []
    private(set) var flushes: [FlushRequest] = []

    // Requests, claims and outcomes are stamped with a sequence number, so that a claim's
    // result is judged against what was asked before the claim began.
    private var sequence = 0
    /// The claim running now, by the sequence number when it began.
    private var claimInProgress: Int?
    /// Something may have made a batch due since this sequence number: claim (again).
    private var claimWanted: Int?
    /// The latest outcome that made events pending again (a retry or a split).
    private var lastRequeue = 0
    /// A flush with no one waiting (`flush()`, a config update): open batches go until a claim
    /// begun after it finds nothing due.
    private var openFlush: Int?
    private var stopSequence: Int?
    /// When the schedule says a claim may find something due (an open batch's age, a retry, a
    /// lease of another worker), or a failed claim is tried again.
    private var claimAtMillis: Int64?
    private var nextPruneMillis: Int64?
    private var nextWatchMillis: Int64?
    /// The latest claim (by the sequence number when it began) that found nothing due.
    private var lastNothingDue = 0

    init(settings: Settings) {
        self.settings = settings
    }

    private mutating func stamp() -> Int {
        sequence += 1
        return sequence
    }

    // MARK: - Events

    /// The worker starts: its first claim recovers expired leases, then sends the backlog.
    mutating func start(nowMillis now: Int64) -> [Action] {
        nextPruneMillis = now
        nextWatchMillis = now + settings.watchIntervalMillis
        claimWanted = stamp()
        return next(nowMillis: now)
    }

    /// This process appended events, or another process did (see ``appendsChecked(changed:nowMillis:)``).
    mutating func appendSeen(nowMillis now: Int64) -> [Action] {
        claimWanted = stamp()
        return next(nowMillis: now)
    }

    /// `flush()`: send everything pending now.
    mutating func flushRequested(nowMillis now: Int64) -> [Action] {
        openFlush = stamp()
        claimWanted = openFlush
        return next(nowMillis: now)
    }

    /// An awaited flush: ``Action/completeFlushes(_:)`` will name `token` once every event up to
    /// `lastEventId` has been tried.
    mutating func flushRequested(token: Int, lastEventId: Int64, nowMillis now: Int64) -> [Action] {
        guard phase != .stopped else { return [.completeFlushes([token])] }
        let stamped = stamp()
        flushes.append(FlushRequest(token: token, lastEventId: lastEventId, sequence: stamped))
        claimWanted = stamped
        return next(nowMillis: now)
    }

    /// `stop()`: send what is pending until `deadlineMillis`, then finish. A second stop keeps
    /// the first deadline.
    mutating func stopRequested(deadlineMillis: Int64, nowMillis now: Int64) -> [Action] {
        guard case .running = phase else { return [] }
        phase = .stopping(deadlineMillis: deadlineMillis)
        stopSequence = stamp()
        claimWanted = stopSequence
        return next(nowMillis: now)
    }

    /// The claim found `batch`: it is sent at once.
    mutating func claimed(_ batch: ClaimedBatch, nowMillis now: Int64) -> [Action] {
        let began = claimInProgress ?? sequence
        claimInProgress = nil
        let request = Request(batch: batch, renewAtMillis: renewalTime(leaseExpiresAt: batch.leaseExpiresAtMillis))
        requests.append(request)
        // Claims go oldest first: a flush none of whose events can come after this batch has had
        // its claims.
        for index in flushes.indices where began > max(flushes[index].sequence, lastRequeue) && request.firstEventId > flushes[index].lastEventId {
            flushes[index].claimsDone = true
        }
        // There may be more: claim again (the claim after it looks from the same point on).
        if claimWanted == nil { claimWanted = began }
        return [.send(batch)] + next(nowMillis: now)
    }

    /// The claim found nothing due; `schedule` says when something will be.
    mutating func nothingDue(_ schedule: PendingSchedule, nowMillis now: Int64) -> [Action] {
        let began = claimInProgress ?? sequence
        claimInProgress = nil
        lastNothingDue = max(lastNothingDue, began)
        if let wanted = claimWanted, wanted < began { claimWanted = nil }
        if let flush = openFlush, flush < began { openFlush = nil }
        for index in flushes.indices where began > max(flushes[index].sequence, lastRequeue) {
            flushes[index].claimsDone = true
        }
        claimAtMillis = wakeTime(schedule: schedule, nowMillis: now)
        return next(nowMillis: now)
    }

    /// The claim failed (the file could not be read or written): try again a little later.
    mutating func claimFailed(nowMillis now: Int64) -> [Action] {
        claimInProgress = nil
        claimAtMillis = now + settings.claimRetryMillis
        return next(nowMillis: now)
    }

    /// The request of `batchId` ended with `result`; `jitter` is a random number in `0..<1` for
    /// the retry's delay.
    mutating func responded(batchId: Int64, result: DispatchDecision.Result, nowMillis now: Int64, jitter: Double, retry: RetryPolicy) -> [Action] {
        guard let index = requests.firstIndex(where: { $0.batch.id == batchId }) else { return [] }
        requests[index].recording = true
        requests[index].renewAtMillis = nil
        let batch = requests[index].batch
        let decision = DispatchDecision.decide(
            result, eventCount: batch.members.count, attempts: batch.attempts,
            oldestEnqueuedAtMillis: batch.oldestEnqueuedAtMillis, nowMillis: now, policy: retry, unit: jitter
        )
        // A request cancelled at the stop deadline that got its 2xx all the same was delivered.
        if requests[index].cancelled, !decision.isSuccess { return [.record(batch, .abandoned, thenClaim: nil)] }
        return [.record(batch, .decided(decision, result), thenClaim: claimWithRecord(nowMillis: now))]
    }

    /// The rule of a claim made in the same transaction as the outcome about to be recorded,
    /// when the worker may claim then (its slot frees); `nil` otherwise.
    private mutating func claimWithRecord(nowMillis now: Int64) -> ClaimRule? {
        guard claimInProgress == nil else { return nil }
        switch phase {
        case .running: break
        case .stopping(let deadline) where now < deadline: break
        default: return nil
        }
        claimWanted = nil
        claimInProgress = stamp()
        return claimRule(nowMillis: now)
    }

    /// The outcome of `batchId` was recorded (or could not be, and its lease will run out).
    mutating func recorded(batchId: Int64, returnedEventsToPending: Bool, nowMillis now: Int64) -> [Action] {
        requests.removeAll { $0.batch.id == batchId }
        if returnedEventsToPending {
            lastRequeue = stamp()
            for index in flushes.indices { flushes[index].claimsDone = false }
            // A claim made with the record runs after it, in the same transaction.
            if claimInProgress != nil { claimInProgress = stamp() }
        }
        // A slot is free, and a retry or a split may be due at once: claim, unless a claim made
        // with the record already does.
        if claimInProgress == nil { claimWanted = claimWanted ?? stamp() }
        return next(nowMillis: now)
    }

    /// The lease of `batchId` now runs until `expiresAtMillis`.
    mutating func leaseRenewed(batchId: Int64, expiresAtMillis: Int64) {
        guard let index = requests.firstIndex(where: { $0.batch.id == batchId }), !requests[index].recording, !requests[index].cancelled else { return }
        requests[index].renewAtMillis = renewalTime(leaseExpiresAt: expiresAtMillis)
    }

    /// The lease of `batchId` could not be renewed (another worker took the batch after it ran
    /// out): its response is still recorded when it comes.
    mutating func leaseLost(batchId: Int64) {
        guard let index = requests.firstIndex(where: { $0.batch.id == batchId }) else { return }
        requests[index].renewAtMillis = nil
    }

    /// Old sent events were pruned.
    mutating func pruned(nowMillis now: Int64) -> [Action] {
        nextPruneMillis = now + settings.pruneIntervalMillis
        return next(nowMillis: now)
    }

    /// The file was asked whether another connection committed since the last look.
    mutating func appendsChecked(changed: Bool, nowMillis now: Int64) -> [Action] {
        nextWatchMillis = now + settings.watchIntervalMillis
        if changed { claimWanted = claimWanted ?? stamp() }
        return next(nowMillis: now)
    }

    /// The time of ``nextWakeMillis`` came (or a time before it: a timer may fire early).
    mutating func timerFired(nowMillis now: Int64) -> [Action] {
        if let at = claimAtMillis, at <= now {
            claimAtMillis = nil
            claimWanted = claimWanted ?? stamp()
        }
        return next(nowMillis: now)
    }

    // MARK: - Decisions

    /// When the driver must call ``timerFired(nowMillis:)`` if nothing else happens first;
    /// `nil` once stopped.
    var nextWakeMillis: Int64? {
        switch phase {
        case .stopped:
            return nil
        case .abandoning(let graceEnds):
            return graceEnds
        case .running, .stopping:
            var times = requests.compactMap(\.renewAtMillis)
            if case .stopping(let deadline) = phase { times.append(deadline) }
            if claimInProgress == nil && claimWanted == nil && hasFreeSlot {
                times += [claimAtMillis, nextWatchMillis].compactMap { $0 }
            }
            if let prune = nextPruneMillis, case .running = phase { times.append(prune) }
            return times.min()
        }
    }

    /// What to do now, after any event.
    private mutating func next(nowMillis now: Int64) -> [Action] {
        var actions: [Action] = []
        switch phase {
        case .stopped:
            return []
        case .abandoning(let graceEnds):
            if requests.isEmpty || now >= graceEnds { return finish() }
            return []
        case .stopping(let deadline) where now >= deadline:
            let out = requests.filter { !$0.recording }.map(\.batch.id)
            for index in requests.indices {
                requests[index].cancelled = true
                requests[index].renewAtMillis = nil
            }
            if requests.isEmpty { return finish() }
            phase = .abandoning(graceEndsMillis: now + settings.abandonGraceMillis)
            claimWanted = nil
            return out.isEmpty ? [] : [.cancelRequests(out)]
        case .running, .stopping:
            break
        }

        let done = completedFlushes()
        if !done.isEmpty { actions.append(.completeFlushes(done)) }
        if let stop = stopSequence, claimInProgress == nil, claimWanted == nil, requests.isEmpty, lastNothingDue > max(stop, lastRequeue) {
            return actions + finish()
        }

        for index in requests.indices {
            if let renewAt = requests[index].renewAtMillis, renewAt <= now {
                // Renewed again a third of a lease later unless the driver says otherwise.
                requests[index].renewAtMillis = now + settings.leaseMillis / 3
                actions.append(.renewLease(batchId: requests[index].batch.id))
            }
        }
        if claimInProgress == nil, claimWanted != nil, hasFreeSlot {
            claimWanted = nil
            claimInProgress = stamp()
            actions.append(.claim(claimRule(nowMillis: now)))
        } else if claimInProgress == nil, claimWanted == nil, hasFreeSlot, let watch = nextWatchMillis, watch <= now {
            nextWatchMillis = nil
            actions.append(.checkForAppends)
        }
        if let prune = nextPruneMillis, prune <= now, case .running = phase {
            nextPruneMillis = nil
            actions.append(.prune)
        }
        return actions
    }

    private var hasFreeSlot: Bool { requests.count < settings.maxRequestsInFlight }

    private func claimRule(nowMillis now: Int64) -> ClaimRule {
        let stopping = if case .stopping = phase { true } else { false }
        return ClaimRule(
            includeOpenBatch: stopping || openFlush != nil || !flushes.isEmpty,
            openBatchQueuedBeforeMillis: now - settings.flushIntervalMillis
        )
    }

    /// The awaited flushes now complete, taken out of the list.
    private mutating func completedFlushes() -> [Int] {
        let done = flushes.filter { flush in
            flush.claimsDone && requests.allSatisfy { $0.firstEventId > flush.lastEventId }
        }
        flushes.removeAll { flush in done.contains { $0.token == flush.token } }
        return done.map(\.token)
    }

    private mutating func finish() -> [Action] {
        phase = .stopped
        let waiting = flushes.map(\.token)
        flushes.removeAll()
        return (waiting.isEmpty ? [] : [.completeFlushes(waiting)]) + [.finish]
    }

    private func renewalTime(leaseExpiresAt expires: Int64) -> Int64 {
        expires - settings.leaseMillis * 2 / 3
    }

    /// When a claim may next find something due if nothing wakes the worker sooner: when the
    /// oldest open batch reaches `flushInterval`, the earliest retry is due, or the earliest
    /// lease of another worker runs out. `nil`: nothing scheduled.
    func wakeTime(schedule: PendingSchedule, nowMillis now: Int64) -> Int64? {
        let candidates = [
            schedule.oldestUnbatchedEnqueuedAtMillis.map { $0 + settings.flushIntervalMillis },
            schedule.nextRetryAtMillis,
            schedule.nextLeaseExpiryMillis,
        ].compactMap { $0 }
        guard let earliest = candidates.min() else { return nil }
        return max(earliest, now)
    }
}
