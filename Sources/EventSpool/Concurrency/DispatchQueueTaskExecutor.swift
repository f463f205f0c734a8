import Dispatch

/// A task executor that runs its jobs on a serial dispatch queue of its own. The batch worker's
/// task prefers it, so that the worker's SQLite calls, which may wait for another process's
/// write lock, hold this queue's thread while they wait, never one of Swift's cooperative pool,
/// which every task of the application shares.
///
/// `@unchecked Sendable`: its only state is the dispatch queue, which is thread-safe.
final class DispatchQueueTaskExecutor: TaskExecutor, @unchecked Sendable {
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
