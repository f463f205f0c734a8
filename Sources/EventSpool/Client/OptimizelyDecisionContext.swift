/// What a forced decision applies to: a flag, or one rule of a flag (spec `decisions.md` §8).
///
/// ```swift
/// user.setForcedDecision(context: OptimizelyDecisionContext(flagKey: "new_nav", ruleKey: "new_nav_test"),
///                        decision: OptimizelyForcedDecision(variationKey: "on"))
/// ```
public struct OptimizelyDecisionContext: Sendable, Hashable {
    /// The flag.
    public var flagKey: String
    /// The rule (a feature test or a rollout rule), or `nil` for the flag itself.
    public var ruleKey: String?

    /// Creates a context for a flag (`ruleKey` `nil`) or one of its rules.
    public init(flagKey: String, ruleKey: String? = nil) {
        self.flagKey = flagKey
        self.ruleKey = ruleKey
    }
}

/// The variation a forced decision gives: looked up by key among the variations of the flag's
/// rules when a decision is made (an unknown key is reported in the reasons and ignored).
public struct OptimizelyForcedDecision: Sendable, Hashable {
    /// The variation's key.
    public var variationKey: String

    /// Creates a forced decision.
    public init(variationKey: String) {
        self.variationKey = variationKey
    }
}
