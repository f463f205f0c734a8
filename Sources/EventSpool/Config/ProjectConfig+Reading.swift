/// Reading each kind of datafile entity, with the reference's schema (spec `decisions.md` §2.1).
extension ProjectConfig {
    static func readAttribute(_ item: DatafileReader) throws(DatafileError) -> Attribute {
        Attribute(id: try item.requiredString("id"), key: try item.requiredString("key"))
    }

    static func readEvent(_ item: DatafileReader) throws(DatafileError) -> Event {
        Event(id: try item.requiredString("id"), key: try item.requiredString("key"),
              experimentIds: try item.requiredStringArray("experimentIds"))
    }

    static func readTrafficRange(_ item: DatafileReader) throws(DatafileError) -> TrafficRange {
        TrafficRange(entityId: try item.requiredString("entityId"), endOfRange: try item.requiredInteger("endOfRange"))
    }

    static func readVariation(_ item: DatafileReader) throws(DatafileError) -> Variation {
        Variation(
            id: try item.requiredString("id"),
            key: try item.requiredString("key"),
            featureEnabled: item.value("featureEnabled")?.boolValue ?? false,
            variableValues: try item.array("variables") { (usage) throws(DatafileError) in
                Variation.VariableValue(id: try usage.requiredString("id"), value: try usage.requiredString("value"))
            }
        )
    }

    /// An experiment of `experiments`, a rule of a rollout, or an experiment of a group.
    static func readExperiment(_ item: DatafileReader, group: Group?) throws(DatafileError) -> Experiment {
        let id = try item.requiredString("id")
        let key = try item.requiredString("key")
        let status = try item.requiredString("status")
        let layerId = try item.requiredString("layerId")
        let variations = try item.requiredArray("variations", readVariation)
        let trafficAllocation = try item.requiredArray("trafficAllocation", readTrafficRange)
        let audienceIds = try item.requiredStringArray("audienceIds")
        let forced = try item.requiredObject("forcedVariations")
        var forcedVariations: [String: String] = [:]
        for member in forced {
            // A non-string variation key names no variation: the reference skips it too.
            if case .string(let variationKey) = member.value { forcedVariations[member.key] = variationKey }
            else { forcedVariations.removeValue(forKey: member.key) }
        }
        let conditionsJSON = item.value("audienceConditions").flatMap { $0 == .null ? nil : $0 }
        let effectiveConditions = conditionsJSON ?? .array(audienceIds.map(JSONValue.string))
        var cmabTraffic: Int?
        var isContextualBandit = false
        if case .object(let cmab)? = item.value("cmab"), !cmab.isEmpty {
            isContextualBandit = true
            if case .int(let traffic)? = cmab.last(where: { $0.key == "trafficAllocation" })?.value {
                cmabTraffic = Int(clamping: traffic)
            }
        }
        return Experiment(
            id: id, key: key, status: status, layerId: layerId, variations: variations,
            trafficAllocation: trafficAllocation, audienceIds: audienceIds,
            audienceConditions: conditionsJSON.map(AudienceTree.audiences),
            forcedVariations: forcedVariations, groupId: group?.id, groupPolicy: group?.policy,
            cmabTrafficAllocation: cmabTraffic, isContextualBandit: isContextualBandit,
            type: item.value("type")?.stringValue,
            audienceConditionsText: effectiveConditions.jsonText,
            audiences: effectiveConditions == .array([]) ? nil : AudienceTree.audiences(effectiveConditions)
        )
    }

    /// A group and its experiments (which carry the group's id and policy).
    static func readGroup(_ item: DatafileReader) throws(DatafileError) -> (Group, [Experiment]) {
        var group = Group(id: try item.requiredString("id"), policy: try item.requiredString("policy"),
                          trafficAllocation: try item.requiredArray("trafficAllocation", readTrafficRange),
                          experimentIds: [])
        let members = try item.requiredArray("experiments") { (experiment) throws(DatafileError) in
            try readExperiment(experiment, group: group)
        }
        group.experimentIds = members.map(\.id)
        return (group, members)
    }

    static func readFeatureFlag(_ item: DatafileReader) throws(DatafileError) -> FeatureFlag {
        var variables: [Variable] = []
        var indexByKey: [String: Int] = [:]
        let declared = try item.requiredArray("variables") { (variable) throws(DatafileError) in
            var type = try variable.requiredString("type")
            if type == "string", try variable.optionalString("subType") == "json" { type = "json" }
            return Variable(id: try variable.requiredString("id"), key: try variable.requiredString("key"),
                            type: type, defaultValue: try variable.requiredString("defaultValue"))
        }
        // One variable per key, as the reference's map of them: the last, in the first's place.
        for variable in declared {
            if let index = indexByKey[variable.key] {
                variables[index] = variable
            } else {
                indexByKey[variable.key] = variables.count
                variables.append(variable)
            }
        }
        return FeatureFlag(id: try item.requiredString("id"), key: try item.requiredString("key"),
                           experimentIds: try item.requiredStringArray("experimentIds"),
                           rolloutId: try item.requiredString("rolloutId"), variables: variables)
    }

    /// `audiences` (conditions as a JSON string) then `typedAudiences` (conditions as JSON),
    /// the latter replacing the former by id. A legacy audience's string is parsed only when
    /// no typed audience replaces it, as in the reference.
    static func readAudiences(_ reader: DatafileReader) throws(DatafileError) -> [Audience] {
        enum Source { case legacy(String, path: String), typed(JSONValue) }
        var order: [String] = []
        var entries: [String: (name: String, source: Source)] = [:]
        func add(_ id: String, _ entry: (name: String, source: Source)) {
            if entries.updateValue(entry, forKey: id) == nil { order.append(id) }
        }
        let legacy = try reader.requiredArray("audiences") { (item) throws(DatafileError) in
            (try item.requiredString("id"), try item.requiredString("name"), try item.requiredString("conditions"), item.childPath("conditions"))
        }
        for (id, name, conditions, path) in legacy { add(id, (name, .legacy(conditions, path: path))) }
        let typed = try reader.array("typedAudiences") { (item) throws(DatafileError) in
            guard let conditions = item.value("conditions") else {
                throw DatafileError.missingField(path: item.childPath("conditions"), expected: "audience conditions")
            }
            return (try item.requiredString("id"), try item.requiredString("name"), conditions)
        }
        for (id, name, conditions) in typed { add(id, (name, .typed(conditions))) }

        var audiences: [Audience] = []
        for id in order {
            guard let entry = entries[id] else { continue }
            let conditions: JSONValue
            switch entry.source {
            case .typed(let json): conditions = json
            case .legacy(let text, let path):
                do { conditions = try JSONValue.parse(text) } catch { throw .invalidConditions(path: path, error) }
            }
            audiences.append(Audience(id: id, name: entry.name, conditions: AudienceConditions(json: conditions)))
        }
        return audiences
    }
}
