import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The default ``EventDispatcher``: one shared AsyncHTTPClient with keep-alive, a connect
/// timeout, a request timeout, and an optional endpoint override.
///
/// Plain `http://` is refused except for loopback hosts (a local collector), unless
/// ``Configuration/allowInsecureHTTP`` is set: events may carry personal data.
///
/// Call ``shutdown()`` when done (a ``BatchEventProcessor`` does it for a dispatcher it made).
///
/// ```swift
/// var configuration = HTTPEventDispatcher.Configuration()
/// configuration.endpoint = "http://127.0.0.1:8787/v1/events"
/// let dispatcher = try HTTPEventDispatcher(configuration: configuration)
/// ```
public final class HTTPEventDispatcher: EventDispatcher {
    /// The dispatcher's settings.
    public struct Configuration: Sendable, Equatable {
        /// The longest a connection may take to open, in seconds. Default 2.
        public var connectTimeout: Double = 2
        /// The longest a request may take, from sending to the whole response, in seconds. Default 10.
        public var requestTimeout: Double = 10
        /// Send every batch here instead of the LogEvent's own URL.
        public var endpoint: String?
        /// Allow `http://` to hosts other than loopback.
        public var allowInsecureHTTP = false
        /// The largest response body kept (for the dead letters' reason); the rest is discarded.
        public var maxResponseBytes = 64 * 1024

        /// The default settings.
        public init() {}
    }

    /// Why a URL cannot be sent to.
    public enum ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
        /// The URL does not parse, or has no host.
        case invalidURL(String)
        /// `http://` to a host that is not loopback, without `allowInsecureHTTP`.
        case insecureURL(String)
        /// A timeout that is not a positive number.
        case invalidTimeout(name: String, value: Double)

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
    private let client: HTTPClient
    private let isShutDown = LockedValue(false)
    /// The last URL that passed ``check(url:allowInsecureHTTP:)``: every batch of a context goes
    /// to the same one, and parsing it again for each request cost about 1% of the pipeline.
    private let lastCheckedURL = LockedValue<String?>(nil)

    /// Creates a dispatcher.
    ///
    /// - Throws: ``ConfigurationError`` for an unusable endpoint or timeout.
    public init(configuration: Configuration = Configuration()) throws(ConfigurationError) {
        for (name, value) in [("connectTimeout", configuration.connectTimeout), ("requestTimeout", configuration.requestTimeout)]
        where !(value > 0 && value.isFinite) {
            throw .invalidTimeout(name: name, value: value)
        }
        if let endpoint = configuration.endpoint {
            try Self.check(url: endpoint, allowInsecureHTTP: configuration.allowInsecureHTTP)
        }
        self.configuration = configuration
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.timeout = .init(
            connect: .milliseconds(Int64(configuration.connectTimeout * 1000)),
            read: .milliseconds(Int64(configuration.requestTimeout * 1000))
        )
        clientConfiguration.redirectConfiguration = .disallow
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
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

    public func dispatch(_ logEvent: LogEvent) async throws -> DispatchResponse {
        let url = configuration.endpoint ?? logEvent.url
        if lastCheckedURL.withLock({ $0 != url }) {
            try Self.check(url: url, allowInsecureHTTP: configuration.allowInsecureHTTP)
            lastCheckedURL.withLock { $0 = url }
        }
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: logEvent.httpVerb)
        for (name, value) in logEvent.headers.sorted(by: { $0.key < $1.key }) {
            request.headers.add(name: name, value: value)
        }
        request.body = .bytes(ByteBuffer(bytes: logEvent.body))
        let response = try await client.execute(request, timeout: .milliseconds(Int64(configuration.requestTimeout * 1000)))
        var kept: [UInt8] = []
        for try await var chunk in response.body where kept.count < configuration.maxResponseBytes {
            let room = configuration.maxResponseBytes - kept.count
            kept += chunk.readBytes(length: min(room, chunk.readableBytes)) ?? []
        }
        return DispatchResponse(
            status: Int(response.status.code),
            headers: response.headers.map { (name: $0.name, value: $0.value) },
            body: kept
        )
    }

    /// Closes the client's connections. Idempotent.
    public func shutdown() async throws {
        if claimShutdown() { try await client.shutdown().get() }
    }

    /// A dispatcher dropped without ``shutdown()`` still closes its client: without this,
    /// AsyncHTTPClient stops a debug build when the client is released while running.
    deinit {
        if claimShutdown() { client.shutdown().whenComplete { _ in } }
    }

    /// `true` for the one caller that gets to shut the client down.
    private func claimShutdown() -> Bool {
        isShutDown.withLock { done in
            defer { done = true }
            return !done
        }
    }
}
