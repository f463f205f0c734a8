/// Why an ``HTTPTransport`` got no answer to a request.
public enum HTTPTransportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The URL does not parse as an absolute `http://` or `https://` URL.
    case invalidURL(String)
    /// No connection to the server could be opened within the transport's connect timeout.
    case connectTimeout(url: String)
    /// The whole exchange did not finish within the request's ``HTTPRequest/timeout``.
    case requestTimeout(url: String, after: Duration)
    /// The connection was refused, reset or failed otherwise; `reason` is the HTTP stack's own
    /// description.
    case connectionFailed(url: String, reason: String)
    /// The transport was shut down before or while the request was sent.
    case shutDown

    /// What happened, in one line, with the URL.
    public var description: String {
        switch self {
        case .invalidURL(let url):
            "\(url) is not an absolute http:// or https:// URL"
        case .connectTimeout(let url):
            "no connection to \(url) within the connect timeout"
        case .requestTimeout(let url, let after):
            "no complete answer from \(url) within \(after.seconds) s (the request timeout)"
        case .connectionFailed(let url, let reason):
            "the request to \(url) failed: \(reason)"
        case .shutDown:
            "the HTTP transport was shut down"
        }
    }
}
