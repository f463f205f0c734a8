/// What the datafile server answered, as far as polling cares: the status, the headers that
/// matter, and the body.
package struct DatafileResponse: Sendable, Hashable {
    /// The HTTP status code.
    package var status: Int
    /// The `Last-Modified` header, as sent (echoed verbatim in `If-Modified-Since`).
    package var lastModified: String?
    /// The `Retry-After` header, as sent (seconds or an HTTP date).
    package var retryAfter: String?
    /// The body (the datafile on a 2xx).
    package var body: [UInt8]

    /// A response.
    package init(status: Int, lastModified: String? = nil, retryAfter: String? = nil, body: [UInt8] = []) {
        self.status = status
        self.lastModified = lastModified
        self.retryAfter = retryAfter
        self.body = body
    }

    /// The polling view of a transport's response: its status, the two headers polling reads,
    /// and its body.
    package init(_ response: HTTPResponse) {
        self.init(status: response.status, lastModified: response.header("Last-Modified"), retryAfter: response.header("Retry-After"), body: response.body)
    }
}
