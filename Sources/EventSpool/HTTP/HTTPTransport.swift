/// Sends HTTP requests: the one thing EventSpool needs of an HTTP client.
///
/// The core knows nothing of the HTTP stack. ``HTTPEventDispatcher`` sends event batches through
/// a transport, and so does the datafile poller. Pick one:
///
/// - ``URLSessionTransport``, in this module: Foundation's `URLSession` (FoundationNetworking
///   on Linux). The default where no transport is given; the natural one in an app.
/// - `AsyncHTTPClientTransport`, in the `EventSpoolAsyncHTTPClient` product: AsyncHTTPClient on
///   SwiftNIO, for servers (it can share the server's own `HTTPClient`).
/// - your own: conform any type to send through another HTTP stack, a proxy, or a test double
///   (the model is swift-openapi-runtime's `ClientTransport`).
///
/// ```swift
/// struct CannedTransport: HTTPTransport {
///     func send(_ request: HTTPRequest) async throws -> HTTPResponse {
///         HTTPResponse(status: 204, url: request.url)
///     }
/// }
/// ```
///
/// What a transport must do, so that every transport behaves alike (the same tests run
/// against both of ours):
///
/// - send `method`, `url`, `headers` and `body` as given;
/// - finish within the request's ``HTTPRequest/timeout`` or throw
///   ``HTTPTransportError/requestTimeout(url:after:)``; give up on a connection that cannot be
///   opened within its own connect timeout with ``HTTPTransportError/connectTimeout(url:)``;
/// - follow redirects only as ``HTTPRequest/redirects`` says
///   (one rule for all: a hop is followed only when the policy allows it);
/// - keep at most ``HTTPRequest/maxResponseBytes`` of the body and say whether it cut it;
/// - throw `CancellationError` when the calling task is cancelled, never a transport error, and
///   stop the request;
/// - throw for no response at all (refused, reset, timed out); any status, 4xx and 5xx too, is
///   a response, not an error.
///
/// Who makes a transport shuts it down: ``URLSessionTransport/shutdown()`` and the
/// AsyncHTTPClient transport's `shutdown()`. A dispatcher shuts down only the transport it made
/// itself.
public protocol HTTPTransport: Sendable {
    /// Sends `request` and returns the server's answer.
    ///
    /// - Throws: ``HTTPTransportError`` when there is no answer; `CancellationError` when the
    ///   calling task is cancelled.
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}
