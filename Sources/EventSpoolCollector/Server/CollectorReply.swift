import EventSpool

/// What the connection does after a request: the I/O instruction the ledger hands to the
/// channel handler.
enum CollectorReply: Equatable {
    /// Send a response.
    case respond(status: Int, headers: [HTTPHeader], body: String)
    /// Send nothing and keep the connection open (the `timeout` step).
    case hold
    /// Close the connection without a response (the `reset` step).
    case reset

    /// The reply for a valid request answered by `step`.
    static func reply(for step: FaultStep) -> CollectorReply {
        switch step {
        case .timeout: return .hold
        case .reset: return .reset
        case .noContent, .ok: return .respond(status: step.status ?? 204, headers: [], body: "")
        case .tooManyRequests(let seconds):
            return .respond(status: 429, headers: [jsonContent, HTTPHeader(name: "Retry-After", value: "\(seconds)")], body: faultBody(step))
        case .serviceUnavailable, .badRequest, .payloadTooLarge:
            return .respond(status: step.status ?? 500, headers: [jsonContent], body: faultBody(step))
        }
    }

    /// The reply for a refused request.
    static func reply(for rejection: RequestRejection) -> CollectorReply {
        var headers = [jsonContent]
        if rejection.status == 405 { headers.append(HTTPHeader(name: "Allow", value: "POST")) }
        return .respond(status: rejection.status, headers: headers, body: rejection.responseBody)
    }

    /// `Content-Type: application/json`.
    static let jsonContent = HTTPHeader(name: "Content-Type", value: "application/json")

    /// A response with `status` and the JSON body `{"error": MESSAGE}`, plus `extra` headers.
    static func error(_ status: Int, _ message: String, extra: [HTTPHeader] = []) -> CollectorReply {
        .respond(status: status, headers: [jsonContent] + extra, body: RequestRejection(status: status, message: message).responseBody)
    }

    private static func faultBody(_ step: FaultStep) -> String {
        #"{"error": "injected fault \#(step)"}"#
    }
}
