/// An option of `decide`, `decide(keys:)` and `decideAll` (spec `decisions.md` §10.3).
///
/// The raw values are the reference SDK's names, which `eventspool decide` reads.
public enum OptimizelyDecideOption: String, Sendable, Hashable, CaseIterable {
    /// Send no impression (the DECISION notification still fires, with
    /// `decision_event_dispatched: false`).
    case disableDecisionEvent = "DISABLE_DECISION_EVENT"
    /// `decide(keys:)` and `decideAll`: leave disabled flags out of the result. Their
    /// impressions and notifications are still sent, as the reference does. `decide(key:)`
    /// ignores it and always returns its decision.
    case enabledFlagsOnly = "ENABLED_FLAGS_ONLY"
    /// Neither read nor write the user profile service in this call.
    case ignoreUserProfileService = "IGNORE_USER_PROFILE_SERVICE"
    /// Put the decision's reasons in ``OptimizelyDecision/reasons``.
    case includeReasons = "INCLUDE_REASONS"
    /// Leave ``OptimizelyDecision/variables`` empty.
    case excludeVariables = "EXCLUDE_VARIABLES"
}
