import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An ``HTTPTransport`` on Foundation's `URLSession` (FoundationNetworking, on libcurl, on
/// Linux): the default transport, with nothing to add to an app's dependencies.
///
/// It has a session of its own, without cookies, cache or stored credentials, so a datafile's
/// `If-Modified-Since` is answered by the server and never by a cache. Each request has its own
/// deadline (``HTTPRequest/timeout``), redirect policy and body cap, decided by this transport
/// rather than by the session's settings, so that it behaves as the AsyncHTTPClient transport
/// does.
///
/// ```swift
/// let transport = URLSessionTransport(configuration: .init(connectTimeout: .seconds(2)))
/// let response = try await transport.send(HTTPRequest(url: "https://cdn.optimizely.com/datafiles/KEY.json", redirects: .follow()))
/// transport.shutdown()
/// ```
///
/// **The connect timeout.** `URLSession` says nothing when a connection is open, so the transport
/// takes the first byte of the request body going out, or the response's head coming in,
/// whichever is first, as the sign of it. A request without a body (a `GET`) gives no sign
/// before its response, so for it the request timeout alone applies.
public final class URLSessionTransport: HTTPTransport {
    /// The transport's settings.
    public struct Configuration: Sendable, Hashable {
        /// The longest a connection may take to open. Default 2 seconds.
        public var connectTimeout: Duration

        /// Settings with a connect timeout.
        public init(connectTimeout: Duration = .seconds(2)) {
            self.connectTimeout = connectTimeout
        }
    }

    /// The settings in force.
    public let configuration: Configuration
    private let session: URLSession
    private let transfers: URLSessionTransfers
    /// Whether ``shutdown()`` ran; checked and set with task creation under one lock, since a
    /// task made in an invalidated session is a trap.
    private let isShutDown = LockedValue(false)

    /// Creates a transport with its own `URLSession`.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        let sessionConfiguration = URLSessionConfiguration.ephemeral
        sessionConfiguration.urlCache = nil
        sessionConfiguration.requestCachePolicy = .reloadIgnoringLocalCacheData
        sessionConfiguration.httpCookieStorage = nil
        sessionConfiguration.httpShouldSetCookies = false
        sessionConfiguration.httpCookieAcceptPolicy = .never
        sessionConfiguration.urlCredentialStorage = nil
        let delegateQueue = OperationQueue()
        delegateQueue.maxConcurrentOperationCount = 1
        transfers = URLSessionTransfers(connectTimeout: configuration.connectTimeout)
        session = URLSession(configuration: sessionConfiguration, delegate: transfers, delegateQueue: delegateQueue)
    }

    /// Sends `request` on the transport's session, with the request's timeout, redirect policy and
    /// body cap.
    ///
    /// - Throws: ``HTTPTransportError`` when there is no answer; `CancellationError` when the
    ///   calling task is cancelled.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard let urlRequest = Self.urlRequest(for: request) else { throw HTTPTransportError.invalidURL(request.url) }
        try Task.checkCancellation()
        let id: Int? = isShutDown.withLock { shutDown in
            guard !shutDown else { return nil }
            return transfers.add(session.dataTask(with: urlRequest), request: request)
        }
        guard let id else { throw HTTPTransportError.shutDown }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                transfers.start(id, continuation: continuation)
            }
        } onCancel: {
            transfers.cancel(id)
        }
    }

    /// The `URLRequest` that sends `request`; `nil` when its URL is not an absolute `http://` or
    /// `https://` URL.
    static func urlRequest(for request: HTTPRequest) -> URLRequest? {
        guard let url = URL(string: request.url), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty
        else { return nil }
        var urlRequest = URLRequest(url: url)
        urlRequest.httpMethod = request.method
        for header in request.headers {
            urlRequest.addValue(header.value, forHTTPHeaderField: header.name)
        }
        if !request.body.isEmpty { urlRequest.httpBody = Data(request.body) }
        urlRequest.cachePolicy = .reloadIgnoringLocalCacheData
        // URLSession's own timeout is an idle timeout in whole seconds on Linux: only a backstop
        // behind this transport's exact deadline.
        urlRequest.timeoutInterval = (request.timeout.seconds + 1).rounded(.up)
        return urlRequest
    }

    /// Cancels what is in flight (those requests throw ``HTTPTransportError/shutDown``) and
    /// closes the session's connections; a later ``send(_:)`` throws
    /// ``HTTPTransportError/shutDown``. Idempotent.
    public func shutdown() {
        let first = isShutDown.withLock { shutDown in
            defer { shutDown = true }
            return !shutDown
        }
        guard first else { return }
        transfers.failAll(HTTPTransportError.shutDown)
        session.invalidateAndCancel()
    }

    /// The session keeps its delegate until it is invalidated: a transport dropped without
    /// ``shutdown()`` still lets both go.
    deinit {
        if isShutDown.withLock({ !$0 }) { session.finishTasksAndInvalidate() }
    }
}
