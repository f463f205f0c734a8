/// One datafile request the collector received, as it was answered.
public struct ReceivedDatafileRequest: Sendable, Hashable {
    /// The request's number, from 1, over the datafile requests the collector received
    /// (event batches are numbered apart).
    public var seq: Int
    /// The HTTP method.
    public var method: String
    /// The request target (path and query).
    public var path: String
    /// The SDK key the path names, or `nil` when it names no datafile route.
    public var sdkKey: String?
    /// Whether the path is the authenticated route.
    public var authenticatedRoute: Bool
    /// The `If-Modified-Since` header, as sent.
    public var ifModifiedSince: String?
    /// The `Authorization` header, as sent.
    public var authorization: String?
    /// How the collector answered.
    public var outcome: ReceivedRequest.Outcome
    /// The `Last-Modified` sent with a 200 or 304.
    public var lastModified: String?

    /// Whether the request carried an `Authorization` header.
    public var hasAuthorization: Bool { authorization != nil }

    /// The status sent, or 0 when no response was sent.
    public var status: Int {
        if case .responded(let status) = outcome { return status }
        return 0
    }
}
