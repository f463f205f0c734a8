import Logging

/// Decides experiments and flags for a user, exactly as the reference SDK's `DecisionService`
/// (spec `decisions.md` §5–§9): pure and deterministic over a config, a user and their
/// profile; no clock, no I/O.
///
/// The order, for a flag: its feature tests in turn (a forced decision on the rule, then
/// ``variation(for:user:tracker:reasons:)``), then its rollout rules. For an experiment:
/// status (`Running` only), forced variation, whitelist, user profile, audiences, bucketing.
struct DecisionService {
    let config: ProjectConfig
    let logger: Logger

    private var audiences: AudienceEvaluation { AudienceEvaluation(config: config, logger: logger) }

    // MARK: Experiments (§5)

    /// The variation of `experiment` for `user`. With a `tracker`, a stored variation is used
    /// and a new one recorded.
    func variation(for experiment: ProjectConfig.Experiment, user: DecisionUser, tracker: inout UserProfileTracker?,
                   reasons: inout DecisionReasons) -> ExperimentDecision {
        let userId = user.userId
        guard experiment.isRunning else {
            reasons.add("Experiment \"\(experiment.key)\" is not running.")
            return ExperimentDecision()
        }
        if let forced = forcedVariation(for: experiment.key, user: user) {
            reasons.add("Variation \"\(forced.key)\" is mapped to experiment \"\(experiment.key)\" and user \"\(userId)\" in the forced variation map")
            return ExperimentDecision(variation: forced)
        }
        if let whitelisted = experiment.forcedVariations[userId] {
            if let variation = config.experiment(key: experiment.key)?.variation(key: whitelisted) {
                reasons.add("User \"\(userId)\" is forced in variation \"\(whitelisted)\".")
                return ExperimentDecision(variation: variation)
            }
            logger.error("Variation key \"\(whitelisted)\" is not in datafile.")
        }
        if let stored = tracker?.variationId(forExperiment: experiment.id),
           let variation = config.experiment(key: experiment.key)?.variation(id: stored) {
            reasons.add("Returning previously activated variation ID \"\(variation.key)\" of experiment \"\(experiment.key)\" for user \"\(userId)\" from user profile.")
            return ExperimentDecision(variation: variation)
        }
        guard audiences.userMeetsAudiences(of: experiment, user: user, subject: .experiment(experiment.key), reasons: &reasons) else {
            reasons.add("User \"\(userId)\" does not meet conditions to be in experiment \"\(experiment.key)\".")
            return ExperimentDecision()
        }
        let bucketingId = user.bucketingId(reasons: &reasons)
        if experiment.isContextualBandit {
            // CMAB (§18.2): the prediction service is not called, which the reference answers
            // as an unreachable service: users in the CMAB traffic get an error decision.
            guard Bucketer.entityId(for: experiment, config: config, userId: userId, bucketingId: bucketingId, reasons: &reasons) != nil else {
                reasons.add("User \"\(userId)\" not in CMAB experiment \"\(experiment.key)\" due to traffic allocation.")
                reasons.add("User \"\(userId)\" is in no variation.")
                return ExperimentDecision()
            }
            let failure = "Failed to fetch CMAB data for experiment \(experiment.key)."
            reasons.add(failure)
            logger.error("CMAB experiments are not supported: no variation", metadata: ["experiment": "\(experiment.key)"])
            return ExperimentDecision(errorReason: failure)
        }
        let bucketed = Bucketer.variation(for: experiment, config: config, userId: userId, bucketingId: bucketingId, reasons: &reasons)
        guard let variation = bucketed else {
            reasons.add("User \"\(userId)\" is in no variation.")
            return ExperimentDecision()
        }
        reasons.add("User \"\(userId)\" is in variation \"\(variation.key)\" of experiment \(experiment.key).")
        tracker?.record(experimentId: experiment.id, variationId: variation.id)
        return ExperimentDecision(variation: variation)
    }

    /// The variation `setForcedVariation` gave this user for the experiment with this key.
    func forcedVariation(for experimentKey: String, user: DecisionUser) -> ProjectConfig.Variation? {
        guard let experiment = config.experiment(key: experimentKey),
              let variationId = user.forcedVariations[experiment.id]
        else { return nil }
        return experiment.variation(id: variationId)
    }

    // MARK: Forced decisions (§8)

    /// The variation of the user's forced decision for `flagKey` and `ruleKey`, looked up among
    /// the flag's variations; `nil` when there is none or its key names no variation.
    func forcedDecision(flagKey: String, ruleKey: String?, user: DecisionUser, reasons: inout DecisionReasons) -> ProjectConfig.Variation? {
        guard let forced = user.forcedDecisions[OptimizelyDecisionContext(flagKey: flagKey, ruleKey: ruleKey)] else { return nil }
        let variation = config.variations(ofFlag: flagKey).first { $0.key == forced.variationKey }
        let rule = ruleKey.flatMap { $0.isEmpty ? nil : $0 }
        switch (variation, rule) {
        case (.some, let rule?):
            reasons.add("Variation (\(forced.variationKey)) is mapped to flag (\(flagKey)), rule (\(rule)) and user (\(user.userId)) in the forced decision map.")
        case (.some, nil):
            reasons.add("Variation (\(forced.variationKey)) is mapped to flag (\(flagKey)) and user (\(user.userId)) in the forced decision map.")
        case (nil, let rule?):
            reasons.add("Invalid variation is mapped to flag (\(flagKey)), rule (\(rule)) and user (\(user.userId)) in the forced decision map.")
        case (nil, nil):
            reasons.add("Invalid variation is mapped to flag (\(flagKey)) and user (\(user.userId)) in the forced decision map.")
        }
        return variation
    }

    // MARK: Flags (§9)

    /// The decision for `flag` (without its flag-level forced decision, which the caller checks
    /// first): its feature tests in order, then its rollout.
    func decision(for flag: ProjectConfig.FeatureFlag, user: DecisionUser, tracker: inout UserProfileTracker?,
                  recordingReasons: Bool) -> FlagDecision {
        var reasons = DecisionReasons(recording: recordingReasons)
        for experimentId in flag.experimentIds {
            guard let experiment = config.experiment(id: experimentId) else { continue }
            if let forced = forcedDecision(flagKey: flag.key, ruleKey: experiment.key, user: user, reasons: &reasons) {
                return FlagDecision(experiment: experiment, variation: forced, source: .featureTest, reasons: reasons.messages)
            }
            var own = reasons.empty()
            let outcome = variation(for: experiment, user: user, tracker: &tracker, reasons: &own)
            // The reference's get_variation returns the reasons it was given plus its own, and
            // the caller appends all of them: earlier reasons repeat once per feature test.
            let before = reasons
            reasons.add(contentsOf: before)
            reasons.add(contentsOf: own)
            if outcome.isError {
                return FlagDecision(experiment: experiment, variation: nil, source: .featureTest,
                                    errorReason: outcome.errorReason, reasons: reasons.messages)
            }
            if let variation = outcome.variation {
                return FlagDecision(experiment: experiment, variation: variation, source: .featureTest, reasons: reasons.messages)
            }
        }
        var decision = rolloutDecision(for: flag, user: user, reasons: &reasons)
        decision.reasons = reasons.messages
        return decision
    }

    /// The rollout rules of `flag` in order; a rule whose audience matches but whose traffic
    /// misses jumps to the last rule ("Everyone Else"). No status check, no whitelist, no
    /// forced variation, no user profile.
    func rolloutDecision(for flag: ProjectConfig.FeatureFlag, user: DecisionUser, reasons: inout DecisionReasons) -> FlagDecision {
        let nothing = FlagDecision(experiment: nil, variation: nil, source: .rollout)
        guard !flag.rolloutId.isEmpty else { return nothing }
        guard let rollout = config.rollout(id: flag.rolloutId) else {
            reasons.add("There is no rollout of feature \(flag.key).")
            return nothing
        }
        // One rule per id, as the reference's map of them.
        var rules: [ProjectConfig.Experiment] = []
        var indexById: [String: Int] = [:]
        for rule in rollout.experiments {
            if let index = indexById[rule.id] { rules[index] = rule } else {
                indexById[rule.id] = rules.count
                rules.append(rule)
            }
        }
        guard !rules.isEmpty else {
            reasons.add("Rollout \(rollout.id) has no experiments.")
            return nothing
        }
        var index = 0
        while index < rules.count {
            let rule = rules[index]
            if let forced = forcedDecision(flagKey: flag.key, ruleKey: rule.key, user: user, reasons: &reasons) {
                return FlagDecision(experiment: rule, variation: forced, source: .rollout)
            }
            let bucketingId = user.bucketingId(reasons: &reasons)
            let isEveryoneElse = index == rules.count - 1
            let label = isEveryoneElse ? "Everyone Else" : String(index + 1)
            // Audiences and traffic are read from the id map's entry, as in the reference.
            let mapped = config.experiment(id: rule.id) ?? rule
            var skipToEveryoneElse = false
            if audiences.userMeetsAudiences(of: mapped, user: user, subject: .rule(label), reasons: &reasons) {
                reasons.add("User \"\(user.userId)\" meets audience conditions for targeting rule \(label).")
                if let variation = Bucketer.variation(for: mapped, config: config, userId: user.userId, bucketingId: bucketingId, reasons: &reasons) {
                    reasons.add("User \"\(user.userId)\" bucketed into a targeting rule \(label).")
                    return FlagDecision(experiment: rule, variation: variation, source: .rollout)
                }
                if !isEveryoneElse {
                    reasons.add("User \"\(user.userId)\" not bucketed into a targeting rule \(label). Checking \"Everyone Else\" rule now.")
                    skipToEveryoneElse = true
                }
            } else {
                reasons.add("User \"\(user.userId)\" does not meet audience conditions for targeting rule \(label).")
            }
            index = skipToEveryoneElse ? rules.count - 1 : index + 1
        }
        return nothing
    }
}
