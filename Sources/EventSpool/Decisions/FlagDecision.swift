/// The user a decision is made for: everything the decision engine reads about them.
struct DecisionUser: Sendable {
    /// The user id (whitelists, forced variations, profiles and events use it as it is).
    var userId: String
    /// The attributes, one value per key.
    var attributes: UserAttributes
    /// The user context's forced decisions.
    var forcedDecisions: [OptimizelyDecisionContext: OptimizelyForcedDecision] = [:]
    /// The segments `qualified` conditions check; `nil` when none were set.
    var qualifiedSegments: [String]? = nil
    /// The forced variations of this user (`setForcedVariation`): experiment id → variation id.
    var forcedVariations: [String: String] = [:]

    /// The id the bucketing key starts with: the `$opt_bucketing_id` attribute when it is a
    /// string, else the user id (spec §3.2).
    func bucketingId(reasons: inout DecisionReasons) -> String {
        switch attributes["$opt_bucketing_id"] {
        case .string(let id)?: return id
        case nil, .null?: return userId
        default:
            reasons.add("Bucketing ID attribute is not a string. Defaulted to user_id.")
            return userId
        }
    }
}

/// The outcome of deciding one experiment for a user (spec §5).
struct ExperimentDecision: Sendable {
    /// The variation, or `nil` when the user gets none.
    var variation: ProjectConfig.Variation?
    /// Whether the decision failed (a CMAB experiment, whose prediction service EventSpool
    /// does not call): the flag then gets an error decision.
    var isError: Bool { errorReason != nil }
    /// Why the decision failed.
    var errorReason: String? = nil
}

/// The outcome of deciding one flag for a user (spec §9.2): which rule, which variation, from
/// where.
struct FlagDecision: Sendable {
    /// The feature test or rollout rule that decided; `nil` for a flag-level forced decision or
    /// when nothing matched.
    var experiment: ProjectConfig.Experiment?
    /// The variation; `nil` when nothing matched.
    var variation: ProjectConfig.Variation?
    /// Where the decision came from (`rollout` also when nothing matched).
    var source: RuleType
    /// Why it is an error decision (spec §10.5), when it is one.
    var errorReason: String? = nil
    /// The reasons collected while deciding.
    var reasons: [String] = []

    /// Whether it is an error decision.
    var isError: Bool { errorReason != nil }

    /// Whether the flag is on: the variation's `featureEnabled`.
    var enabled: Bool { variation?.featureEnabled ?? false }
}
