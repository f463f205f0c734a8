/// The decision of one flag for one user (spec `decisions.md` §10.5).
///
/// ```swift
/// let decision = user.decide(key: "new_nav")
/// if decision.enabled, case .string(let color)? = decision.variables["nav_color"] { … }
/// ```
///
/// A decision that could not be made (an unknown flag, a contextual-bandit experiment) is an
/// error decision: no variation, disabled, no variables, and a reason saying why, whatever the
/// options. Deciding never throws.
public struct OptimizelyDecision: Sendable, Equatable {
    /// The variation's key; `nil` when the user got none.
    public var variationKey: String?
    /// Whether the flag is on for the user (the variation's `featureEnabled`).
    public var enabled: Bool
    /// Every variable of the flag by key, typed (`bool`, `int`, `double`, `string`, or a JSON
    /// value), in datafile order; empty with ``OptimizelyDecideOption/excludeVariables``. A value
    /// that cannot be read as its type is `null`.
    public var variables: EventDictionary
    /// The rule (feature test or rollout rule) that decided; `nil` for a flag-level forced
    /// decision or when nothing matched.
    public var ruleKey: String?
    /// The flag.
    public var flagKey: String
    /// The user the decision is for.
    public var userContext: OptimizelyUserContext
    /// Why, step by step, with ``OptimizelyDecideOption/includeReasons`` (or for an error
    /// decision); empty otherwise. The texts follow the reference's but are not a contract.
    public var reasons: [String]

    /// Creates a decision.
    public init(variationKey: String?, enabled: Bool, variables: EventDictionary, ruleKey: String?, flagKey: String,
                userContext: OptimizelyUserContext, reasons: [String]) {
        self.variationKey = variationKey
        self.enabled = enabled
        self.variables = variables
        self.ruleKey = ruleKey
        self.flagKey = flagKey
        self.userContext = userContext
        self.reasons = reasons
    }

    /// The reason of the error decision of a client without a datafile (`decisions.md` §10.2).
    static let notConfiguredReason = "Optimizely SDK not configured properly yet."

    /// An error decision: no variation, disabled, no variables, with its reasons.
    static func error(flagKey: String, user: OptimizelyUserContext, reasons: [String]) -> OptimizelyDecision {
        OptimizelyDecision(variationKey: nil, enabled: false, variables: [:], ruleKey: nil, flagKey: flagKey,
                           userContext: user, reasons: reasons)
    }
}
