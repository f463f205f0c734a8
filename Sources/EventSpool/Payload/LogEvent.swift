/// One request to the Optimizely Events API: a batch of visitors (spec §4).
///
/// The body is the header of the batch's context, then the stored visitor texts joined with
/// ``visitorSeparator``, then ``bodySuffix``. Visitors are never re-encoded, so a batch rebuilt
/// after a crash is byte-identical to the one sent before.
///
/// The style is the reference's (Python's `json.dumps` defaults: `", "` and `": "`, non-ASCII
/// escaped), so a body equals the reference SDK's byte for byte apart from the client name
/// and version.
///
/// ```swift
/// let logEvent = LogEvent.batch(context: context, visitors: rows.map(\.visitorJSON))
/// // logEvent.url == "https://logx.optimizely.com/v1/events", logEvent.httpVerb == "POST"
/// let size = LogEvent.bodyByteCount(context: context, visitorByteCounts: rows.map(\.byteCount))
/// assert(size == logEvent.body.count)
/// ```
public struct LogEvent: Sendable, Hashable {
    /// The Events API endpoint of the batch's region.
    public var url: String
    /// Always `"POST"`.
    public var httpVerb: String
    /// Always `["Content-Type": "application/json"]`.
    public var headers: [String: String]
    /// The request body: UTF-8 JSON.
    public var body: [UInt8]

    /// Creates a log event from its parts.
    public init(url: String, httpVerb: String = "POST", headers: [String: String] = LogEvent.defaultHeaders, body: [UInt8]) {
        self.url = url
        self.httpVerb = httpVerb
        self.headers = headers
        self.body = body
    }

    /// The headers of every request.
    public static let defaultHeaders = ["Content-Type": "application/json"]
    /// What separates two visitors in the body (the reference's list separator).
    public static let visitorSeparator = ", "
    /// What closes the body after the last visitor.
    public static let bodySuffix = "]}"

    /// The body as text.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// The batch of these stored visitors (each a ``SerializedEvent/visitorJSON``, in order),
    /// all of one context.
    public static func batch(context: EventContext, visitors: [String]) -> LogEvent {
        var writer = JSONWriter(capacity: visitors.reduce(256) { $0 + $1.utf8.count + 2 })
        writeHeader(context, to: &writer)
        for (position, visitor) in visitors.enumerated() {
            if position > 0 { writer.raw(", ") }
            var visitor = visitor
            visitor.withUTF8 { writer.bytes.append(contentsOf: $0) }
        }
        writer.raw("]}")
        return LogEvent(url: context.endpoint, body: writer.bytes)
    }

    /// The batch of these stored events; they must share one context (the first one's is used).
    /// `nil` when `events` is empty.
    public static func batch(_ events: [SerializedEvent]) -> LogEvent? {
        guard let first = events.first else { return nil }
        return batch(context: first.context, visitors: events.map(\.visitorJSON))
    }

    /// The body's opening for a context, up to and including `"visitors": [`.
    public static func headerPrefix(for context: EventContext) -> String {
        var writer = JSONWriter(capacity: 256)
        writeHeader(context, to: &writer)
        return writer.string
    }

    /// The bytes a batch body has besides its visitors and separators: header prefix plus
    /// ``bodySuffix``.
    public static func overheadByteCount(for context: EventContext) -> Int {
        headerPrefix(for: context).utf8.count + bodySuffix.utf8.count
    }

    /// The exact size of the body of a batch whose visitors have these sizes
    /// (``SerializedEvent/byteCount``): overhead, visitors, and a separator between each two.
    public static func bodyByteCount(context: EventContext, visitorByteCounts: some Sequence<Int>) -> Int {
        var total = overheadByteCount(for: context)
        var count = 0
        for size in visitorByteCounts {
            total += size
            count += 1
        }
        return total + max(0, count - 1) * visitorSeparator.utf8.count
    }

    static func writeHeader(_ context: EventContext, to writer: inout JSONWriter) {
        writer.byte(UInt8(ascii: "{"))
        writer.key("account_id")
        writer.write(context.accountId)
        writer.raw(", ")
        writer.key("project_id")
        writer.write(context.projectId)
        writer.raw(", ")
        writer.key("revision")
        writer.write(context.revision)
        writer.raw(", ")
        writer.key("client_name")
        writer.write(context.clientName)
        writer.raw(", ")
        writer.key("client_version")
        writer.write(context.clientVersion)
        writer.raw(", ")
        writer.key("anonymize_ip")
        context.anonymizeIP ? writer.raw("true") : writer.raw("false")
        writer.raw(", \"enrich_decisions\": true, \"visitors\": [")
    }
}
