/// A datafile request to make: what ``DatafilePollingStateMachine`` asks its driver to send.
package struct DatafileRequest: Sendable, Hashable {
    /// Always `GET`.
    package var method: String
    /// The datafile's URL.
    package var url: String
    /// `If-Modified-Since` (the `Last-Modified` of the last accepted datafile, when it had
    /// one) and `Authorization: Bearer …` (with an access token), in that order.
    package var headers: [HTTPHeader]
    /// The longest the request may take, in milliseconds.
    package var timeoutMillis: Int64
    /// Which try of its poll this is: 1 for the first, 2 for the first retry, and so on.
    package var attempt: Int

    /// A request.
    package init(method: String = "GET", url: String, headers: [HTTPHeader], timeoutMillis: Int64, attempt: Int) {
        self.method = method
        self.url = url
        self.headers = headers
        self.timeoutMillis = timeoutMillis
        self.attempt = attempt
    }

    /// The first value of the header `name`, compared without regard to case.
    package func header(_ name: String) -> String? {
        headers.first(named: name)
    }
}
