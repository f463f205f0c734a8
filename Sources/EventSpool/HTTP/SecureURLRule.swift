import Foundation

/// Where EventSpool sends HTTP requests: `https://` anywhere, plain `http://` only to this
/// machine (a local collector or datafile server), unless the application allows insecure HTTP
/// explicitly. Events may carry personal data, and a datafile decides what users see, so
/// neither travels in clear text across a network by default.
///
/// The one rule for event dispatch (``HTTPEventDispatcher``) and datafile polling
/// (``DatafilePollingSettings``).
///
/// ```swift
/// SecureURLRule.problem(with: "https://logx.optimizely.com/v1/events", allowInsecureHTTP: false)  // nil
/// SecureURLRule.problem(with: "http://127.0.0.1:8787/v1/events", allowInsecureHTTP: false)        // nil
/// SecureURLRule.problem(with: "http://example.com/v1/events", allowInsecureHTTP: false)           // .plainHTTPToRemoteHost
/// ```
public enum SecureURLRule: Sendable {
    /// Why a URL may not be used.
    public enum Problem: Sendable, Hashable {
        /// Not an absolute `http://` or `https://` URL with a host.
        case notAbsoluteHTTPURL
        /// `http://` to a host that is not loopback, and insecure HTTP is not allowed.
        case plainHTTPToRemoteHost
    }

    /// What is wrong with `url`, or `nil` when requests may be sent to it.
    public static func problem(with url: String, allowInsecureHTTP: Bool) -> Problem? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              let host = components.host, !host.isEmpty
        else { return .notAbsoluteHTTPURL }
        switch scheme {
        case "https": return nil
        case "http": return allowInsecureHTTP || isLoopback(host: host) ? nil : .plainHTTPToRemoteHost
        default: return .notAbsoluteHTTPURL
        }
    }

    /// Whether `host` is this machine: `localhost`, 127.0.0.0/8 or ::1.
    public static func isLoopback(host: String) -> Bool {
        let host = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if host == "localhost" || host == "::1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}
