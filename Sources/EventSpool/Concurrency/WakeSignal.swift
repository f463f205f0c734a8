/// Wakes a sleeping worker: `signal()` from any thread ends the current or next `wait`.
///
/// Signals coalesce: many `signal()` calls while the worker is busy wake it once. `process`
/// signals after each append, so this must stay cheap: one lock, no allocation unless a waiter
/// is parked.
final class WakeSignal: Sendable {
    private struct State {
        var signalled = false
        var waiter: CheckedContinuation<Void, Never>?
        var generation = 0
    }

    private let state = LockedValue(State())

    /// Wakes the waiter, or makes the next `wait` return at once.
    func signal() {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.signalled = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns when signalled, after `nanoseconds` (when given), or when the task is cancelled.
    func wait(nanoseconds: UInt64?) async {
        if state.withLock({ state in
            defer { state.signalled = false }
            return state.signalled
        }) { return }
        guard let nanoseconds else {
            await waitForSignal()
            return
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForSignal() }
            group.addTask { try? await Task.sleep(nanoseconds: nanoseconds) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForSignal() async {
        let generation = state.withLock { state in
            state.generation += 1
            return state.generation
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    // Signalled, cancelled or superseded before we parked: do not park.
                    if state.signalled || state.generation != generation || Task.isCancelled {
                        state.signalled = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
                guard state.generation == generation else { return nil }
                state.generation += 1  // a park still to come sees it is superseded
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
