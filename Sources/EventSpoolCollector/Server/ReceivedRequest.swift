/// One request the collector received, as it was answered.
public struct ReceivedRequest: Sendable, Hashable {
    /// How the collector answered.
    public enum Outcome: Sendable, Hashable {
        /// A response with this HTTP status was sent.
        case responded(status: Int)
        /// No response: the connection was held open (the plan's `timeout` step).
        case timedOut
        /// No response: the connection was closed (the plan's `reset` step).
        case reset
    }

    /// The request's number, from 1, over all requests the collector received (valid or not).
    public var seq: Int
    /// The HTTP method.
    public var method: String
    /// The request target (path and query).
    public var path: String
    /// How it was answered.
    public var outcome: Outcome
    /// The body's size in bytes, as received.
    public var byteCount: Int
    /// The body as received; empty when it was over ``RequestValidation/maximumBodyBytes``
    /// (such a body is counted, not kept).
    public var body: [UInt8]
    /// The decoded batch, or `nil` when the request was invalid.
    public var batch: ReceivedBatch?
    /// Why the request was refused, or `nil` when it was valid.
    public var rejection: RequestRejection?

    /// The status sent, or 0 when no response was sent (as in the record file).
    public var status: Int {
        if case .responded(let status) = outcome { return status }
        return 0
    }

    /// Whether the request was valid and answered with a 2xx status: the batch counts as
    /// delivered for the client.
    public var isAccepted: Bool { batch != nil && (200..<300).contains(status) }
}
