/// The calls before `decide` (spec `decisions.md` §6, §12, §13): experiments by key, flags
/// without forced decisions, forced variations, and `track`.
extension OptimizelyClient {
    /// Buckets the user into an experiment and sends its impression (`rule_type`
    /// `experiment`, no flag key, enabled). Works on any experiment key of the datafile,
    /// feature tests, group experiments and rollout rules included.
    ///
    /// - Returns: the variation's key, or `nil` when the user gets none (experiment not
    ///   running or unknown, audiences not met, traffic not allocated).
    @discardableResult
    public func activate(experimentKey: String, userId: String, attributes: UserAttributes = [:]) -> String? {
        guard isValid(experimentKey, name: "experiment_key"), let active = current(failing: "activate") else { return nil }
        guard let variationKey = getVariation(experimentKey: experimentKey, userId: userId, attributes: attributes),
              let experiment = active.config.experiment(key: experimentKey),
              let variation = experiment.variation(key: variationKey)
        else {
            logger.info("Not activating user \"\(userId)\".")
            return nil
        }
        logger.info("Activating user \"\(userId)\" in experiment \"\(experiment.key)\".")
        sendImpression(active, experiment: experiment, variation: variation, flagKey: "", ruleKey: experiment.key,
                       ruleType: .experiment, enabled: true, userId: userId, attributes: dedupe(attributes))
        return variation.key
    }

    /// The variation the user gets in an experiment, without an impression (a DECISION
    /// notification is sent).
    ///
    /// - Returns: the variation's key, or `nil` when the user gets none.
    public func getVariation(experimentKey: String, userId: String, attributes: UserAttributes = [:]) -> String? {
        guard isValid(experimentKey, name: "experiment_key"), let active = current(failing: "get_variation") else { return nil }
        guard let experiment = active.config.experiment(key: experimentKey) else {
            logger.info("Experiment key \"\(experimentKey)\" is invalid. Not activating user \"\(userId)\".")
            return nil
        }
        let attributes = dedupe(attributes)
        let user = DecisionUser(userId: userId, attributes: attributes, forcedVariations: forcedVariations(of: userId))
        var tracker = profileTracker(for: userId)
        var reasons = DecisionReasons(recording: false)
        let variation = active.decisions.variation(for: experiment, user: user, tracker: &tracker, reasons: &reasons).variation
        save(tracker)
        notifyDecision(active.config.isFeatureTest(experimentId: experiment.id) ? .featureTest : .abTest,
                       userId: userId, attributes: attributes, info: [
                           "experiment_key": .string(experimentKey),
                           "variation_key": variation.map { .string($0.key) } ?? .null,
                       ])
        return variation?.key
    }

    /// Sends a conversion for a datafile event. No decision is involved.
    ///
    /// - Returns: whether an event was handed to the event processor (`false` for an unknown
    ///   event key, or tags that cannot be sent, which are logged).
    @discardableResult
    public func track(eventKey: String, userId: String, attributes: UserAttributes = [:], eventTags: EventTags? = nil) -> Bool {
        guard isValid(eventKey, name: "event_key"), let active = current(failing: "track") else { return false }
        guard active.config.event(key: eventKey) != nil else {
            logger.error("Event \"\(eventKey)\" is not in datafile.")
            logger.info("Not tracking user \"\(userId)\" for event \"\(eventKey)\".")
            return false
        }
        let attributes = dedupe(attributes)
        let event: UserEvent
        do {
            event = try active.factory.makeConversion(eventKey: eventKey, userId: userId, attributes: attributes, tags: eventTags)
        } catch {
            logger.error("Not tracking user \"\(userId)\" for event \"\(eventKey)\": \(error)")
            return false
        }
        send(event)
        logger.info("Tracking event \"\(eventKey)\" for user \"\(userId)\".")
        if notificationCenter.hasListeners(for: .track) {
            notificationCenter.post(.track(TrackNotification(eventKey: eventKey, userId: userId, attributes: attributes,
                                                             eventTags: eventTags, logEvent: LogEvent.single(event))))
        }
        return true
    }

    /// Whether a flag is on for the user: its feature tests, then its rollout (no forced
    /// decisions). Sends the impression the reference sends: always for a feature test, and for
    /// a rollout or no match only with `sendFlagDecisions`.
    public func isFeatureEnabled(featureKey: String, userId: String, attributes: UserAttributes = [:]) -> Bool {
        guard isValid(featureKey, name: "feature_key"), let active = current(failing: "is_feature_enabled") else { return false }
        guard let flag = active.config.featureFlag(key: featureKey) else {
            logger.error("Feature \"\(featureKey)\" is not in datafile.")
            return false
        }
        let attributes = dedupe(attributes)
        let decision = decideFeature(flag, userId: userId, attributes: attributes, active: active)
        let enabled = decision.enabled
        let ruleKey = decision.experiment?.key ?? ""
        if decision.source == .rollout || decision.variation == nil, active.config.sendFlagDecisions {
            sendImpression(active, experiment: decision.experiment, variation: decision.variation, flagKey: flag.key,
                           ruleKey: ruleKey, ruleType: decision.source, enabled: enabled, userId: userId, attributes: attributes)
        }
        var sourceInfo = EventDictionary()
        if decision.source == .featureTest, let variation = decision.variation, let experiment = decision.experiment {
            sourceInfo = ["experiment_key": .string(experiment.key), "variation_key": .string(variation.key)]
            sendImpression(active, experiment: experiment, variation: variation, flagKey: flag.key, ruleKey: experiment.key,
                           ruleType: decision.source, enabled: enabled, userId: userId, attributes: attributes)
        }
        notifyDecision(.feature, userId: userId, attributes: attributes, info: [
            "feature_key": .string(featureKey),
            "feature_enabled": .bool(enabled),
            "source": .string(decision.source.rawValue),
            "source_info": .object(sourceInfo),
        ])
        return enabled
    }

    /// The keys of the flags that are on for the user, in datafile order; each flag is decided
    /// as ``isFeatureEnabled(featureKey:userId:attributes:)`` decides it, with its impression
    /// and notification.
    public func getEnabledFeatures(userId: String, attributes: UserAttributes = [:]) -> [String] {
        guard let active = current(failing: "get_enabled_features") else { return [] }
        return active.config.uniqueFlags.map(\.key).filter { isFeatureEnabled(featureKey: $0, userId: userId, attributes: attributes) }
    }

    /// Forces the user into a variation of an experiment (any key of the datafile's experiment
    /// key space), or clears that with `nil`. The status check still applies when deciding.
    ///
    /// - Returns: `true` when set or cleared; `false` for an unknown experiment or variation,
    ///   or an empty variation key.
    @discardableResult
    public func setForcedVariation(experimentKey: String, userId: String, variationKey: String?) -> Bool {
        guard isValid(experimentKey, name: "experiment_key"), let active = current(failing: "set_forced_variation") else { return false }
        guard let experiment = active.config.experiment(key: experimentKey) else {
            logger.error("Experiment key \"\(experimentKey)\" is not in datafile.")
            return false
        }
        guard let variationKey else {
            forcedVariations.withLock { _ = $0[userId]?.removeValue(forKey: experiment.id) }
            return true
        }
        guard !variationKey.isEmpty else { return false }
        guard let variation = experiment.variation(key: variationKey) else {
            logger.error("Variation key \"\(variationKey)\" is not in datafile.")
            return false
        }
        forcedVariations.withLock { $0[userId, default: [:]][experiment.id] = variation.id }
        return true
    }

    /// The variation key the user is forced into for an experiment, if any.
    public func getForcedVariation(experimentKey: String, userId: String) -> String? {
        guard !experimentKey.isEmpty, let active = current(failing: "get_forced_variation") else { return nil }
        let user = DecisionUser(userId: userId, attributes: [:], forcedVariations: forcedVariations(of: userId))
        return active.decisions.forcedVariation(for: experimentKey, user: user)?.key
    }

    // MARK: Shared

    /// The reference's `get_variation_for_feature`: a flag decided with a fresh context (no
    /// forced decisions) and its own profile lookup and save.
    func decideFeature(_ flag: ProjectConfig.FeatureFlag, userId: String, attributes: UserAttributes, active: ActiveConfig) -> FlagDecision {
        let user = DecisionUser(userId: userId, attributes: attributes, forcedVariations: forcedVariations(of: userId))
        var tracker = profileTracker(for: userId)
        let decision = active.decisions.decision(for: flag, user: user, tracker: &tracker, recordingReasons: false)
        save(tracker)
        return decision
    }

    /// Whether a key argument can name something (it is not empty); an empty one is logged as
    /// the reference logs it.
    func isValid(_ key: String, name: String) -> Bool {
        if key.isEmpty { logger.error("Provided \"\(name)\" is in an invalid format.") }
        return !key.isEmpty
    }

    /// Attributes with repeated keys merged as a Python `dict` merges them.
    func dedupe(_ attributes: UserAttributes) -> UserAttributes {
        EventDictionary(members: attributes.deduplicated)
    }
}
