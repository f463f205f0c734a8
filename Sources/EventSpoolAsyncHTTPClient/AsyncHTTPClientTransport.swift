public import AsyncHTTPClient
public import EventSpool
import NIOCore
import NIOHTTP1

/// An ``EventSpool/HTTPTransport`` on AsyncHTTPClient (SwiftNIO): the transport for servers.
///
/// It can make and own its `HTTPClient`, or share the server's own. Redirects are decided per
/// request by the request's ``EventSpool/HTTPRedirectPolicy``, so a client of its own has
/// AsyncHTTPClient's redirects turned off; give a shared client redirects turned off too
/// (`redirectConfiguration = .disallow`), or it follows them before the transport can decide.
///
/// ```swift
/// import EventSpool
/// import EventSpoolAsyncHTTPClient
///
/// let transport = AsyncHTTPClientTransport(configuration: .init(connectTimeout: .seconds(2)))
/// let dispatcher = try HTTPEventDispatcher(transport: transport)
/// let processor = try BatchEventProcessor(queuePath: "events.sqlite", dispatcher: dispatcher)
/// processor.start()
/// // ...
/// await processor.stop()
/// try await transport.shutdown()
/// ```
public final class AsyncHTTPClientTransport: HTTPTransport {
    /// The settings of a transport that makes its own client.
    public struct Configuration: Sendable, Hashable {
        /// The longest a connection may take to open. Default 2 seconds.
        public var connectTimeout: Duration

        /// Settings with a connect timeout.
        public init(connectTimeout: Duration = .seconds(2)) {
            self.connectTimeout = connectTimeout
        }
    }

    /// The client requests go through.
    public let client: HTTPClient
    private let ownsClient: Bool
    private let isShutDown = LockedValue(false)

    /// Creates a transport with a client of its own (on the shared event loop group, redirects
    /// off, keep-alive on), which ``shutdown()`` shuts down.
    public init(configuration: Configuration = Configuration()) {
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.timeout = .init(connect: .nanoseconds(Self.nanoseconds(configuration.connectTimeout)))
        clientConfiguration.redirectConfiguration = .disallow
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        ownsClient = true
    }

    /// Creates a transport on the application's client, which stays the application's to shut
    /// down. Its own connect timeout applies; turn its redirects off
    /// (`redirectConfiguration = .disallow`) so that each request's policy decides.
    public init(client: HTTPClient) {
        self.client = client
        ownsClient = false
    }

    /// Sends `request` on the client, within the request's timeout (redirects included), following
    /// redirects as its policy says and keeping at most its body cap.
    ///
    /// - Throws: ``EventSpool/HTTPTransportError`` when there is no answer; `CancellationError`
    ///   when the calling task is cancelled.
    public func send(_ request: EventSpool.HTTPRequest) async throws -> EventSpool.HTTPResponse {
        guard !isShutDown.withLock({ $0 }) else { throw HTTPTransportError.shutDown }
        let deadline = NIODeadline.now() + .nanoseconds(Self.nanoseconds(request.timeout))
        var current = request
        var redirects = 0
        while true {
            let response = try await exchange(current, original: request, deadline: deadline)
            guard let next = request.redirects.nextRequest(
                after: current, status: response.status, location: response.header("Location"), redirectsSoFar: redirects
            ) else { return response }
            current = next
            redirects += 1
        }
    }

    /// One request and its response, without redirects.
    private func exchange(_ request: EventSpool.HTTPRequest, original: EventSpool.HTTPRequest, deadline: NIODeadline) async throws -> EventSpool.HTTPResponse {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for header in request.headers {
            outgoing.headers.add(name: header.name, value: header.value)
        }
        if !request.body.isEmpty { outgoing.body = .bytes(ByteBuffer(bytes: request.body)) }
        do {
            let response = try await client.execute(outgoing, deadline: deadline)
            var body: [UInt8] = []
            var truncated = false
            for try await var chunk in response.body {
                let room = request.maxResponseBytes - body.count
                body += chunk.readBytes(length: min(room, chunk.readableBytes)) ?? []
                if chunk.readableBytes > 0 {
                    // Over the cap: the rest is not read (leaving the loop ends the request).
                    truncated = true
                    break
                }
            }
            return EventSpool.HTTPResponse(
                status: Int(response.status.code), headers: response.headers.map { HTTPHeader(name: $0.name, value: $0.value) },
                body: body, isBodyTruncated: truncated, url: request.url
            )
        } catch {
            throw Self.transportError(error, url: request.url, timeout: original.timeout)
        }
    }

    /// The ``EventSpool/HTTPTransportError`` for what AsyncHTTPClient threw.
    static func transportError(_ error: any Error, url: String, timeout: Duration) -> any Error {
        if Task.isCancelled || error is CancellationError { return CancellationError() }
        if let clientError = error as? HTTPClientError {
            switch clientError {
            case .connectTimeout, .getConnectionFromPoolTimeout:
                return HTTPTransportError.connectTimeout(url: url)
            case .deadlineExceeded, .readTimeout, .writeTimeout:
                return HTTPTransportError.requestTimeout(url: url, after: timeout)
            case .alreadyShutdown:
                return HTTPTransportError.shutDown
            case .invalidURL, .emptyHost, .emptyScheme:
                return HTTPTransportError.invalidURL(url)
            case .cancelled:
                return CancellationError()
            case .remoteConnectionClosed:
                return HTTPTransportError.connectionFailed(url: url, reason: "connection closed before a complete response")
            default:
                return HTTPTransportError.connectionFailed(url: url, reason: "\(clientError)")
            }
        }
        return HTTPTransportError.connectionFailed(url: url, reason: "\(error)")
    }

    /// Shuts the client down if the transport made it; a later ``send(_:)`` throws
    /// ``EventSpool/HTTPTransportError/shutDown``. Idempotent.
    public func shutdown() async throws {
        guard claimShutdown() else { return }
        if ownsClient { try await client.shutdown() }
    }

    /// A transport dropped without ``shutdown()`` still closes the client it made: AsyncHTTPClient
    /// stops a debug build when a running client is released.
    deinit {
        if ownsClient, claimShutdown() { client.shutdown().whenComplete { _ in } }
    }

    /// `true` for the one caller that gets to shut down.
    private func claimShutdown() -> Bool {
        isShutDown.withLock { done in
            defer { done = true }
            return !done
        }
    }

    /// `duration` in whole nanoseconds, at most `Int64.max`.
    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : whole + attoseconds / 1_000_000_000
    }
}
