import Logging

/// Whether a user meets an experiment's or rule's audiences (spec `decisions.md` §4.1).
struct AudienceEvaluation {
    let config: ProjectConfig
    let logger: Logger

    /// How the reasons name the rule being evaluated.
    enum Subject {
        /// An experiment or feature test, by key.
        case experiment(String)
        /// A rollout rule, by its 1-based position or "Everyone Else".
        case rule(String)
    }

    /// Evaluates `experiment`'s audience conditions (or audience ids) for `user`. UNKNOWN
    /// counts as not meeting them.
    func userMeetsAudiences(of experiment: ProjectConfig.Experiment, user: DecisionUser, subject: Subject,
                            reasons: inout DecisionReasons) -> Bool {
        switch subject {
        case .experiment(let key):
            reasons.add("Evaluating audiences for experiment \"\(key)\": \(experiment.audienceConditionsText).")
        case .rule(let label):
            reasons.add("Evaluating audiences for rule \(label): \(experiment.audienceConditionsText).")
        }
        let result: Bool
        if let tree = experiment.audiences {
            result = tree.evaluate { id in
                guard let audience = config.audience(id: id) else {
                    logger.error("Audience ID \"\(id)\" is not in datafile.")
                    return nil
                }
                return audience.conditions.evaluate(attributes: user.attributes, qualifiedSegments: user.qualifiedSegments)
            } ?? false
        } else {
            result = true
        }
        switch subject {
        case .experiment(let key):
            reasons.add("Audiences for experiment \"\(key)\" collectively evaluated to \(result ? "TRUE" : "FALSE").")
        case .rule(let label):
            reasons.add("Audiences for rule \(label) collectively evaluated to \(result ? "TRUE" : "FALSE").")
        }
        return result
    }
}
