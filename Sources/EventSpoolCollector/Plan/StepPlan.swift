/// A step of a fault plan: what the collector does with one request of a route. Each route
/// has its step type (``FaultStep`` for event batches, ``DatafileFaultStep`` for datafiles)
/// and reads its steps from the `--fail` syntax.
public protocol PlanStep: Sendable, Hashable, CustomStringConvertible {
    /// The answer to every request when no plan is given.
    static var unplanned: Self { get }
    /// The steps a plan may use, for error messages and help.
    static var allowedSteps: String { get }
    /// Reads one step as written in a plan (its count removed), or says what is wrong with it.
    static func parse(_ text: Substring) -> Result<Self, FaultPlanError.Problem>
}

/// The answers the collector gives to successive requests of one route: a list of steps used
/// in turn, each for `count` requests, the last step repeating for ever. ``FaultPlan``
/// answers event batches, ``DatafileFaultPlan`` datafile requests.
///
/// It is a pure value: ``step(forRequestAt:)`` says what to do with the n-th request and
/// nothing else changes.
///
/// ```swift
/// let plan = try FaultPlan(parsing: "503x2,reset,429:1,200")
/// plan.step(forRequestAt: 0) // .serviceUnavailable
/// plan.step(forRequestAt: 2) // .reset
/// plan.step(forRequestAt: 9) // .ok (the last step repeats)
/// ```
public struct StepPlan<Step: PlanStep>: Sendable, Hashable, CustomStringConvertible {
    /// One step of a plan and how many successive requests it answers.
    public struct Entry: Sendable, Hashable {
        /// What to do.
        public var step: Step
        /// For how many successive requests (1 or more); the plan's last entry repeats past it.
        public var count: Int

        /// An entry answering `count` requests (at least 1) with `step`.
        public init(_ step: Step, count: Int = 1) {
            self.step = step
            self.count = max(count, 1)
        }
    }

    /// The entries in order; never empty.
    public let entries: [Entry]

    /// A plan of `entries`; an empty list answers every request with the step's
    /// ``PlanStep/unplanned`` answer.
    public init(_ entries: [Entry]) {
        self.entries = entries.isEmpty ? [Entry(Step.unplanned)] : entries
    }

    /// A plan of `steps`, one request each, the last repeating.
    public init(steps: [Step]) {
        self.init(steps.map { Entry($0) })
    }

    /// Reads the `--fail` syntax: comma-separated steps, each optionally followed by
    /// `xCOUNT` (`503x3`). Spaces around steps are ignored.
    ///
    /// - Throws: ``FaultPlanError`` naming the first wrong step and what is allowed.
    public init(parsing text: String) throws(FaultPlanError) {
        let trimmed = text.trimmingSpaces
        guard !trimmed.isEmpty else {
            throw FaultPlanError(position: 0, step: text, problem: .emptyPlan, allowed: Step.allowedSteps)
        }
        var entries: [Entry] = []
        for (offset, piece) in trimmed.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            entries.append(try Self.parseEntry(String(piece).trimmingSpaces, position: offset + 1))
        }
        self.entries = entries
    }

    private static func parseEntry(_ text: String, position: Int) throws(FaultPlanError) -> Entry {
        func failure(_ problem: FaultPlanError.Problem) -> FaultPlanError {
            FaultPlanError(position: position, step: text, problem: problem, allowed: Step.allowedSteps)
        }
        guard !text.isEmpty else { throw failure(.emptyStep) }
        var stepText = Substring(text)
        var count = 1
        if let marker = text.lastIndex(of: "x") {
            let countText = text[text.index(after: marker)...]
            guard let parsed = Int(countText), parsed >= 1, countText.allSatisfy(\.isASCIIDigit) else {
                throw failure(.invalidCount)
            }
            count = parsed
            stepText = text[..<marker]
        }
        switch Step.parse(stepText) {
        case .success(let step): return Entry(step, count: count)
        case .failure(let problem): throw failure(problem)
        }
    }

    /// The step for the request at `index` (0 for the first request the plan answers): the
    /// entries in turn, each for its count, then the last step for ever.
    public func step(forRequestAt index: Int) -> Step {
        var remaining = max(index, 0)
        for entry in entries {
            if remaining < entry.count { return entry.step }
            remaining -= entry.count
        }
        return entries[entries.count - 1].step
    }

    /// The plan in the `--fail` syntax (`503x2,reset,200`).
    public var description: String {
        entries.map { $0.count == 1 ? "\($0.step)" : "\($0.step)x\($0.count)" }.joined(separator: ",")
    }
}

/// The events route's plan: the `--fail` option.
public typealias FaultPlan = StepPlan<FaultStep>

extension StepPlan where Step == FaultStep {
    /// The default: every valid batch is answered `204 No Content`.
    public static var alwaysNoContent: FaultPlan { FaultPlan([]) }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

extension StringProtocol {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}

/// Reads `CODE:SECONDS` (a status with a Retry-After), for steps such as `429:2`.
enum RetryAfterStep {
    /// The seconds after `prefix:`, or the problem with them.
    static func seconds(in text: Substring, after prefix: String) -> Result<Int, FaultPlanError.Problem>? {
        if text == prefix { return .failure(.missingRetryAfter) }
        guard text.hasPrefix(prefix + ":") else { return nil }
        let seconds = text.dropFirst(prefix.count + 1)
        guard let parsed = Int(seconds), parsed >= 0, seconds.allSatisfy(\.isASCIIDigit) else {
            return .failure(.invalidRetryAfter)
        }
        return .success(parsed)
    }
}
