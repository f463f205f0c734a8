import Logging

/// Something polling wants logged, with the level and the words to log it with.
package enum DatafilePollingNotice: Sendable, Hashable, CustomStringConvertible {
    /// How a fetch failed.
    package enum Failure: Sendable, Hashable, CustomStringConvertible {
        /// The server answered with this status (neither 2xx nor 304).
        case status(Int)
        /// No answer: connection refused or reset, timeout, TLS failure; the text says which.
        case transport(String)

        /// `HTTP 503`, or the transport's text.
        package var description: String {
            switch self {
            case .status(let status): "HTTP \(status)"
            case .transport(let reason): reason
            }
        }
    }

    /// 304: the datafile has not changed since the last accepted one.
    case notModified(url: String, since: String?)
    /// A fetch failed; it is retried at `retryAtMillis`, or (when `nil`) the poll ends and the
    /// last good datafile stays.
    case fetchFailed(url: String, failure: Failure, attempt: Int, retryAtMillis: Int64?)
    /// A datafile arrived but did not validate: the last good one stays, and the next poll
    /// still asks with the last accepted datafile's `If-Modified-Since`.
    case datafileRejected(url: String, reason: String)
    /// A valid datafile arrived with the current project and revision: nothing changes.
    case sameRevision(DatafileIdentity)

    /// The level to log at: debug for what changes nothing, warning for failures.
    package var level: Logger.Level {
        switch self {
        case .notModified, .sameRevision: .debug
        case .fetchFailed, .datafileRejected: .warning
        }
    }

    /// The message.
    package var description: String {
        switch self {
        case .notModified(let url, let since):
            "datafile from \(url) not modified since \(since ?? "the last poll"); config unchanged"
        case .fetchFailed(let url, let failure, let attempt, let retryAtMillis):
            retryAtMillis == nil
                ? "fetching the datafile from \(url) failed (attempt \(attempt)): \(failure); keeping the last good datafile until the next poll"
                : "fetching the datafile from \(url) failed (attempt \(attempt)): \(failure); retrying"
        case .datafileRejected(let url, let reason):
            "the datafile from \(url) is not valid: \(reason); keeping the last good datafile"
        case .sameRevision(let identity):
            "received the datafile of \(identity) again; config unchanged"
        }
    }
}
