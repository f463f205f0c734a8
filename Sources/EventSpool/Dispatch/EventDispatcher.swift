/// Sends one ``LogEvent`` to the Events API.
///
/// The processor calls `dispatch` for each batch, one at a time per queue, and interprets the
/// response per spec §6: a 2xx marks the batch sent; other statuses and thrown errors are
/// retried, split or dead-lettered. A dispatcher does not retry by itself.
///
/// Custom dispatchers are first-class: implement this protocol to send through your own HTTP
/// stack, a proxy, or a test double.
///
/// ```swift
/// struct RecordingDispatcher: EventDispatcher {
///     func dispatch(_ logEvent: LogEvent) async throws -> DispatchResponse {
///         print(logEvent.bodyText)
///         return DispatchResponse(status: 204)
///     }
/// }
/// ```
///
/// A dispatch should honour task cancellation: `stop()` cancels a request still running at
/// its deadline (the processor stops waiting for it either way).
public protocol EventDispatcher: Sendable {
    /// Sends `logEvent` and returns the server's response. Throw for no response at all
    /// (connection refused or reset, timeout); the error's description is recorded.
    func dispatch(_ logEvent: LogEvent) async throws -> DispatchResponse
}
