import EventSpool

/// The collector's checks of a request, as a pure function: route, size, JSON syntax, and the
/// keys spec §4 requires.
///
/// Validation comes before the fault plan, and an invalid request does **not** use a plan
/// step: the plan answers only valid batches, so `--fail 503x2` means "the first two valid
/// batches get 503" whatever malformed requests arrive in between.
///
/// ```swift
/// switch RequestValidation.validate(method: "POST", path: "/v1/events", body: body, byteCount: body.count) {
/// case .success(let batch): print(batch.uuids)
/// case .failure(let rejection): print(rejection.status, rejection.message)
/// }
/// ```
public enum RequestValidation {
    /// The largest body accepted, in bytes; a larger one is answered 400.
    public static let maximumBodyBytes = 3_500_000

    /// The deepest nesting of arrays and objects accepted; a deeper body is answered 400
    /// instead of exhausting the stack. Above EventSpool's default (`JSONParser.defaultMaxDepth`),
    /// because a batch puts an event's tags seven levels down, and tags as deep as that
    /// default must still arrive.
    public static let maximumDepth = 512

    /// Whether `path` (its query string aside) is the events endpoint: any path ending in
    /// `/v1/events`.
    public static func isEventsPath(_ path: String) -> Bool {
        let route = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return route.hasSuffix("/v1/events")
    }

    /// Checks one request, in this order: the path (404 unless it ends in `/v1/events`), the
    /// method (405 unless `POST`), the size (400 over ``maximumBodyBytes``), the JSON syntax
    /// (400, read by EventSpool's `JSONParser`, nested at most ``maximumDepth`` deep) and the
    /// required keys and their types (400).
    ///
    /// - Parameters:
    ///   - body: the body received; ignored when `byteCount` is over the limit (the collector
    ///     does not keep such a body).
    ///   - byteCount: the body's size as received.
    /// - Returns: the decoded batch, or the rejection to answer.
    public static func validate(method: String, path: String, body: [UInt8], byteCount: Int) -> Result<ReceivedBatch, RequestRejection> {
        guard isEventsPath(path) else {
            return .failure(RequestRejection(status: 404, message: "no such endpoint \(path); POST batches to /v1/events"))
        }
        guard method == "POST" else {
            return .failure(RequestRejection(status: 405, message: "method \(method) not allowed on /v1/events; use POST"))
        }
        guard byteCount <= maximumBodyBytes else {
            return .failure(RequestRejection(status: 400, message: "body is \(byteCount) bytes, over the limit of \(maximumBodyBytes)"))
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(body, maxDepth: maximumDepth)
        } catch {
            return .failure(RequestRejection(status: 400, message: "body is \(error)"))
        }
        do {
            return .success(try PayloadReader.batch(value))
        } catch {
            return .failure(RequestRejection(status: 400, message: error.message))
        }
    }
}
