/// The names and label keys of the metrics a ``BatchEventProcessor`` reports through
/// swift-metrics, fixed so that dashboards and alerts can rely on them.
///
/// The processor reports through the `MetricsFactory` it is given (by default
/// `MetricsSystem.factory`, the one the application bootstraps); the library never bootstraps
/// the metrics system itself. Without a bootstrapped system the metrics go nowhere, at no cost
/// beyond a call.
///
/// | name | type | label keys | what |
/// | --- | --- | --- | --- |
/// | `eventspool.events.appended` | counter | | events written to the queue by `process` |
/// | `eventspool.events.sent` | counter | | events of batches answered 2xx (marked sent) |
/// | `eventspool.events.retried` | counter | | events of a request that failed (no response, 408, 429, 5xx) or was abandoned at `stop()`, scheduled to be sent again; counted once per failed request |
/// | `eventspool.events.dead_lettered` | counter | | events moved to the dead letters |
/// | `eventspool.events.dropped` | counter | `reason`: `dropped_oldest`, `rejected_full` | events lost to the queue's bounds: old pending events dropped to make room, or new events refused |
/// | `eventspool.queue.pending` | gauge | | events waiting to be sent (not yet in a batch, or in a batch waiting for its retry) |
/// | `eventspool.queue.oldest_pending_age` | gauge | | seconds the oldest pending event has waited (0 when none) |
/// | `eventspool.dispatch.duration` | timer | `status`: `2xx`, `3xx`, `4xx`, `5xx`, `error` | how long each request took, from its start to its response or failure (`error`: no response) |
public enum EventSpoolMetrics: Sendable {
    /// `eventspool.events.appended`: a counter of events written by `process`.
    public static let eventsAppended = "eventspool.events.appended"
    /// `eventspool.events.sent`: a counter of events of batches answered 2xx.
    public static let eventsSent = "eventspool.events.sent"
    /// `eventspool.events.retried`: a counter of events of failed or abandoned requests that will
    /// be sent again, once per failed request.
    public static let eventsRetried = "eventspool.events.retried"
    /// `eventspool.events.dead_lettered`: a counter of events moved to the dead letters.
    public static let eventsDeadLettered = "eventspool.events.dead_lettered"
    /// `eventspool.events.dropped`: a counter of events lost to the queue's bounds, by
    /// ``reasonLabel``.
    public static let eventsDropped = "eventspool.events.dropped"
    /// `eventspool.queue.pending`: a gauge of the events waiting to be sent.
    public static let queuePending = "eventspool.queue.pending"
    /// `eventspool.queue.oldest_pending_age`: a gauge of the oldest pending event's wait, in
    /// seconds.
    public static let queueOldestPendingAge = "eventspool.queue.oldest_pending_age"
    /// `eventspool.dispatch.duration`: a timer of each request, by ``statusLabel``.
    public static let dispatchDuration = "eventspool.dispatch.duration"

    /// The label key of ``eventsDropped``: `dropped_oldest` or `rejected_full`.
    public static let reasonLabel = "reason"
    /// The label key of ``dispatchDuration``: the response's status class (`2xx`, `3xx`, `4xx`,
    /// `5xx`), or `error` when there was no response.
    public static let statusLabel = "status"

    /// How often, at most, a running worker reads the queue to update the gauges: once a
    /// second, and once more when it stops.
    public static let gaugeIntervalMillis: Int64 = 1_000
}
