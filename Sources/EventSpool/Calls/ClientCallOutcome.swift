/// What one ``ClientCall`` did: its result, the user events it produced and the DECISION
/// notifications it posted, in order.
public struct ClientCallOutcome: Sendable {
    /// The call's `op`.
    public var op: String
    /// The result, in the shape cli.md gives each op.
    public var result: EventValue
    /// The impressions and conversions the call produced.
    public var events: [UserEvent]
    /// The DECISION notifications the call posted.
    public var notifications: [DecisionNotification]

    /// The output line of `eventspool decide` for this call (without a line break):
    /// `{"call", "op", "result", "events": [{"url", "params"}], "notifications": [{"type",
    /// "decision_type", "user_id", "attributes", "decision_info"}]}`, numbers JSON cannot hold
    /// written as `{"$float": …}` / `{"$int": …}`.
    public func jsonLine(call index: Int) -> String {
        var writer = Self.lineWriter(call: index, capacity: 1024)
        writer.raw(", \"op\": ")
        writer.write(op)
        writer.raw(", \"result\": ")
        writer.write(result.wrappedJSON)
        writer.raw(", \"events\": [")
        for (position, event) in events.enumerated() {
            if position > 0 { writer.raw(", ") }
            let logEvent = LogEvent.single(event)
            writer.raw("{\"url\": ")
            writer.write(logEvent.url)
            writer.raw(", \"params\": ")
            writer.bytes.append(contentsOf: logEvent.body)
            writer.raw("}")
        }
        writer.raw("], \"notifications\": [")
        for (position, notification) in notifications.enumerated() {
            if position > 0 { writer.raw(", ") }
            writer.raw("{\"type\": \"DECISION\", \"decision_type\": ")
            writer.write(notification.type.rawValue)
            writer.raw(", \"user_id\": ")
            writer.write(notification.userId)
            writer.raw(", \"attributes\": ")
            writer.write(EventValue.object(notification.attributes).wrappedJSON)
            writer.raw(", \"decision_info\": ")
            writer.write(EventValue.object(notification.decisionInfo).wrappedJSON)
            writer.raw("}")
        }
        writer.raw("]}")
        return writer.string
    }

    /// The output line of `eventspool decide` for a line that is not a call:
    /// `{"call": i, "error": "…"}`.
    public static func errorLine(call index: Int, message: String) -> String {
        var writer = lineWriter(call: index, capacity: 128)
        writer.raw(", \"error\": ")
        writer.write(message)
        writer.raw("}")
        return writer.string
    }

    /// A writer holding the start of a line: `{"call": i`.
    private static func lineWriter(call index: Int, capacity: Int) -> JSONWriter {
        var writer = JSONWriter(capacity: capacity)
        writer.raw("{\"call\": ")
        writer.write(Int64(index))
        return writer
    }
}
