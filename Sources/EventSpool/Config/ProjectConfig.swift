/// An Optimizely datafile, read into the model the client decides with and the event pipeline
/// builds events against (spec `decisions.md` §2).
///
/// ```swift
/// let config = try ProjectConfig(datafile: datafileText)
/// config.revision                                  // "241"
/// config.event(key: "purchase")?.id                // "10428540015"
/// config.featureFlag(key: "new_nav")?.experimentIds
/// ```
///
/// A datafile the reference SDK rejects is a ``DatafileError`` naming the JSON path of the
/// problem: the reference's schema (required members, string ids, integer `endOfRange`), an
/// unsupported `version`, a flag naming a missing experiment or rollout, a legacy audience whose
/// conditions are not JSON. Feature flags, rollouts and typed audiences, which the reference
/// does not check, are held to the same types (a string id, say) rather than failing later.
///
/// The lookups are the reference's maps, including how they resolve repeats: an experiment id
/// seen again (a rollout rule, a group's experiment) replaces the earlier entry; experiment,
/// flag, event and attribute keys keep their last entry; `typedAudiences` replace `audiences`
/// of the same id. Experiments, rollout rules and group experiments share one key space, so
/// the key-based legacy calls accept a rollout rule's key too.
public struct ProjectConfig: Sendable, Hashable {
    /// The datafile `version` (`"2"`, `"3"` or `"4"`).
    public var version: String
    /// `accountId`.
    public var accountId: String
    /// `projectId`.
    public var projectId: String
    /// `revision`.
    public var revision: String
    /// `sdkKey`, when given.
    public var sdkKey: String?
    /// `environmentKey`, when given.
    public var environmentKey: String?
    /// `anonymizeIP`; false when absent or `null`.
    public var anonymizeIP: Bool
    /// `botFiltering` when it is a real bool; `nil` otherwise (then no bot-filtering attribute).
    public var botFiltering: Bool?
    /// The data region (`region`: `"EU"` in any case is EU; anything else is US).
    public var region: EventRegion
    /// `sendFlagDecisions`; false unless it is `true`. Rollout decisions and "nothing matched"
    /// decisions send an impression only when it is true.
    public var sendFlagDecisions: Bool
    /// `attributes`.
    public var attributes: [Attribute]
    /// `events`.
    public var events: [Event]
    /// `experiments`, then the experiments of `groups` (with their group), as the datafile
    /// gives them.
    public var experiments: [Experiment]
    /// `groups`.
    public var groups: [Group]
    /// `featureFlags`, in datafile order (a repeated key is listed twice).
    public var featureFlags: [FeatureFlag]
    /// `rollouts`.
    public var rollouts: [Rollout]
    /// The audiences: `audiences`, with `typedAudiences` replacing those of the same id.
    public var audiences: [Audience]
    /// How many `holdouts` and `localHoldouts` the datafile has. Holdouts are not evaluated
    /// (spec §18.3); the client warns when a datafile has some.
    public var holdoutCount: Int

    var attributeByKey: [String: Attribute] = [:]
    var eventByKey: [String: Event] = [:]
    /// Every experiment, rollout rule and group experiment by id, as the reference's
    /// `experiment_id_map` after feature-rollout variations were added.
    var experimentById: [String: Experiment] = [:]
    var experimentByKey: [String: Experiment] = [:]
    var groupById: [String: Group] = [:]
    var rolloutById: [String: Rollout] = [:]
    var audienceById: [String: Audience] = [:]
    /// One flag per key (the last), in the position of the key's first flag.
    var uniqueFeatureFlags: [FeatureFlag] = []
    var flagIndexByKey: [String: Int] = [:]
    var flagVariations: [String: [Variation]] = [:]
    /// The experiments that are some flag's feature test.
    var featureTestIds: Set<String> = []
    /// The variable values of each variation id (the last experiment's, for a repeated id).
    var variableValuesByVariationId: [String: Variation] = [:]
    /// The typed values of the variable texts.
    var variableValues = VariableValueCache()

    /// Parses a datafile from its text.
    public init(datafile: String) throws(DatafileError) {
        let json: JSONValue
        do { json = try JSONValue.parse(datafile) } catch { throw .notJSON(error) }
        try self.init(json: json)
    }

    /// Parses a datafile from its UTF-8 bytes.
    public init(datafile: some Sequence<UInt8>) throws(DatafileError) {
        let json: JSONValue
        do { json = try JSONValue.parse(datafile) } catch { throw .notJSON(error) }
        try self.init(json: json)
    }

    /// Reads a datafile already parsed.
    public init(json: JSONValue) throws(DatafileError) {
        let reader = DatafileReader(members: try DatafileReader.object(json, path: "$"), path: "")
        version = try reader.requiredString("version")
        guard ["2", "3", "4"].contains(version) else {
            throw .unsupportedVersion(path: "version", found: "\"\(version)\"")
        }
        accountId = try reader.requiredString("accountId")
        projectId = try reader.requiredString("projectId")
        revision = try reader.requiredString("revision")
        sdkKey = reader.value("sdkKey")?.stringValue
        environmentKey = reader.value("environmentKey")?.stringValue
        anonymizeIP = try reader.optionalBool("anonymizeIP") ?? false
        botFiltering = reader.value("botFiltering")?.boolValue
        region = EventRegion(datafileValue: reader.value("region")?.stringValue)
        sendFlagDecisions = reader.value("sendFlagDecisions")?.boolValue ?? false

        attributes = try reader.requiredArray("attributes", Self.readAttribute)
        events = try reader.requiredArray("events", Self.readEvent)
        let topLevelExperiments = try reader.requiredArray("experiments") { (item) throws(DatafileError) in
            try Self.readExperiment(item, group: nil)
        }
        groups = []
        var groupExperiments: [Experiment] = []
        let groupsRead = try reader.requiredArray("groups", Self.readGroup)
        for (group, members) in groupsRead {
            groups.append(group)
            groupExperiments += members
        }
        experiments = topLevelExperiments + groupExperiments
        _ = try reader.requiredArray("audiences") { (item) throws(DatafileError) in try item.requiredString("conditions") }
        _ = try reader.array("integrations") { (item) throws(DatafileError) in
            _ = try item.requiredString("key")
            _ = try item.optionalString("host")
            _ = try item.optionalString("publicKey")
        }
        featureFlags = try reader.array("featureFlags", Self.readFeatureFlag)
        rollouts = try reader.array("rollouts") { (item) throws(DatafileError) in
            Rollout(id: try item.requiredString("id"), experiments: try item.requiredArray("experiments") { (rule) throws(DatafileError) in
                try Self.readExperiment(rule, group: nil)
            })
        }
        audiences = try Self.readAudiences(reader)
        holdoutCount = (reader.value("holdouts")?.arrayCount ?? 0) + (reader.value("localHoldouts")?.arrayCount ?? 0)
        try buildLookups(topLevel: topLevelExperiments, groupMembers: groupsRead)
    }

    // MARK: Lookups

    /// The datafile attribute with this key.
    public func attribute(key: String) -> Attribute? { attributeByKey[key] }
    /// The datafile event with this key.
    public func event(key: String) -> Event? { eventByKey[key] }
    /// The experiment, rollout rule or group experiment with this key.
    public func experiment(key: String) -> Experiment? { experimentByKey[key] }
    /// The experiment, rollout rule or group experiment with this id.
    public func experiment(id: String) -> Experiment? { experimentById[id] }
    /// The group with this id.
    public func group(id: String) -> Group? { groupById[id] }
    /// The rollout with this id.
    public func rollout(id: String) -> Rollout? { rolloutById[id] }
    /// The audience with this id (a typed audience when there is one).
    public func audience(id: String) -> Audience? { audienceById[id] }
    /// The feature flag with this key.
    public func featureFlag(key: String) -> FeatureFlag? { flagIndexByKey[key].map { uniqueFeatureFlags[$0] } }
    /// The feature flags, one per key, in datafile order.
    public var uniqueFlags: [FeatureFlag] { uniqueFeatureFlags }
    /// The variations of a flag's rules (its experiments, then its rollout's rules), each once.
    public func variations(ofFlag flagKey: String) -> [Variation] { flagVariations[flagKey] ?? [] }
    /// Whether the experiment with this id is a feature test of some flag.
    public func isFeatureTest(experimentId: String) -> Bool { featureTestIds.contains(experimentId) }

    /// The value text of `variable` in `variation`: the variation's own value when it sets one,
    /// else the variable's default.
    public func valueText(of variable: Variable, in variation: Variation) -> String {
        (variableValuesByVariationId[variation.id] ?? variation).value(ofVariable: variable.id) ?? variable.defaultValue
    }

    /// The typed value of `variable` for a decision: its value in `variation` when the variation
    /// is given (an enabled one), else its default; `nil` when the text cannot be read as the
    /// variable's type (spec §11).
    public func value(of variable: Variable, in variation: Variation?) -> EventValue? {
        let text = variation.map { valueText(of: variable, in: $0) } ?? variable.defaultValue
        return variableValues.value(text, type: variable.type)
    }

    /// The context of events made with this config.
    public func eventContext(clientName: String = EventContext.defaultClientName,
                             clientVersion: String = EventContext.defaultClientVersion) -> EventContext {
        EventContext(accountId: accountId, projectId: projectId, revision: revision, anonymizeIP: anonymizeIP,
                     region: region, clientName: clientName, clientVersion: clientVersion)
    }
}

extension JSONValue {
    /// The number of elements when this is an array.
    var arrayCount: Int? {
        if case .array(let elements) = self { return elements.count }
        return nil
    }
}
