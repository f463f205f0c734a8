/// What the collector does with one valid request: answer with a status, or fail the way a
/// network does.
public enum FaultStep: Sendable, Hashable, CustomStringConvertible {
    /// `204 No Content`: the collector's answer when no plan is given. Not written in a plan.
    case noContent
    /// `200`: `200 OK` with an empty body.
    case ok
    /// `503`: `503 Service Unavailable`.
    case serviceUnavailable
    /// `429:SECONDS`: `429 Too Many Requests` with `Retry-After: SECONDS`.
    case tooManyRequests(retryAfterSeconds: Int)
    /// `400`: `400 Bad Request`, even though the body is valid.
    case badRequest
    /// `413`: `413 Payload Too Large`.
    case payloadTooLarge
    /// `timeout`: no answer; the connection is held open for ``Collector/holdDuration`` or
    /// until the collector shuts down.
    case timeout
    /// `reset`: the connection is closed (with a TCP reset) without an answer.
    case reset

    /// The HTTP status sent, or `nil` when the step sends no response.
    public var status: Int? {
        switch self {
        case .noContent: 204
        case .ok: 200
        case .serviceUnavailable: 503
        case .tooManyRequests: 429
        case .badRequest: 400
        case .payloadTooLarge: 413
        case .timeout, .reset: nil
        }
    }

    /// The step as written in a plan (`503`, `429:2`, `timeout`); `204` for ``noContent``.
    public var description: String {
        switch self {
        case .tooManyRequests(let seconds): "429:\(seconds)"
        case .timeout: "timeout"
        case .reset: "reset"
        default: status.map(String.init) ?? ""
        }
    }
}

extension FaultStep: PlanStep {
    /// ``noContent``: every valid batch is answered 204 when no plan is given.
    public static var unplanned: FaultStep { .noContent }

    /// The steps a `--fail` plan may use.
    public static var allowedSteps: String { FaultPlanError.allowedSteps }

    /// Reads `200`, `503`, `429:SECONDS`, `400`, `413`, `timeout` or `reset`.
    public static func parse(_ text: Substring) -> Result<FaultStep, FaultPlanError.Problem> {
        switch text {
        case "200": return .success(.ok)
        case "503": return .success(.serviceUnavailable)
        case "400": return .success(.badRequest)
        case "413": return .success(.payloadTooLarge)
        case "timeout": return .success(.timeout)
        case "reset": return .success(.reset)
        default:
            return RetryAfterStep.seconds(in: text, after: "429")?.map { .tooManyRequests(retryAfterSeconds: $0) }
                ?? .failure(.unknownStep)
        }
    }
}
