/// What a server answered to one ``HTTPRequest``: the status, the header fields, and the body
/// (up to the request's ``HTTPRequest/maxResponseBytes``).
///
/// It is also what an ``EventDispatcher`` returns for a batch (``DispatchResponse``).
public struct HTTPResponse: Sendable, Hashable {
    /// The HTTP status code.
    public var status: Int
    /// The header fields, names as received.
    public var headers: [HTTPHeader]
    /// The body (may be empty), cut at the request's ``HTTPRequest/maxResponseBytes``.
    public var body: [UInt8]
    /// Whether the server sent more body than was kept.
    public var isBodyTruncated: Bool
    /// The URL that answered: the request's, or the last one a redirect led to. `nil` when
    /// not known (a response made by hand).
    public var url: String?

    /// A response.
    public init(status: Int, headers: [HTTPHeader] = [], body: [UInt8] = [], isBodyTruncated: Bool = false, url: String? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.isBodyTruncated = isBodyTruncated
        self.url = url
    }

    /// The first value of the header `name`, compared without regard to case.
    public func header(_ name: String) -> String? {
        headers.first(named: name)
    }

    /// Whether the status is 2xx.
    public var isSuccess: Bool { (200..<300).contains(status) }
}
