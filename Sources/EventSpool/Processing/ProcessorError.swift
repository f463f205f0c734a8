/// Why a ``BatchEventProcessor`` refused a call.
public enum ProcessorError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `process` after `stop()`: the processor accepts no new events.
    case stopped
    /// The event alone would make a request body larger than `maxBatchBytes`, so it could
    /// never be sent; nothing was written.
    case eventTooLarge(uuid: String, bodyBytes: Int, maxBatchBytes: Int)
    /// `flushAndWait()` before `start()`: no worker is running to send anything.
    case notStarted
    /// The task awaiting `flushAndWait()` was cancelled before the flush completed (the worker
    /// goes on sending), or the task awaiting an async `process` was cancelled before its write
    /// began (nothing was written).
    case cancelled
    /// The queue refused the event (duplicate uuid, full, disk full, …); nothing was written.
    case queue(QueueError)

    /// What went wrong, in one line.
    public var description: String {
        switch self {
        case .stopped:
            "the processor is stopped and accepts no new events; create a new processor on the same queue file to go on"
        case .eventTooLarge(let uuid, let bodyBytes, let maxBatchBytes):
            "event \(uuid) alone makes a \(bodyBytes)-byte request, over maxBatchBytes (\(maxBatchBytes)); shrink its attributes or tags"
        case .notStarted:
            "the processor has not been started; call start() (or run it in a ServiceGroup) before awaiting a flush"
        case .cancelled:
            "the wait for the flush was cancelled; the events are still queued and the worker goes on sending them"
        case .queue(let error):
            error.description
        }
    }
}
