/// The settings of live datafile updates by SDK key, named after the reference's
/// `PollingConfigManager` (`decisions.md` §16.3; settled differences in §19).
///
/// Values are taken as given and checked by ``resolved()``: a URL that cannot be built is an
/// error; an invalid number (NaN, infinite, out of range) falls back to its default with a
/// warning, as the event processor's settings do.
///
/// ```swift
/// var settings = DatafilePollingSettings(sdkKey: "VivZyCGPHY369D4z8T9yG")
/// settings.pollingInterval = 60      // seconds
/// let resolved = try settings.resolved()
/// resolved.url                       // "https://cdn.optimizely.com/datafiles/VivZyCGPHY369D4z8T9yG.json"
/// let client = try OptimizelyClient(source: .polling(settings), queuePath: queueFile)
/// ```
///
/// With an ``accessToken`` the default URL is the authenticated one, and every request carries
/// `Authorization: Bearer TOKEN`.
public struct DatafilePollingSettings: Sendable, Equatable {
    /// The SDK key of the project's environment: replaces `{sdk_key}` in the URL template.
    public var sdkKey: String
    /// The datafile access token of a secure environment, sent as `Authorization: Bearer …`;
    /// `nil` for a public datafile. An empty token is an error.
    public var accessToken: String?
    /// Where to fetch the datafile, `{sdk_key}` replaced by ``sdkKey``; `nil` for
    /// ``Defaults/urlTemplate`` (or ``Defaults/authenticatedURLTemplate`` with a token). A
    /// template without `{sdk_key}` is used verbatim; `{{` and `}}` stand for `{` and `}`; any
    /// other `{field}` is an error. Plain `http://` only to loopback (``SecureURLRule``).
    public var urlTemplate: String?
    /// Seconds between the end of one poll and the start of the next. Default 300. Zero,
    /// negative or not finite: the default, with a warning. Below 30: kept, with a warning.
    public var pollingInterval: Double = Defaults.pollingInterval
    /// The longest a client's start waits for the first datafile, in seconds. Default 10; 0
    /// does not wait. Negative or not finite: the default, with a warning.
    public var blockingTimeout: Double = Defaults.blockingTimeout
    /// The longest one request may take, in seconds. Default 10. Zero, negative or not
    /// finite: the default, with a warning.
    public var requestTimeout: Double = Defaults.requestTimeout
    /// Retries of a poll after a 500, 502, 503 or 504 or a transport error, before waiting for
    /// the next poll. Default 3, as the reference; 0 does not retry. Negative: the default,
    /// with a warning.
    public var maxRetries: Int = Defaults.maxRetries
    /// The first retry's delay bound, in seconds; each retry doubles it, up to
    /// ``retryMaxDelay``, and the delay is drawn at random below the bound (full jitter, the
    /// event processor's ``RetryPolicy/backoffMillis(attempt:unit:)``). Default 0.5.
    public var retryBaseDelay: Double = Defaults.retryBaseDelay
    /// The largest retry delay bound, in seconds. Default 4.
    public var retryMaxDelay: Double = Defaults.retryMaxDelay
    /// Allow `http://` to hosts other than loopback.
    public var allowInsecureHTTP = false

    /// The defaults of the reference SDK and of EventSpool.
    public enum Defaults: Sendable {
        /// The public datafile's URL template (`enums.ConfigManager.DATAFILE_URL_TEMPLATE`).
        public static let urlTemplate = "https://cdn.optimizely.com/datafiles/{sdk_key}.json"
        /// The authenticated datafile's URL template, used with an access token.
        public static let authenticatedURLTemplate = "https://config.optimizely.com/datafiles/auth/{sdk_key}.json"
        /// `pollingInterval`, seconds.
        public static let pollingInterval = 300.0
        /// Polling intervals below this many seconds are kept with a warning.
        public static let recommendedMinimumInterval = 30.0
        /// `blockingTimeout`, seconds.
        public static let blockingTimeout = 10.0
        /// `requestTimeout`, seconds (the reference's `REQUEST_TIMEOUT`).
        public static let requestTimeout = 10.0
        /// `maxRetries` (the reference's urllib3 `Retry(total=3)`).
        public static let maxRetries = 3
        /// `retryBaseDelay`, seconds.
        public static let retryBaseDelay = 0.5
        /// `retryMaxDelay`, seconds.
        public static let retryMaxDelay = 4.0
    }

    /// Settings for the project environment with `sdkKey`, with an `accessToken` for a secure
    /// environment's authenticated datafile; every other setting at its default.
    public init(sdkKey: String, accessToken: String? = nil, urlTemplate: String? = nil) {
        self.sdkKey = sdkKey
        self.accessToken = accessToken
        self.urlTemplate = urlTemplate
    }

    /// The settings checked: the URL built, each invalid number replaced by its default.
    public struct Resolved: Sendable, Equatable {
        /// The effective settings (invalid numbers replaced by their defaults).
        public var settings: DatafilePollingSettings
        /// The datafile's URL.
        public var url: String
        /// What was replaced or is not recommended, in the order of the settings; log them.
        public var warnings: [DatafileSettingsWarning]

        /// ``DatafilePollingSettings/pollingInterval`` in milliseconds.
        public var pollingIntervalMillis: Int64 { DatafilePollingSettings.millis(settings.pollingInterval) }
        /// ``DatafilePollingSettings/blockingTimeout`` in milliseconds.
        public var blockingTimeoutMillis: Int64 { DatafilePollingSettings.millis(settings.blockingTimeout) }
        /// ``DatafilePollingSettings/requestTimeout`` in milliseconds.
        public var requestTimeoutMillis: Int64 { DatafilePollingSettings.millis(settings.requestTimeout) }
    }

    /// Checks the settings and builds the URL.
    ///
    /// - Throws: ``DatafileSettingsError`` when the URL cannot be built or may not be used, or
    ///   the access token is empty.
    public func resolved() throws(DatafileSettingsError) -> Resolved {
        if let accessToken, accessToken.isEmpty { throw .emptyAccessToken }
        let template = urlTemplate ?? (accessToken == nil ? Defaults.urlTemplate : Defaults.authenticatedURLTemplate)
        let url = try DatafileURLTemplate.url(template: template, sdkKey: sdkKey)
        if let problem = SecureURLRule.problem(with: url, allowInsecureHTTP: allowInsecureHTTP) {
            throw .unusableURL(url: url, problem: problem)
        }
        var warnings: [DatafileSettingsWarning] = []
        func checked<Value>(_ value: Value, _ name: String, _ fallback: Value, isValid: (Value) -> Bool) -> Value {
            if isValid(value) { return value }
            warnings.append(.invalidValue(setting: name, value: "\(value)", default: "\(fallback)"))
            return fallback
        }
        let positive = { (value: Double) in value > 0 && value.isFinite }
        var effective = self
        effective.pollingInterval = checked(pollingInterval, "pollingInterval", Defaults.pollingInterval, isValid: positive)
        if effective.pollingInterval < Defaults.recommendedMinimumInterval {
            warnings.append(.intervalBelowRecommended(seconds: pollingInterval))
        }
        effective.blockingTimeout = checked(blockingTimeout, "blockingTimeout", Defaults.blockingTimeout) { $0 >= 0 && $0.isFinite }
        effective.requestTimeout = checked(requestTimeout, "requestTimeout", Defaults.requestTimeout, isValid: positive)
        effective.maxRetries = checked(maxRetries, "maxRetries", Defaults.maxRetries) { $0 >= 0 }
        effective.retryBaseDelay = checked(retryBaseDelay, "retryBaseDelay", Defaults.retryBaseDelay, isValid: positive)
        effective.retryMaxDelay = checked(retryMaxDelay, "retryMaxDelay", Defaults.retryMaxDelay, isValid: positive)
        return Resolved(settings: effective, url: url, warnings: warnings)
    }

    /// `seconds` in whole milliseconds, at most about 31,000 years so that adding it to a
    /// clock reading never overflows.
    static func millis(_ seconds: Double) -> Int64 {
        Int64(min(max(seconds, 0) * 1000, 1e15).rounded(.down))
    }
}
