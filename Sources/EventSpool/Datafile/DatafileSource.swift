/// Where an ``OptimizelyClient``'s datafile comes from (`decisions.md` §16.1): a datafile given
/// once (static), live updates by SDK key (polling), or both, a bundled datafile serving at once
/// until polling brings another revision.
///
/// ```swift
/// OptimizelyClient(source: .datafile(text), …)                                 // static
/// OptimizelyClient(source: .sdkKey("VivZyCGPHY369D4z8T9yG"), …)                // polled every 5 minutes
/// OptimizelyClient(source: .sdkKey("VivZyCGPHY369D4z8T9yG", datafile: bundled), …)
///
/// var settings = DatafilePollingSettings(sdkKey: "VivZyCGPHY369D4z8T9yG", accessToken: token)
/// settings.pollingInterval = 60
/// OptimizelyClient(source: .polling(settings), …)                             // every setting
/// ```
public struct DatafileSource: Sendable, Equatable {
    /// A datafile to use from the start (JSON); with ``polling``, it serves until polling brings
    /// a datafile of another revision.
    public var datafile: String?
    /// Live datafile updates by SDK key; `nil` for a static datafile.
    public var polling: DatafilePollingSettings?

    /// A source; at least one of the two is needed.
    public init(datafile: String? = nil, polling: DatafilePollingSettings? = nil) {
        self.datafile = datafile
        self.polling = polling
    }

    /// A static datafile: the client uses it as long as it lives.
    public static func datafile(_ datafile: String) -> DatafileSource {
        DatafileSource(datafile: datafile)
    }

    /// Live updates of the datafile of the environment with `sdkKey`, every other setting at its
    /// default (every 300 s from the CDN, or from the authenticated URL with an `accessToken`);
    /// `datafile`, if given, serves before the first fetch.
    public static func sdkKey(_ sdkKey: String, accessToken: String? = nil, datafile: String? = nil) -> DatafileSource {
        DatafileSource(datafile: datafile, polling: DatafilePollingSettings(sdkKey: sdkKey, accessToken: accessToken))
    }

    /// Live updates with these settings; `datafile`, if given, serves before the first fetch.
    public static func polling(_ settings: DatafilePollingSettings, datafile: String? = nil) -> DatafileSource {
        DatafileSource(datafile: datafile, polling: settings)
    }
}
