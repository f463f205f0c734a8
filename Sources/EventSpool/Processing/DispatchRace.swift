/// A dispatch running in its own task, so that the worker can do other work while the request
/// is on its way (claim the next batch, record the last outcome) and can stop waiting for it:
/// when the waiting task is cancelled (a stop deadline), ``result()`` returns `nil` at once and
/// the dispatch task is cancelled too, even if the dispatcher does not notice cancellation.
final class DispatchRace: Sendable {
    private let gate = Gate()

    /// Starts dispatching `logEvent`.
    init(_ dispatcher: any EventDispatcher, _ logEvent: LogEvent) {
        let gate = gate
        gate.attach(Task {
            let result: DispatchDecision.Result
            do {
                result = .response(try await dispatcher.dispatch(logEvent))
            } catch {
                result = .failure(Self.describe(error))
            }
            gate.finish(with: result)
        })
    }

    /// The dispatch's result, or `nil` when the waiting task was cancelled (or ``abandon()``
    /// was called) first. Call it once.
    func result() async -> DispatchDecision.Result? {
        let gate = gate
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in gate.install(continuation) }
        } onCancel: {
            gate.finish(with: nil)
        }
    }

    /// Stops waiting for the dispatch and cancels it.
    func abandon() {
        gate.finish(with: nil)
    }

    /// A readable one-line description of a dispatch error.
    static func describe(_ error: any Error) -> String {
        let text = "\(error)".replacingOccurrences(of: "\n", with: " ")
        return text.isEmpty ? "\(type(of: error))" : text
    }

    /// Settles the race exactly once, whichever of the dispatch and the cancellation comes
    /// first, and hands the outcome to the waiter whenever it arrives (before or after).
    private final class Gate: Sendable {
        private struct State {
            var continuation: CheckedContinuation<DispatchDecision.Result?, Never>?
            var task: Task<Void, Never>?
            var outcome: DispatchDecision.Result??
        }

        private let state = LockedValue(State())

        func attach(_ task: Task<Void, Never>) {
            let cancelled = state.withLock { state in
                state.task = task
                return state.outcome == .some(nil)
            }
            if cancelled { task.cancel() }
        }

        func install(_ continuation: CheckedContinuation<DispatchDecision.Result?, Never>) {
            let settled: DispatchDecision.Result?? = state.withLock { state in
                if let outcome = state.outcome { return outcome }
                state.continuation = continuation
                return nil
            }
            if let settled { continuation.resume(returning: settled) }
        }

        func finish(with result: DispatchDecision.Result?) {
            let (continuation, task): (CheckedContinuation<DispatchDecision.Result?, Never>?, Task<Void, Never>?) = state.withLock { state in
                guard state.outcome == nil else { return (nil, nil) }
                state.outcome = .some(result)
                defer { state.continuation = nil }
                return (state.continuation, state.task)
            }
            if result == nil { task?.cancel() }
            continuation?.resume(returning: result)
        }
    }
}
