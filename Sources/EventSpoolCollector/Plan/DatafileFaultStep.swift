/// What the collector does with one datafile request for a known SDK key (authorized where
/// the route needs it): serve the datafile, or fail the way a CDN or a network does.
public enum DatafileFaultStep: Sendable, Hashable, CustomStringConvertible {
    /// `200`: serve the datafile, `200` with its `Last-Modified`, or `304 Not Modified` when the
    /// request's `If-Modified-Since` is not older. The answer when no plan is given.
    case serve
    /// `500`, `502`, `503`, `504`, `400`, `401`, `403`, `404`, `410`: answer with this status and
    /// a JSON error body.
    case status(Int)
    /// `429:SECONDS`: `429 Too Many Requests` with `Retry-After: SECONDS`.
    case tooManyRequests(retryAfterSeconds: Int)
    /// `invalid`: `200` with a body that is not a datafile (cut-off JSON) and a `Last-Modified`
    /// one second newer than the datafile's, as a CDN would serve a broken upload. A client
    /// that took its date would then be told 304 for the good datafile.
    case invalidBody
    /// `timeout`: no answer; the connection is held open for ``Collector/holdDuration`` or
    /// until the collector shuts down.
    case timeout
    /// `reset`: the connection is closed (with a TCP reset) without an answer.
    case reset

    /// The statuses a plan may name alone.
    static let plainStatuses: Set<Int> = [400, 401, 403, 404, 410, 500, 502, 503, 504]

    /// The step as written in a plan (`200`, `503`, `429:2`, `invalid`).
    public var description: String {
        switch self {
        case .serve: "200"
        case .status(let status): "\(status)"
        case .tooManyRequests(let seconds): "429:\(seconds)"
        case .invalidBody: "invalid"
        case .timeout: "timeout"
        case .reset: "reset"
        }
    }
}

extension DatafileFaultStep: PlanStep {
    /// ``serve``: every datafile request is served when no plan is given.
    public static var unplanned: DatafileFaultStep { .serve }

    /// The steps a `--datafile-fail` plan may use.
    public static var allowedSteps: String {
        "200, 500, 502, 503, 504, 400, 401, 403, 404, 410, 429:SECONDS, invalid, timeout or reset, each optionally with a count such as 503x3"
    }

    /// Reads one datafile step.
    public static func parse(_ text: Substring) -> Result<DatafileFaultStep, FaultPlanError.Problem> {
        switch text {
        case "200": return .success(.serve)
        case "invalid": return .success(.invalidBody)
        case "timeout": return .success(.timeout)
        case "reset": return .success(.reset)
        default:
            if let retryAfter = RetryAfterStep.seconds(in: text, after: "429") {
                return retryAfter.map { .tooManyRequests(retryAfterSeconds: $0) }
            }
            if text.count == 3, text.allSatisfy(\.isASCIIDigit), let status = Int(text), plainStatuses.contains(status) {
                return .success(.status(status))
            }
            return .failure(.unknownStep)
        }
    }
}

/// The datafile route's plan: the `--datafile-fail` option.
///
/// ```swift
/// let plan = try DatafileFaultPlan(parsing: "503x2,invalid,200")
/// plan.step(forRequestAt: 2) // .invalidBody
/// ```
public typealias DatafileFaultPlan = StepPlan<DatafileFaultStep>

extension StepPlan where Step == DatafileFaultStep {
    /// The default: every datafile request is served.
    public static var alwaysServe: DatafileFaultPlan { DatafileFaultPlan([]) }
}
