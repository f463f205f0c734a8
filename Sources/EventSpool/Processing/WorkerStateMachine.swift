/// The batch worker's decisions (spec §5 and §7) as a value with no I/O: whether an open batch
/// may be sent, when to wake, when a flush is complete, when to finish. The processor's worker
/// loop feeds it what the queue says and does what it answers.
///
/// The loop is:
/// 1. claim a batch with ``claimRule(nowMillis:)``; if one came, tell ``batchClaimed(firstEventId:)``,
///    dispatch it and record the outcome, and go to 1;
/// 2. otherwise tell ``nothingToClaim()``, which completes flushes and says whether to finish;
/// 3. sleep until ``wakeTime(schedule:nowMillis:)`` or until woken by `process`, `flush` or `stop`.
struct WorkerStateMachine: Sendable {
    /// Where the worker is in its life.
    enum Phase: Equatable, Sendable {
        /// Sending batches as they become due.
        case running
        /// `stop()` was called: send everything pending, then finish (by the deadline at most).
        case stopping(deadlineMillis: Int64)
        /// Finished.
        case stopped
    }

    /// Which open batch (one that could still grow) may be claimed now.
    struct ClaimRule: Equatable, Sendable {
        /// Claim an open batch whatever its age (a flush or a stop is under way).
        var includeOpenBatch: Bool
        /// Otherwise, claim an open batch whose oldest event was queued at or before this time.
        var openBatchQueuedBeforeMillis: Int64
    }

    /// A pending `flush()` that a caller awaits: done once every event queued up to
    /// `lastEventId` has been tried.
    struct FlushRequest: Equatable, Sendable {
        var token: Int
        var lastEventId: Int64
    }

    private(set) var phase: Phase = .running
    let flushIntervalMillis: Int64
    private var flushes: [FlushRequest] = []
    /// A flush with no one waiting (`flush()`, a config update): send all, then forget it.
    private var fireAndForgetFlush = false

    init(flushIntervalMillis: Int64) {
        self.flushIntervalMillis = flushIntervalMillis
    }

    /// Whether a flush, awaited or not, is under way.
    var isFlushing: Bool { fireAndForgetFlush || !flushes.isEmpty }

    /// `flush()`: send everything pending now.
    mutating func requestFlush() {
        fireAndForgetFlush = true
    }

    /// An awaited flush: ``batchClaimed(firstEventId:)`` or ``nothingToClaim()`` will return
    /// `token` once every event up to `lastEventId` has been tried.
    mutating func requestFlush(token: Int, lastEventId: Int64) {
        flushes.append(FlushRequest(token: token, lastEventId: lastEventId))
    }

    /// `stop()`: send what is pending until `deadlineMillis`, then finish.
    mutating func requestStop(deadlineMillis: Int64) {
        if case .running = phase { phase = .stopping(deadlineMillis: deadlineMillis) }
    }

    /// The rule for the next claim.
    func claimRule(nowMillis: Int64) -> ClaimRule {
        let stopping = if case .stopping = phase { true } else { false }
        return ClaimRule(includeOpenBatch: isFlushing || stopping, openBatchQueuedBeforeMillis: nowMillis - flushIntervalMillis)
    }

    /// Whether the stop deadline has passed: in-flight work is to be abandoned (left in the
    /// queue for the next processor).
    func isPastDeadline(nowMillis: Int64) -> Bool {
        if case .stopping(let deadline) = phase { return nowMillis >= deadline }
        return false
    }

    /// A batch was claimed whose first (oldest) event has `firstEventId`. Claims go oldest
    /// first, so every awaited flush whose events all precede it is complete.
    ///
    /// - Returns: the tokens of the completed flushes.
    mutating func batchClaimed(firstEventId: Int64) -> [Int] {
        let done = flushes.filter { $0.lastEventId < firstEventId }
        flushes.removeAll { $0.lastEventId < firstEventId }
        return done.map(\.token)
    }

    /// A claim found nothing due: every flush is complete; a stopping worker finishes.
    ///
    /// - Returns: the tokens of the completed flushes, and whether the worker should finish.
    mutating func nothingToClaim() -> (completedFlushes: [Int], finish: Bool) {
        let done = flushes.map(\.token)
        flushes.removeAll()
        fireAndForgetFlush = false
        if case .stopping = phase {
            phase = .stopped
            return (done, true)
        }
        return (done, false)
    }

    /// The worker finished for another reason (deadline, cancellation): every flush ends.
    mutating func finished() -> [Int] {
        phase = .stopped
        fireAndForgetFlush = false
        defer { flushes.removeAll() }
        return flushes.map(\.token)
    }

    /// When to look at the queue again if nothing wakes the worker sooner: when the oldest
    /// open batch reaches `flushInterval`, the earliest retry is due, or the earliest lease of
    /// another worker expires. `nil`: nothing scheduled, sleep until woken.
    func wakeTime(schedule: PendingSchedule, nowMillis: Int64) -> Int64? {
        let candidates = [
            schedule.oldestUnbatchedEnqueuedAtMillis.map { $0 + flushIntervalMillis },
            schedule.nextRetryAtMillis,
            schedule.nextLeaseExpiryMillis,
        ].compactMap { $0 }
        guard let earliest = candidates.min() else { return nil }
        return max(earliest, nowMillis)
    }
}
