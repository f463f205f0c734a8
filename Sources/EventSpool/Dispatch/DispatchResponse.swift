/// What the Events API answered to one batch: an ``HTTPResponse``.
///
/// An ``EventDispatcher`` returns one per batch; the worker reads its status, its `Retry-After`
/// and, for a dead letter's reason, its body.
public typealias DispatchResponse = HTTPResponse
