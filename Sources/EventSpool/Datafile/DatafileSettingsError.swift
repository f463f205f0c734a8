/// Why datafile polling settings cannot be used: what is wrong, and how to fix it.
public enum DatafileSettingsError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The access token is the empty string (the reference: `datafile_access_token cannot be
    /// empty or None.`).
    case emptyAccessToken
    /// The URL template needs an SDK key (it has `{sdk_key}`) and the key is empty.
    case emptySDKKey(template: String)
    /// The URL template has a `{field}` other than `{sdk_key}`.
    case unknownTemplateField(template: String, field: String)
    /// The URL template has a `{` or `}` that opens or closes nothing (write `{{` or `}}` for a
    /// literal brace).
    case unbalancedBrace(template: String)
    /// The URL built is not an absolute `http(s)://` URL, or is plain `http://` to a host that
    /// is not loopback (``SecureURLRule``).
    case unusableURL(url: String, problem: SecureURLRule.Problem)

    /// What is wrong with the settings, in one line, with how to fix it.
    public var description: String {
        switch self {
        case .emptyAccessToken:
            "the datafile access token is empty; give the environment's token, or none for a public datafile"
        case .emptySDKKey(let template):
            "the SDK key is empty, and the datafile URL template \(template) needs one; give the key of the project's environment"
        case .unknownTemplateField(let template, let field):
            "the datafile URL template \(template) has an unknown field {\(field)}; only {sdk_key} is replaced (write {{ and }} for literal braces)"
        case .unbalancedBrace(let template):
            "the datafile URL template \(template) has an unmatched brace; only {sdk_key} is replaced (write {{ and }} for literal braces)"
        case .unusableURL(let url, .notAbsoluteHTTPURL):
            "the datafile URL \(url) is not an absolute http(s) URL; give one such as \(DatafilePollingSettings.Defaults.urlTemplate)"
        case .unusableURL(let url, .plainHTTPToRemoteHost):
            "the datafile URL \(url) uses plain http to a host that is not loopback; use https://, or allow insecure HTTP explicitly"
        }
    }
}

/// A datafile polling setting that was replaced by its default or is not recommended: for the
/// application's log.
public enum DatafileSettingsWarning: Sendable, Hashable, CustomStringConvertible {
    /// `setting` was `value`, which is not usable; `default` is used instead.
    case invalidValue(setting: String, value: String, default: String)
    /// The polling interval is below 30 seconds: kept, but not recommended.
    case intervalBelowRecommended(seconds: Double)

    /// The warning, in one line, for the application's log.
    public var description: String {
        switch self {
        case .invalidValue(let setting, let value, let fallback):
            "invalid datafile setting \(setting) \(value); using the default \(fallback)"
        case .intervalBelowRecommended(let seconds):
            "polling interval \(seconds) s: polling intervals below 30 seconds are not recommended"
        }
    }
}
