/// One HTTP request for an ``HTTPTransport``: what to send, and how long and how much to wait
/// for. A plain value, so the same request can be sent through any transport.
///
/// ```swift
/// let request = HTTPRequest(
///     method: "GET", url: "https://cdn.optimizely.com/datafiles/KEY.json",
///     headers: [HTTPHeader(name: "If-Modified-Since", value: lastModified)],
///     timeout: .seconds(10), redirects: .follow(), maxResponseBytes: 32 << 20
/// )
/// let response = try await transport.send(request)
/// ```
public struct HTTPRequest: Sendable, Hashable {
    /// The method, such as `GET` or `POST`.
    public var method: String
    /// The absolute `http://` or `https://` URL.
    public var url: String
    /// The header fields, in the order they are sent. A transport adds what HTTP itself needs
    /// (`Host`, `Content-Length`).
    public var headers: [HTTPHeader]
    /// The body; empty for none.
    public var body: [UInt8]
    /// The longest the whole exchange may take, from the start of the connection to the last
    /// byte of the response, redirects included. Past it the transport cancels the request and
    /// throws ``HTTPTransportError/requestTimeout(url:after:)``.
    public var timeout: Duration
    /// Whether redirects are followed.
    public var redirects: HTTPRedirectPolicy
    /// The most response-body bytes kept. A longer body is cut there, the rest is not read,
    /// and the response says ``HTTPResponse/isBodyTruncated``.
    public var maxResponseBytes: Int

    /// A request.
    ///
    /// - Parameters:
    ///   - method: `GET` unless given.
    ///   - url: the absolute URL.
    ///   - headers: the header fields, in order.
    ///   - body: the body (empty for none).
    ///   - timeout: the longest the whole exchange may take; 10 seconds unless given.
    ///   - redirects: ``HTTPRedirectPolicy/refuse`` unless given.
    ///   - maxResponseBytes: the most response-body bytes kept; 64 KiB unless given.
    public init(
        method: String = "GET", url: String, headers: [HTTPHeader] = [], body: [UInt8] = [],
        timeout: Duration = .seconds(10), redirects: HTTPRedirectPolicy = .refuse, maxResponseBytes: Int = 64 * 1024
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.redirects = redirects
        self.maxResponseBytes = maxResponseBytes
    }

    /// The first value of the header `name`, compared without regard to case.
    public func header(_ name: String) -> String? {
        headers.first(named: name)
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
