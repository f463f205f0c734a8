import EventSpool

/// Why the collector refused a request before any fault plan step: the status it answers
/// (400, 404 or 405) and a message saying what is wrong where.
public struct RequestRejection: Error, Hashable, CustomStringConvertible {
    /// The HTTP status answered.
    public var status: Int
    /// What is wrong, e.g. `visitors[0].snapshots[0].events[1] lacks uuid`.
    public var message: String

    /// A rejection answered with `status`.
    public init(status: Int, message: String) {
        self.status = status
        self.message = message
    }

    /// The JSON response body: `{"error": MESSAGE}`.
    public var responseBody: String { JSONValue.object([.init(key: "error", value: .string(message))]).jsonText }

    public var description: String { "\(status): \(message)" }
}
