/// The lookup maps of spec `decisions.md` §2.3–§2.4, built as the reference builds them.
extension ProjectConfig {
    mutating func buildLookups(topLevel: [Experiment], groupMembers: [(Group, [Experiment])]) throws(DatafileError) {
        for attribute in attributes { attributeByKey[attribute.key] = attribute }
        for event in events { eventByKey[event.key] = event }
        for group in groups { groupById[group.id] = group }
        for audience in audiences { audienceById[audience.id] = audience }

        // experiment_id_map: experiments, then rollout rules, then group experiments; a
        // repeated id replaces the entry but keeps its first position (a Python dict).
        var experimentOrder: [String] = []
        func put(_ experiment: Experiment) {
            if experimentById.updateValue(experiment, forKey: experiment.id) == nil { experimentOrder.append(experiment.id) }
        }
        topLevel.forEach(put)
        var rolloutOrder: [String] = []
        for rollout in rollouts where rolloutById.updateValue(rollout, forKey: rollout.id) == nil {
            rolloutOrder.append(rollout.id)
        }
        for id in rolloutOrder { rolloutById[id]?.experiments.forEach(put) }
        var groupOrder: [String] = []
        var lastGroupMembers: [String: [Experiment]] = [:]
        for (group, members) in groupMembers {
            if lastGroupMembers.updateValue(members, forKey: group.id) == nil { groupOrder.append(group.id) }
        }
        for id in groupOrder { lastGroupMembers[id]?.forEach(put) }

        try buildFlags()

        var variableTypes: [String: String] = [:]
        for flag in uniqueFeatureFlags {
            for variable in flag.variables {
                variableTypes[variable.id] = variable.type
                variableValues.add(variable.defaultValue, type: variable.type)
            }
        }
        for id in experimentOrder {
            guard let experiment = experimentById[id] else { continue }
            experimentByKey[experiment.key] = experiment
            for variation in experiment.lookupVariations {
                variableValuesByVariationId[variation.id] = variation
                for usage in variation.variableValues {
                    if let type = variableTypes[usage.id] { variableValues.add(usage.value, type: type) }
                }
            }
        }
    }

    /// Flags by key, their feature tests, the everyone-else variation of feature-rollout
    /// experiments (§2.4), and each flag's variations (§2.3).
    private mutating func buildFlags() throws(DatafileError) {
        for (flagIndex, flag) in featureFlags.enumerated() {
            if let index = flagIndexByKey[flag.key] {
                uniqueFeatureFlags[index] = flag
            } else {
                flagIndexByKey[flag.key] = uniqueFeatureFlags.count
                uniqueFeatureFlags.append(flag)
            }
            // A missing experiment or rollout fails the whole datafile, as in the reference.
            for (index, id) in flag.experimentIds.enumerated() where experimentById[id] == nil {
                throw .unknownReference(path: "featureFlags[\(flagIndex)].experimentIds[\(index)]", id: id, expected: "an experiment id")
            }
            if !flag.rolloutId.isEmpty, rolloutById[flag.rolloutId] == nil {
                throw .unknownReference(path: "featureFlags[\(flagIndex)].rolloutId", id: flag.rolloutId, expected: "a rollout id")
            }
        }
        for flag in uniqueFeatureFlags {
            featureTestIds.formUnion(flag.experimentIds)
            let rollout = flag.rolloutId.isEmpty ? nil : rolloutById[flag.rolloutId]
            // Feature rollouts: the first variation of the last rollout rule joins the
            // experiment, with a range up to 10000 after the experiment's own.
            if let everyoneElse = rollout?.experiments.last?.variations.first {
                for id in flag.experimentIds where experimentById[id]?.type == "fr" {
                    experimentById[id]?.append(everyoneElse)
                    experimentById[id]?.trafficAllocation.append(TrafficRange(entityId: everyoneElse.id, endOfRange: Self.maxEndOfRange))
                }
            }
            var variations: [Variation] = []
            var seen = Set<String>()
            let ruleIds = flag.experimentIds + (rollout?.experiments.map(\.id) ?? [])
            for id in ruleIds {
                for variation in experimentById[id]?.lookupVariations ?? [] where seen.insert(variation.id).inserted {
                    variations.append(variation)
                }
            }
            flagVariations[flag.key] = variations
        }
    }

    /// The end of the last possible traffic range.
    static let maxEndOfRange = 10_000
}
