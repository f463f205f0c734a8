/// What ``DatafilePollingStateMachine`` asks its driver to do, in the order given.
package enum DatafilePollingAction: Sendable, Hashable {
    /// Send this request, then report ``DatafilePollingStateMachine/responseReceived(_:nowMillis:jitter:)``
    /// or ``DatafilePollingStateMachine/transportFailed(_:nowMillis:jitter:)``.
    case fetch(DatafileRequest)
    /// Parse and validate this body as a datafile (`ProjectConfig`), keep the result, then
    /// report ``DatafilePollingStateMachine/datafileAccepted(_:nowMillis:)`` or
    /// ``DatafilePollingStateMachine/datafileRejected(_:nowMillis:)``.
    case validate(body: [UInt8])
    /// Make the datafile just validated the current config, and tell the application (the
    /// reference's `OPTIMIZELY_CONFIG_UPDATE`; the processor's `configDidChange`). `from` is
    /// `nil` for the first datafile when none was bundled.
    case configChanged(from: DatafileIdentity?, to: DatafileIdentity)
    /// The first wait is over: a caller waiting for the first datafile may go on. Given once.
    case ready(DatafileReadiness)
    /// Call ``DatafilePollingStateMachine/timerFired(nowMillis:)`` at this time. Replaces any
    /// earlier schedule: there is at most one.
    case scheduleFetch(atMillis: Int64)
    /// Log this.
    case log(DatafilePollingNotice)
    /// Polling is over: cancel the request in flight and the timer, and release anyone still
    /// waiting for readiness. Nothing more will be asked.
    case finish
}

/// How the wait for the first datafile ended.
public enum DatafileReadiness: Sendable, Hashable {
    /// A datafile was given at start: it serves at once, while the first fetch runs.
    case bundledDatafile
    /// The first datafile was fetched and accepted.
    case datafileAccepted(DatafileIdentity)
    /// The first poll ended without a datafile (after its retries): the client has none
    /// until a later poll brings one.
    case firstFetchFailed(reason: String)
}
