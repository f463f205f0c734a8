import Foundation

/// The ``EventDispatcher`` that sends batches over HTTP, through an ``HTTPTransport``: the
/// default one, on ``URLSessionTransport``, or any other (the `EventSpoolAsyncHTTPClient`
/// product's for a server).
///
/// Plain `http://` is refused except for loopback hosts (a local collector), unless
/// ``Configuration/allowInsecureHTTP`` is set: events may carry personal data. Redirects are
/// never followed (a redirected POST would carry the events elsewhere). Each request has the
/// ``Configuration/requestTimeout``, and at most ``Configuration/maxResponseBytes`` of an answer
/// are kept (for a dead letter's reason).
///
/// ```swift
/// var configuration = HTTPEventDispatcher.Configuration()
/// configuration.endpoint = "http://127.0.0.1:8787/v1/events"
/// let dispatcher = try HTTPEventDispatcher(configuration: configuration)  // on URLSession
/// ```
///
/// A dispatcher shuts down only the transport it made itself (``shutdown()``; a
/// ``BatchEventProcessor`` does that in `stop()` for a dispatcher it made). A transport you pass
/// in is yours to shut down.
public final class HTTPEventDispatcher: EventDispatcher {
    /// The dispatcher's settings.
    public struct Configuration: Sendable, Equatable {
        /// The longest a connection may take to open, in seconds, for the ``URLSessionTransport``
        /// the dispatcher makes when it is given no transport. Default 2. A transport passed in
        /// has its own.
        public var connectTimeout: Double = 2
        /// The longest a request may take, from sending to the whole response, in seconds. Default 10.
        public var requestTimeout: Double = 10
        /// Send every batch here instead of the LogEvent's own URL.
        public var endpoint: String?
        /// Allow `http://` to hosts other than loopback.
        public var allowInsecureHTTP = false
        /// The largest response body kept (for the dead letters' reason); the rest is not read.
        public var maxResponseBytes = 64 * 1024

        /// The default settings.
        public init() {}
    }

    /// Why a URL or a setting cannot be used.
    public enum ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
        /// The URL does not parse, or has no host.
        case invalidURL(String)
        /// `http://` to a host that is not loopback, without `allowInsecureHTTP`.
        case insecureURL(String)
        /// A timeout that is not a positive number.
        case invalidTimeout(name: String, value: Double)

        /// What is wrong, in one line, with how to fix it.
        public var description: String {
            switch self {
            case .invalidURL(let url):
                "\(url) is not a usable endpoint URL; give an absolute https:// URL such as https://logx.optimizely.com/v1/events"
            case .insecureURL(let url):
                "\(url) uses plain http to a host that is not loopback; use https://, or allow insecure HTTP explicitly"
            case .invalidTimeout(let name, let value):
                "\(name) is \(value); give a positive number of seconds"
            }
        }
    }

    /// The settings in force.
    public let configuration: Configuration
    /// The transport requests go through.
    public let transport: any HTTPTransport
    /// The transport this dispatcher made, and shuts down.
    private let ownedTransport: URLSessionTransport?
    /// The last URL that passed ``check(url:allowInsecureHTTP:)``: every batch of a context goes
    /// to the same one, and parsing it again for each request cost about 1% of the pipeline.
    private let lastCheckedURL = LockedValue<String?>(nil)

    /// Creates a dispatcher.
    ///
    /// - Parameters:
    ///   - configuration: the settings.
    ///   - transport: the transport to send through; `nil` for a ``URLSessionTransport`` with
    ///     the configuration's connect timeout, which the dispatcher owns and ``shutdown()``
    ///     shuts down.
    /// - Throws: ``ConfigurationError`` for an unusable endpoint or timeout.
    public init(configuration: Configuration = Configuration(), transport: (any HTTPTransport)? = nil) throws(ConfigurationError) {
        for (name, value) in [("connectTimeout", configuration.connectTimeout), ("requestTimeout", configuration.requestTimeout)]
        where !(value > 0 && value.isFinite) {
            throw .invalidTimeout(name: name, value: value)
        }
        if let endpoint = configuration.endpoint {
            try Self.check(url: endpoint, allowInsecureHTTP: configuration.allowInsecureHTTP)
        }
        self.configuration = configuration
        if let transport {
            self.transport = transport
            ownedTransport = nil
        } else {
            let owned = URLSessionTransport(configuration: .init(connectTimeout: .seconds(configuration.connectTimeout)))
            self.transport = owned
            ownedTransport = owned
        }
    }

    /// The dispatcher a processor makes when it is given none: default settings, on a
    /// ``URLSessionTransport`` of its own.
    static func makeDefault() -> HTTPEventDispatcher {
        let configuration = Configuration()
        let transport = URLSessionTransport(configuration: .init(connectTimeout: .seconds(configuration.connectTimeout)))
        return HTTPEventDispatcher(validated: configuration, transport: transport, owned: transport)
    }

    private init(validated configuration: Configuration, transport: any HTTPTransport, owned: URLSessionTransport?) {
        self.configuration = configuration
        self.transport = transport
        ownedTransport = owned
    }

    /// Checks that events may be sent to `url` (``SecureURLRule``: plain `http://` only to
    /// loopback unless `allowInsecureHTTP`).
    public static func check(url: String, allowInsecureHTTP: Bool) throws(ConfigurationError) {
        switch SecureURLRule.problem(with: url, allowInsecureHTTP: allowInsecureHTTP) {
        case nil: return
        case .notAbsoluteHTTPURL: throw .invalidURL(url)
        case .plainHTTPToRemoteHost: throw .insecureURL(url)
        }
    }

    /// Sends `logEvent` (to the endpoint override when one is set) through the transport, and
    /// returns the answer.
    ///
    /// - Throws: ``ConfigurationError`` when the URL may not be sent to (``SecureURLRule``);
    ///   ``HTTPTransportError`` when there is no answer; `CancellationError` when cancelled.
    public func dispatch(_ logEvent: LogEvent) async throws -> DispatchResponse {
        let url = configuration.endpoint ?? logEvent.url
        if lastCheckedURL.withLock({ $0 != url }) {
            try Self.check(url: url, allowInsecureHTTP: configuration.allowInsecureHTTP)
            lastCheckedURL.withLock { $0 = url }
        }
        let request = HTTPRequest(
            method: logEvent.httpVerb, url: url,
            headers: logEvent.headers.sorted { $0.key < $1.key }.map { HTTPHeader(name: $0.key, value: $0.value) },
            body: logEvent.body, timeout: .seconds(configuration.requestTimeout), redirects: .refuse,
            maxResponseBytes: configuration.maxResponseBytes
        )
        return try await transport.send(request)
    }

    /// Shuts down the transport the dispatcher made itself (none when it was given one).
    /// Idempotent.
    public func shutdown() async throws {
        ownedTransport?.shutdown()
    }
}
