/// Why a `--fail` plan could not be read: which step is wrong, and what is allowed.
public struct FaultPlanError: Error, Hashable, CustomStringConvertible {
    /// What is wrong with the step.
    public enum Problem: Error, Sendable, Hashable {
        /// The plan has no steps at all.
        case emptyPlan
        /// A step is empty (two commas in a row, or a trailing comma).
        case emptyStep
        /// The step is none of the known steps.
        case unknownStep
        /// `429` without `:SECONDS`.
        case missingRetryAfter
        /// The seconds after `429:` are not a whole number of zero or more.
        case invalidRetryAfter
        /// The count after `x` is not a whole number of one or more.
        case invalidCount
    }

    /// The 1-based position of the wrong step in the plan; 0 for ``Problem/emptyPlan``.
    public var position: Int
    /// The wrong step as written.
    public var step: String
    /// What is wrong with it.
    public var problem: Problem
    /// The steps the plan may use, as the message says them.
    public var allowed: String

    /// The steps an events plan (`--fail`) may use, for error messages and help.
    public static let allowedSteps = "200, 503, 429:SECONDS, 400, 413, timeout or reset, each optionally with a count such as 503x3"

    /// An error at step `position` (from 1; 0 for the whole plan) of a plan whose steps are `allowed`.
    public init(position: Int, step: String, problem: Problem, allowed: String = FaultPlanError.allowedSteps) {
        self.position = position
        self.step = step
        self.problem = problem
        self.allowed = allowed
    }

    public var description: String {
        let quoted = "step \(position) \"\(step)\""
        let what = switch problem {
        case .emptyPlan: "fault plan is empty"
        case .emptyStep: "fault plan step \(position) is empty"
        case .unknownStep: "fault plan \(quoted) is not a known step"
        case .missingRetryAfter: "fault plan \(quoted) needs the Retry-After seconds, as in 429:2"
        case .invalidRetryAfter: "fault plan \(quoted) has invalid Retry-After seconds (a whole number of 0 or more)"
        case .invalidCount: "fault plan \(quoted) has an invalid count (a whole number of 1 or more after x)"
        }
        return "\(what); steps are comma-separated: \(allowed)"
    }
}
