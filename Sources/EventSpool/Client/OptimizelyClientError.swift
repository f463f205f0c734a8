/// Why an ``OptimizelyClient`` cannot be made: what is wrong, and how to fix it.
public enum OptimizelyClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The source has neither a datafile nor an SDK key.
    case noDatafileSource
    /// The datafile given is not one the reference would use.
    case invalidDatafile(DatafileError)
    /// The polling settings cannot be used (the URL, the access token).
    case invalidPollingSettings(DatafileSettingsError)
    /// The queue file cannot be opened.
    case queue(QueueError)

    /// What is wrong, in one line, with how to fix it.
    public var description: String {
        switch self {
        case .noDatafileSource:
            "the client has no datafile source; give a datafile, an SDK key, or both"
        case .invalidDatafile(let error):
            "the datafile given is not valid: \(error)"
        case .invalidPollingSettings(let error):
            "\(error)"
        case .queue(let error):
            "\(error)"
        }
    }
}
