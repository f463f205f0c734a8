/// Whether waits for another connection's write lock may go on: shared by a queue, its
/// connection's busy handler and its retry loop, and set from another thread.
///
/// A write that waits for a lock held elsewhere (a `sqlite3` session in a transaction, another
/// process's long write) keeps trying for up to the queue's `busyRetryLimitMillis`. A worker
/// stopping by a deadline cannot wait that long: at its deadline it interrupts the waits, and
/// each one gives up with `SQLITE_BUSY` at its next try: within 10 ms in SQLite's busy handler
/// (``BusyWait``), within 100 ms in the queue's retry loop.
final class LockWaits: Sendable {
    private struct State {
        var interrupted = false
        /// Counts ``resume()`` calls, so that an interruption asked for before one is ignored.
        var round = 0
    }

    private let state = LockedValue(State())

    /// Whether waits give up now.
    var areInterrupted: Bool { state.withLock { $0.interrupted } }

    /// The current round, for a later ``interrupt(round:)``.
    var round: Int { state.withLock { $0.round } }

    /// Makes every wait, current and later, give up at its next try, unless ``resume()`` was
    /// called since `round` was read (the interruption came too late and is not wanted).
    func interrupt(round: Int) {
        state.withLock { state in
            if state.round == round { state.interrupted = true }
        }
    }

    /// Lets waits go on again, and voids interruptions asked for before.
    func resume() {
        state.withLock { state in
            state.interrupted = false
            state.round += 1
        }
    }
}
