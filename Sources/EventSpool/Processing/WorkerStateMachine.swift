/// The batch worker's decisions (spec §5 and §7) as a value with no I/O: whether an open batch
/// may be sent, when to wake, when a flush is complete, when to finish. The processor's worker
/// loop feeds it what the queue says and does what it answers.
///
/// The loop is:
/// 1. take the rule of ``beginClaim(nowMillis:)`` and claim a batch with it; if one came, tell
///    ``batchClaimed(firstEventId:)``, dispatch it, record the outcome, and go to 1;
/// 2. otherwise tell ``nothingToClaim()``, which completes flushes and says whether to finish;
/// 3. sleep until ``wakeTime(schedule:nowMillis:)`` or until woken by `process`, `flush` or `stop`.
///
/// A batch the loop claims ahead, while a request is in flight, is told to
/// ``batchClaimed(firstEventId:)`` only when its own request starts and the outcome before it is
/// recorded, so that flushes complete in the order events are tried.
///
/// Requests (`flush`, `stop`) can arrive at any moment from other threads. Each is stamped with
/// a sequence number, and a claim that found nothing completes only the requests made before
/// that claim began: a flush asked for while the claim ran must see a claim of its own.
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
        var sequence: Int
    }

    private(set) var phase: Phase = .running
    let flushIntervalMillis: Int64
    private var sequence = 0
    private var claimSequence = 0
    private var stopSequence: Int?
    private var flushes: [FlushRequest] = []
    /// The latest flush with no one waiting (`flush()`, a config update).
    private var fireAndForgetSequence: Int?

    init(flushIntervalMillis: Int64) {
        self.flushIntervalMillis = flushIntervalMillis
    }

    private mutating func stamp() -> Int {
        sequence += 1
        return sequence
    }

    /// `flush()`: send everything pending now.
    mutating func requestFlush() {
        fireAndForgetSequence = stamp()
    }

    /// An awaited flush: ``batchClaimed(firstEventId:)`` or ``nothingToClaim()`` will return
    /// `token` once every event up to `lastEventId` has been tried.
    mutating func requestFlush(token: Int, lastEventId: Int64) {
        flushes.append(FlushRequest(token: token, lastEventId: lastEventId, sequence: stamp()))
    }

    /// `stop()`: send what is pending until `deadlineMillis`, then finish.
    mutating func requestStop(deadlineMillis: Int64) {
        guard case .running = phase else { return }
        phase = .stopping(deadlineMillis: deadlineMillis)
        stopSequence = stamp()
    }

    /// A claim begins: the rule it follows.
    mutating func beginClaim(nowMillis: Int64) -> ClaimRule {
        claimSequence = stamp()
        let stopping = if case .stopping = phase { true } else { false }
        let flushing = fireAndForgetSequence != nil || !flushes.isEmpty
        return ClaimRule(includeOpenBatch: flushing || stopping, openBatchQueuedBeforeMillis: nowMillis - flushIntervalMillis)
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

    /// The claim begun last found nothing due: the flushes asked for before it are complete,
    /// and a worker asked to stop before it finishes.
    ///
    /// - Returns: the tokens of the completed flushes, and whether the worker should finish.
    mutating func nothingToClaim() -> (completedFlushes: [Int], finish: Bool) {
        let covered = claimSequence
        let done = flushes.filter { $0.sequence < covered }.map(\.token)
        flushes.removeAll { $0.sequence < covered }
        if let pending = fireAndForgetSequence, pending < covered { fireAndForgetSequence = nil }
        if let stop = stopSequence, stop < covered {
            phase = .stopped
            return (done, true)
        }
        return (done, false)
    }

    /// The worker finished for another reason (deadline, cancellation): every flush ends.
    mutating func finished() -> [Int] {
        phase = .stopped
        fireAndForgetSequence = nil
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
