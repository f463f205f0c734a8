import Dispatch

/// Runs blocking work (a SQLite commit, which may wait for another process's lock) on a serial
/// dispatch queue of its own, and resumes the awaiting task with the result: the work never
/// occupies a thread of Swift's cooperative pool, whose few threads every task shares. GRDB's
/// async writes work the same way (a writer queue and a continuation).
///
/// One queue, so async writes run one at a time, in the order they were asked for, whatever
/// the number of waiting tasks; no thread is made per call.
struct BlockingWorkQueue: Sendable {
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    /// Runs `work` on the queue and returns its result.
    ///
    /// A task cancelled before `work` begins gets ``ProcessorError/cancelled`` and `work` never
    /// runs; once begun, `work` finishes and its result is returned, cancelled or not (a write
    /// that happened is not reported as one that did not).
    func run<T: Sendable>(_ work: @escaping @Sendable () throws(ProcessorError) -> T) async throws(ProcessorError) -> T {
        if Task.isCancelled { throw .cancelled }
        let cancelled = LockedValue(false)
        let result: Result<T, ProcessorError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                queue.async {
                    if cancelled.withLock({ $0 }) {
                        continuation.resume(returning: .failure(.cancelled))
                        return
                    }
                    continuation.resume(returning: Result { () throws(ProcessorError) -> T in try work() })
                }
            }
        } onCancel: {
            cancelled.withLock { $0 = true }
        }
        return try result.get()
    }
}
