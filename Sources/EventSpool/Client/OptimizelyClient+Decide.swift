/// `decide`, `decide(keys:)` and `decideAll` (spec `decisions.md` §10), reached through
/// ``OptimizelyUserContext``.
extension OptimizelyClient {
    /// Decides one flag; ``OptimizelyDecideOption/enabledFlagsOnly`` is dropped, so the
    /// decision is always returned. The client's default options are never changed (the
    /// reference's are, §10.2: a deliberate difference).
    func decide(_ user: OptimizelyUserContext, key: String, options: [OptimizelyDecideOption]) -> OptimizelyDecision {
        var effective = defaultDecideOptions.union(options)
        effective.remove(.enabledFlagsOnly)
        guard let active = current(failing: "decide") else {
            return .error(flagKey: key, user: user, reasons: [OptimizelyDecision.notConfiguredReason])
        }
        guard active.config.featureFlag(key: key) != nil else {
            logger.error("No feature flag was found for key '\(key)'.")
            return .error(flagKey: key, user: user, reasons: ["No flag was found for key \"\(key)\"."])
        }
        let decisions = decide(user, active: active, keys: [key], effectiveOptions: effective)
        return decisions.first { $0.flagKey == key } ?? .error(flagKey: key, user: user, reasons: [])
    }

    /// Decides flags in order, with the client's default options added; none without a
    /// datafile (the reference's `{}`).
    func decide(_ user: OptimizelyUserContext, keys: [String], options: [OptimizelyDecideOption]) -> [OptimizelyDecision] {
        guard let active = current(failing: "decide_for_keys") else { return [] }
        return decide(user, active: active, keys: keys, effectiveOptions: defaultDecideOptions.union(options))
    }

    /// Decides every flag of the datafile, in datafile order; none without a datafile.
    func decideAll(_ user: OptimizelyUserContext, options: [OptimizelyDecideOption]) -> [OptimizelyDecision] {
        guard let active = current(failing: "decide_all") else { return [] }
        return decide(user, active: active, keys: active.config.featureFlags.map(\.key),
                      effectiveOptions: defaultDecideOptions.union(options))
    }

    /// The reference's `_decide_for_keys`: flag-level forced decisions first, then the other
    /// flags with one profile lookup and one save, then one decision (impression and
    /// notification) per known key, in order.
    private func decide(_ user: OptimizelyUserContext, active: ActiveConfig, keys: [String],
                        effectiveOptions options: Set<OptimizelyDecideOption>) -> [OptimizelyDecision] {
        let config = active.config
        let recording = options.contains(.includeReasons)
        let decisionUser = user.decisionUser(forcedVariations: forcedVariations(of: user.userId))
        var results = OrderedDecisions()
        var validKeys: [String] = []
        var reasonsByKey: [String: [String]] = [:]
        var flagDecisions: [String: FlagDecision] = [:]
        var toDecide: [ProjectConfig.FeatureFlag] = []

        for key in keys {
            guard let flag = config.featureFlag(key: key) else {
                results.put(.error(flagKey: key, user: user, reasons: []))
                continue
            }
            validKeys.append(key)
            var reasons = DecisionReasons(recording: recording)
            if let forced = active.decisions.forcedDecision(flagKey: key, ruleKey: nil, user: decisionUser, reasons: &reasons) {
                flagDecisions[key] = FlagDecision(experiment: nil, variation: forced, source: .featureTest)
            } else {
                toDecide.append(flag)
            }
            reasonsByKey[key] = reasons.messages
        }

        var tracker = options.contains(.ignoreUserProfileService) ? nil : profileTracker(for: user.userId)
        for flag in toDecide {
            let decision = active.decisions.decision(for: flag, user: decisionUser, tracker: &tracker, recordingReasons: recording)
            if decision.isError {
                // An error decision carries its reasons whatever the options.
                let reasons = recording ? decision.reasons : decision.errorReason.map { [$0] } ?? []
                results.put(.error(flagKey: flag.key, user: user, reasons: reasons))
                if let index = validKeys.firstIndex(of: flag.key) { validKeys.remove(at: index) }
            }
            flagDecisions[flag.key] = decision
            reasonsByKey[flag.key, default: []] += decision.reasons
        }
        save(tracker)

        // The call's impressions go to the processor together, in one transaction on the durable one.
        var gathered: [UserEvent]? = notificationCenter.hasListeners(for: .activate) ? nil : []
        for key in validKeys {
            guard let flag = config.featureFlag(key: key), let decision = flagDecisions[key] else { continue }
            let made = makeDecision(active, flag: flag, decision: decision, reasons: reasonsByKey[key] ?? [], user: user,
                                    options: options, gathered: &gathered)
            if !options.contains(.enabledFlagsOnly) || made.enabled { results.put(made) }
        }
        send(contentsOf: gathered ?? [])
        return results.decisions
    }

    /// The reference's `_create_optimizely_decision`: the impression (unless disabled), the
    /// variables, the DECISION notification, the decision.
    private func makeDecision(_ active: ActiveConfig, flag: ProjectConfig.FeatureFlag, decision: FlagDecision, reasons: [String],
                              user: OptimizelyUserContext, options: Set<OptimizelyDecideOption>,
                              gathered: inout [UserEvent]?) -> OptimizelyDecision {
        let config = active.config
        let enabled = decision.enabled
        let ruleKey = decision.experiment?.key
        var dispatched = false
        if !options.contains(.disableDecisionEvent),
           decision.source == .featureTest || decision.source == .holdout || config.sendFlagDecisions {
            sendImpression(active, experiment: decision.experiment, variation: decision.variation, flagKey: flag.key,
                           ruleKey: ruleKey ?? "", ruleType: decision.source, enabled: enabled, userId: user.userId,
                           attributes: user.attributes, gathered: &gathered)
            dispatched = true
        }
        var variables = EventDictionary()
        if !options.contains(.excludeVariables) {
            variables = Self.variableValues(of: flag, variation: enabled ? decision.variation : nil, config: config)
        }
        let shownReasons = options.contains(.includeReasons) ? reasons : []
        notifyDecision(.flag, userId: user.userId, attributes: user.attributes, info: [
            "flag_key": .string(flag.key),
            "enabled": .bool(enabled),
            "variables": .object(variables),
            "variation_key": decision.variation.map { .string($0.key) } ?? .null,
            "rule_key": ruleKey.map(EventValue.string) ?? .null,
            "reasons": .array(shownReasons.map(EventValue.string)),
            "decision_event_dispatched": .bool(dispatched),
            "experiment_id": decision.experiment.map { .string($0.id) } ?? .null,
            "variation_id": decision.variation.map { .string($0.id) } ?? .null,
        ])
        return OptimizelyDecision(variationKey: decision.variation?.key, enabled: enabled, variables: variables,
                                  ruleKey: ruleKey, flagKey: flag.key, userContext: user, reasons: shownReasons)
    }

    /// Every variable of `flag`, typed: the variation's value when an enabled variation sets
    /// one, else the default (spec §11).
    static func variableValues(of flag: ProjectConfig.FeatureFlag, variation: ProjectConfig.Variation?,
                               config: ProjectConfig) -> EventDictionary {
        var members: [EventDictionary.Member] = []
        members.reserveCapacity(flag.variables.count)
        for variable in flag.variables {
            members.append(.init(key: variable.key, value: config.value(of: variable, in: variation) ?? .null))
        }
        return EventDictionary(members: members)
    }
}

/// Decisions by flag key in the order keys were first put, a later decision for a key
/// replacing the earlier one in its place (a Python `dict`).
private struct OrderedDecisions {
    private(set) var decisions: [OptimizelyDecision] = []
    private var indexByKey: [String: Int] = [:]

    mutating func put(_ decision: OptimizelyDecision) {
        if let index = indexByKey[decision.flagKey] {
            decisions[index] = decision
        } else {
            indexByKey[decision.flagKey] = decisions.count
            decisions.append(decision)
        }
    }
}
