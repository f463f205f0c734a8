/// Runs a dispatch in its own task so that the worker can stop waiting for it: when the
/// worker's task is cancelled (a stop deadline), the wait ends at once with `nil` and the
/// dispatch task is cancelled too, even if the dispatcher does not notice cancellation.
enum DispatchRace {
    static func run(_ dispatcher: any EventDispatcher, _ logEvent: LogEvent) async -> DispatchDecision.Result? {
        let gate = Gate()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<DispatchDecision.Result?, Never>) in
                let task = Task {
                    let result: DispatchDecision.Result
                    do {
                        result = .response(try await dispatcher.dispatch(logEvent))
                    } catch {
                        result = .failure(Self.describe(error))
                    }
                    gate.finish(with: result)
                }
                gate.install(continuation, task: task)
            }
        } onCancel: {
            gate.finish(with: nil)
        }
    }

    /// A readable one-line description of a dispatch error.
    static func describe(_ error: any Error) -> String {
        let text = "\(error)".replacingOccurrences(of: "\n", with: " ")
        return text.isEmpty ? "\(type(of: error))" : text
    }

    /// Resumes the continuation exactly once, whichever of the dispatch and the cancellation
    /// comes first (and even if the cancellation comes before the continuation is installed).
    private final class Gate: Sendable {
        private struct State {
            var continuation: CheckedContinuation<DispatchDecision.Result?, Never>?
            var task: Task<Void, Never>?
            var outcome: DispatchDecision.Result??
        }

        private let state = LockedValue(State())

        func install(_ continuation: CheckedContinuation<DispatchDecision.Result?, Never>, task: Task<Void, Never>) {
            let early: DispatchDecision.Result?? = state.withLock { state in
                if let outcome = state.outcome { return outcome }
                state.continuation = continuation
                state.task = task
                return nil
            }
            if let early {
                if early == nil { task.cancel() }
                continuation.resume(returning: early)
            }
        }

        func finish(with result: DispatchDecision.Result?) {
            let (continuation, task): (CheckedContinuation<DispatchDecision.Result?, Never>?, Task<Void, Never>?) = state.withLock { state in
                guard state.outcome == nil else { return (nil, nil) }
                state.outcome = .some(result)
                defer {
                    state.continuation = nil
                    state.task = nil
                }
                return (state.continuation, state.task)
            }
            if result == nil { task?.cancel() }
            continuation?.resume(returning: result)
        }
    }
}
