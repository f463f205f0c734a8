/// The client's DECISION notification: which decision was made for whom (spec `decisions.md`
/// §15).
///
/// ```swift
/// center.addListener(for: .decision) { notification in
///     if case .decision(let decision) = notification, decision.type == .flag {
///         print(decision.userId, decision.decisionInfo["variation_key"] ?? nil)
///     }
/// }
/// ```
public struct DecisionNotification: Sendable, Hashable {
    /// The kind of call that decided.
    public enum DecisionType: String, Sendable, Hashable, CaseIterable {
        /// `activate` / `getVariation` on an A/B test.
        case abTest = "ab-test"
        /// `activate` / `getVariation` on a flag's feature test.
        case featureTest = "feature-test"
        /// `isFeatureEnabled`.
        case feature
        /// `getFeatureVariable…`.
        case featureVariable = "feature-variable"
        /// `getAllFeatureVariables`.
        case allFeatureVariables = "all-feature-variables"
        /// `decide`, `decide(keys:)`, `decideAll`: one per decided flag.
        case flag
    }

    /// The kind of call.
    public var type: DecisionType
    /// The user.
    public var userId: String
    /// The user's attributes (empty when none were given).
    public var attributes: UserAttributes
    /// What was decided, with the reference's keys for each type: `flag_key`, `enabled`,
    /// `variables`, `variation_key`, `rule_key`, `reasons`, `decision_event_dispatched`,
    /// `experiment_id`, `variation_id` for a flag; `experiment_key`, `variation_key` for an
    /// A/B or feature test; `feature_key`, `feature_enabled`, `source`, `source_info` (and the
    /// variable's key, value and type, or all values) for the legacy feature calls.
    public var decisionInfo: EventDictionary
}

/// The client's ACTIVATE notification, sent for every impression when someone listens.
public struct ActivateNotification: Sendable, Hashable {
    /// The impression's experiment (the empty experiment, with `""` ids, when there was none).
    public var experiment: ProjectConfig.Experiment
    /// The user.
    public var userId: String
    /// The user's attributes.
    public var attributes: UserAttributes
    /// The variation, when there was one.
    public var variation: ProjectConfig.Variation?
    /// The impression alone as a request to the Events API.
    public var logEvent: LogEvent
}

/// The client's TRACK notification, sent for every conversion when someone listens.
public struct TrackNotification: Sendable, Hashable {
    /// The event's key.
    public var eventKey: String
    /// The user.
    public var userId: String
    /// The user's attributes.
    public var attributes: UserAttributes
    /// The event tags, when given.
    public var eventTags: EventTags?
    /// The conversion alone as a request to the Events API.
    public var logEvent: LogEvent
}
