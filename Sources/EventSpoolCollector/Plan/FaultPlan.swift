/// The answers the collector gives to successive valid requests: the `--fail` plan.
///
/// A plan is a list of steps used in turn, each for `count` requests, the last step
/// repeating for ever. It is a pure value: ``step(forRequestAt:)`` says what to do with the
/// n-th valid request and nothing else changes.
///
/// ```swift
/// let plan = try FaultPlan(parsing: "503x2,reset,429:1,200")
/// plan.step(forRequestAt: 0) // .serviceUnavailable
/// plan.step(forRequestAt: 2) // .reset
/// plan.step(forRequestAt: 9) // .ok (the last step repeats)
/// ```
public struct FaultPlan: Sendable, Hashable, CustomStringConvertible {
    /// One step of a plan and how many successive requests it answers.
    public struct Entry: Sendable, Hashable {
        /// What to do.
        public var step: FaultStep
        /// For how many successive requests (1 or more); the plan's last entry repeats past it.
        public var count: Int

        /// An entry answering `count` requests (at least 1) with `step`.
        public init(_ step: FaultStep, count: Int = 1) {
            self.step = step
            self.count = max(count, 1)
        }
    }

    /// The entries in order; never empty.
    public let entries: [Entry]

    /// The default: every valid request is answered `204 No Content`.
    public static let alwaysNoContent = FaultPlan([])

    /// A plan of `entries`; an empty list means ``alwaysNoContent``.
    public init(_ entries: [Entry]) {
        self.entries = entries.isEmpty ? [Entry(.noContent)] : entries
    }

    /// A plan of `steps`, one request each, the last repeating.
    public init(steps: [FaultStep]) {
        self.init(steps.map { Entry($0) })
    }

    /// Reads the `--fail` syntax: comma-separated steps `200`, `503`, `429:SECONDS`, `400`,
    /// `413`, `timeout`, `reset`, each optionally followed by `xCOUNT` (`503x3`). Spaces
    /// around steps are ignored.
    ///
    /// - Throws: ``FaultPlanError`` naming the first wrong step and what is allowed.
    public init(parsing text: String) throws(FaultPlanError) {
        let trimmed = text.trimmingSpaces
        guard !trimmed.isEmpty else { throw FaultPlanError(position: 0, step: text, problem: .emptyPlan) }
        var entries: [Entry] = []
        for (offset, piece) in trimmed.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            entries.append(try Self.parseEntry(String(piece).trimmingSpaces, position: offset + 1))
        }
        self.entries = entries
    }

    private static func parseEntry(_ text: String, position: Int) throws(FaultPlanError) -> Entry {
        func failure(_ problem: FaultPlanError.Problem) -> FaultPlanError {
            FaultPlanError(position: position, step: text, problem: problem)
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
        let step: FaultStep
        switch stepText {
        case "200": step = .ok
        case "503": step = .serviceUnavailable
        case "400": step = .badRequest
        case "413": step = .payloadTooLarge
        case "timeout": step = .timeout
        case "reset": step = .reset
        case "429": throw failure(.missingRetryAfter)
        case _ where stepText.hasPrefix("429:"):
            let seconds = stepText.dropFirst(4)
            guard let parsed = Int(seconds), parsed >= 0, seconds.allSatisfy(\.isASCIIDigit) else {
                throw failure(.invalidRetryAfter)
            }
            step = .tooManyRequests(retryAfterSeconds: parsed)
        default: throw failure(.unknownStep)
        }
        return Entry(step, count: count)
    }

    /// The step for the valid request at `index` (0 for the first request the plan answers):
    /// the entries in turn, each for its count, then the last step for ever.
    public func step(forRequestAt index: Int) -> FaultStep {
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

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

extension StringProtocol {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
