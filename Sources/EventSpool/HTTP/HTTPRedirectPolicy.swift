import Foundation

/// What a transport does with a redirect (a 301, 302, 303, 307 or 308 with a `Location`).
///
/// Event dispatch refuses redirects (the Events API never sends one, and a body with personal
/// data should not follow one); a datafile request follows them, as the reference SDK does.
/// A redirect that is not followed is the response: its 3xx status, headers and body.
public enum HTTPRedirectPolicy: Sendable, Hashable {
    /// A 3xx is the response; nothing is followed.
    case refuse
    /// Follow up to `maxRedirects` redirects. A redirect to plain `http://` on a host that is
    /// not loopback is not followed unless `allowInsecureHTTP` (``SecureURLRule``); a 303, and
    /// a 301 or 302 after a `POST`, continue as a `GET` without the body, as browsers do; and
    /// `Authorization` and `Cookie` are not sent on to another host, as Python's `requests`
    /// (the reference SDK's client) does not.
    case follow(maxRedirects: Int = 5, allowInsecureHTTP: Bool = false)

    /// The request to send after `status` with `location` answered `request`, the
    /// `redirectsSoFar`-th redirect of this request; `nil` when the 3xx is the response.
    ///
    /// One rule for every transport: a transport that is asked each redirect (URLSession)
    /// follows it only when this gives a request; one that is not (AsyncHTTPClient, with its own
    /// redirects turned off) sends the request this gives.
    package func nextRequest(after request: HTTPRequest, status: Int, location: String?, redirectsSoFar: Int) -> HTTPRequest? {
        guard case .follow(let maxRedirects, let allowInsecureHTTP) = self,
              [301, 302, 303, 307, 308].contains(status), redirectsSoFar < maxRedirects,
              let location, let target = Self.resolve(location, against: request.url),
              SecureURLRule.problem(with: target, allowInsecureHTTP: allowInsecureHTTP) == nil
        else { return nil }
        var next = request
        next.url = target
        if status == 303 || ((status == 301 || status == 302) && request.method == "POST") {
            next.method = "GET"
            next.body = []
            next.headers.removeAll { $0.name.caseInsensitiveEquals("Content-Type") || $0.name.caseInsensitiveEquals("Content-Length") }
        }
        if !Self.keepsCredentials(from: request.url, to: target) {
            next.headers.removeAll { $0.name.caseInsensitiveEquals("Authorization") || $0.name.caseInsensitiveEquals("Cookie") }
        }
        return next
    }

    /// Whether credentials may go on from `source` to `target`: the same host and port, or the
    /// same host moving from `http` on port 80 to `https` on port 443.
    static func keepsCredentials(from source: String, to target: String) -> Bool {
        guard let from = URLComponents(string: source), let to = URLComponents(string: target),
              let fromHost = from.host?.lowercased(), fromHost == to.host?.lowercased()
        else { return false }
        func port(_ components: URLComponents) -> Int? {
            components.port ?? ["http": 80, "https": 443][components.scheme?.lowercased() ?? ""]
        }
        let (fromScheme, toScheme) = (from.scheme?.lowercased(), to.scheme?.lowercased())
        if fromScheme == toScheme { return port(from) == port(to) }
        return fromScheme == "http" && toScheme == "https" && port(from) == 80 && port(to) == 443
    }

    /// `location` made absolute against `base` (a `Location` may be relative).
    static func resolve(_ location: String, against base: String) -> String? {
        guard let baseURL = URL(string: base), let url = URL(string: location, relativeTo: baseURL) else { return nil }
        return url.absoluteURL.absoluteString
    }
}
