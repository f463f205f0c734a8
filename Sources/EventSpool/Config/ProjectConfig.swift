/// The parts of an Optimizely v4 datafile that the event pipeline needs (spec §2).
///
/// ```swift
/// let config = try ProjectConfig(datafile: datafileText)
/// config.revision                     // "241"
/// config.event(key: "purchase")?.id   // "10428540015"
/// ```
///
/// Parsing is strict where an event would otherwise be wrong (ids and keys must be strings)
/// and lenient where the reference is (`botFiltering` counts only when it is a bool; a missing
/// `layerId` falls back as spec §3 says; absent lists are empty). Experiments of mutually
/// exclusive `groups` count as experiments. When a key repeats, the last entry wins, as in the
/// reference's lookup maps.
public struct ProjectConfig: Sendable, Hashable {
    /// A custom attribute of the datafile.
    public struct Attribute: Sendable, Hashable {
        /// Its id (the visitor attribute's `entity_id`).
        public var id: String
        /// Its key.
        public var key: String
    }

    /// A tracked event of the datafile.
    public struct Event: Sendable, Hashable {
        /// Its id (the conversion's `entity_id`).
        public var id: String
        /// Its key.
        public var key: String
        /// The experiments it is attached to.
        public var experimentIds: [String]
    }

    /// A variation of an experiment or rule.
    public struct Variation: Sendable, Hashable {
        /// Its id.
        public var id: String
        /// Its key.
        public var key: String
    }

    /// An experiment, or a rule of a rollout.
    public struct Experiment: Sendable, Hashable {
        /// Its id.
        public var id: String
        /// Its key.
        public var key: String
        /// Its layer (campaign) id; `nil` when absent or not a string.
        public var layerId: String?
        /// Its variations in datafile order.
        public var variations: [Variation]

        /// The variation with this key.
        public func variation(key: String) -> Variation? { variations.first { $0.key == key } }
        /// The variation with this id.
        public func variation(id: String) -> Variation? { variations.first { $0.id == id } }
    }

    /// A feature flag.
    public struct FeatureFlag: Sendable, Hashable {
        /// Its id (`""` when the datafile has none).
        public var id: String
        /// Its key.
        public var key: String
        /// Its A/B test rules.
        public var experimentIds: [String]
        /// Its rollout (targeted deliveries and "everyone else"), `""` when none.
        public var rolloutId: String
    }

    /// A rollout: the delivery rules of a flag.
    public struct Rollout: Sendable, Hashable {
        /// Its id.
        public var id: String
        /// Its rules, in order.
        public var experiments: [Experiment]
    }

    /// The datafile `version` (`"2"`, `"3"` or `"4"`).
    public var version: String
    /// `accountId`.
    public var accountId: String
    /// `projectId`.
    public var projectId: String
    /// `revision`.
    public var revision: String
    /// `anonymizeIP`; false when absent or `null`.
    public var anonymizeIP: Bool
    /// `botFiltering` when it is a real bool; `nil` otherwise (then no bot-filtering attribute).
    public var botFiltering: Bool?
    /// The data region (`region`: `"EU"` in any case is EU; anything else is US).
    public var region: EventRegion
    /// `sendFlagDecisions`; false unless it is `true`.
    public var sendFlagDecisions: Bool
    /// `attributes`.
    public var attributes: [Attribute]
    /// `events`.
    public var events: [Event]
    /// `experiments`, then the experiments of `groups`.
    public var experiments: [Experiment]
    /// `featureFlags`.
    public var featureFlags: [FeatureFlag]
    /// `rollouts`.
    public var rollouts: [Rollout]

    private var attributeByKey: [String: Int] = [:]
    private var eventByKey: [String: Int] = [:]
    private var experimentByKey: [String: Experiment] = [:]
    private var experimentById: [String: Experiment] = [:]
    private var flagByKey: [String: Int] = [:]
    private var flagVariations: [String: [Variation]] = [:]

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
        let root = try DatafileReader.object(json, path: "$")
        let reader = DatafileReader(members: root, path: "")

        version = try reader.requiredString("version")
        guard ["2", "3", "4"].contains(version) else {
            throw .unsupportedVersion(path: "version", found: "\"\(version)\"")
        }
        accountId = try reader.requiredString("accountId")
        projectId = try reader.requiredString("projectId")
        revision = try reader.requiredString("revision")
        anonymizeIP = try reader.optionalBool("anonymizeIP") ?? false
        botFiltering = reader.value("botFiltering")?.boolValue
        region = EventRegion(datafileValue: reader.value("region")?.stringValue)
        sendFlagDecisions = reader.value("sendFlagDecisions")?.boolValue ?? false

        attributes = try reader.array("attributes") { (item) throws(DatafileError) in
            Attribute(id: try item.requiredString("id"), key: try item.requiredString("key"))
        }
        events = try reader.array("events") { (item) throws(DatafileError) in
            Event(id: try item.requiredString("id"), key: try item.requiredString("key"),
                  experimentIds: try item.stringArray("experimentIds"))
        }
        var experiments = try reader.array("experiments", Self.readExperiment)
        let groups = try reader.array("groups") { (group) throws(DatafileError) in
            try group.array("experiments", Self.readExperiment)
        }
        experiments += groups.joined()
        self.experiments = experiments
        featureFlags = try reader.array("featureFlags") { (item) throws(DatafileError) in
            FeatureFlag(id: try item.optionalString("id") ?? "", key: try item.requiredString("key"),
                        experimentIds: try item.stringArray("experimentIds"),
                        rolloutId: try item.optionalString("rolloutId") ?? "")
        }
        rollouts = try reader.array("rollouts") { (item) throws(DatafileError) in
            Rollout(id: try item.requiredString("id"), experiments: try item.array("experiments", Self.readExperiment))
        }
        buildLookups()
    }

    private static func readExperiment(_ item: DatafileReader) throws(DatafileError) -> Experiment {
        Experiment(
            id: try item.requiredString("id"),
            key: try item.requiredString("key"),
            layerId: item.value("layerId")?.stringValue,
            variations: try item.array("variations") { (variation) throws(DatafileError) in
                Variation(id: try variation.requiredString("id"), key: try variation.requiredString("key"))
            }
        )
    }

    private mutating func buildLookups() {
        for (index, attribute) in attributes.enumerated() { attributeByKey[attribute.key] = index }
        for (index, event) in events.enumerated() { eventByKey[event.key] = index }
        // Rollout rules first, so an experiment of the same key (there should be none) wins.
        for rollout in rollouts {
            for rule in rollout.experiments {
                experimentByKey[rule.key] = rule
                experimentById[rule.id] = rule
            }
        }
        for experiment in experiments {
            experimentByKey[experiment.key] = experiment
            experimentById[experiment.id] = experiment
        }
        let rolloutById = Dictionary(rollouts.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        for (index, flag) in featureFlags.enumerated() {
            flagByKey[flag.key] = index
            // The flag's variations: those of its experiments, then of its rollout's rules,
            // each id once (as the reference's flag_variations_map).
            var variations: [Variation] = []
            var seen = Set<String>()
            let rules = flag.experimentIds.compactMap { experimentById[$0] } + (rolloutById[flag.rolloutId]?.experiments ?? [])
            for rule in rules {
                for variation in rule.variations where seen.insert(variation.id).inserted {
                    variations.append(variation)
                }
            }
            flagVariations[flag.key] = variations
        }
    }

    /// The datafile attribute with this key.
    public func attribute(key: String) -> Attribute? { attributeByKey[key].map { attributes[$0] } }
    /// The datafile event with this key.
    public func event(key: String) -> Event? { eventByKey[key].map { events[$0] } }
    /// The experiment or rollout rule with this key.
    public func experiment(key: String) -> Experiment? { experimentByKey[key] }
    /// The experiment or rollout rule with this id.
    public func experiment(id: String) -> Experiment? { experimentById[id] }
    /// The feature flag with this key.
    public func featureFlag(key: String) -> FeatureFlag? { flagByKey[key].map { featureFlags[$0] } }
    /// The variations of a flag's rules (its experiments, then its rollout's rules), each once.
    public func variations(ofFlag flagKey: String) -> [Variation] { flagVariations[flagKey] ?? [] }

    /// The context of events made with this config.
    public func eventContext(clientName: String = EventContext.defaultClientName,
                             clientVersion: String = EventContext.defaultClientVersion) -> EventContext {
        EventContext(accountId: accountId, projectId: projectId, revision: revision, anonymizeIP: anonymizeIP,
                     region: region, clientName: clientName, clientVersion: clientVersion)
    }
}

/// Reads members of one datafile object, naming each by its JSON path in errors.
struct DatafileReader {
    let members: [JSONValue.Member]
    let path: String

    static func object(_ value: JSONValue, path: String) throws(DatafileError) -> [JSONValue.Member] {
        guard case .object(let members) = value else {
            throw .wrongType(path: path, expected: "an object", found: describe(value))
        }
        return members
    }

    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .string(let text): "the string \"\(text.prefix(40))\""
        case .int, .array, .object: "an \(value.typeName)"
        default: "a \(value.typeName)"
        }
    }

    func childPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The last member with this key (Python's `json` keeps the last of repeated keys).
    func value(_ key: String) -> JSONValue? {
        members.last(where: { $0.key == key })?.value
    }

    func requiredString(_ key: String) throws(DatafileError) -> String {
        guard let value = value(key), value != .null else {
            throw .missingField(path: childPath(key), expected: "a string")
        }
        guard case .string(let text) = value else {
            throw .wrongType(path: childPath(key), expected: "a string", found: Self.describe(value))
        }
        return text
    }

    func optionalString(_ key: String) throws(DatafileError) -> String? {
        guard let value = value(key), value != .null else { return nil }
        guard case .string(let text) = value else {
            throw .wrongType(path: childPath(key), expected: "a string", found: Self.describe(value))
        }
        return text
    }

    func optionalBool(_ key: String) throws(DatafileError) -> Bool? {
        guard let value = value(key), value != .null else { return nil }
        guard case .bool(let flag) = value else {
            throw .wrongType(path: childPath(key), expected: "true or false", found: Self.describe(value))
        }
        return flag
    }

    /// An optional list (absent or `null` is empty) of strings.
    func stringArray(_ key: String) throws(DatafileError) -> [String] {
        guard let value = value(key), value != .null else { return [] }
        guard case .array(let elements) = value else {
            throw .wrongType(path: childPath(key), expected: "an array of strings", found: Self.describe(value))
        }
        var result: [String] = []
        result.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            guard case .string(let text) = element else {
                throw .wrongType(path: "\(childPath(key))[\(index)]", expected: "a string", found: Self.describe(element))
            }
            result.append(text)
        }
        return result
    }

    /// An optional list (absent or `null` is empty) of objects, each read by `read`.
    func array<T>(_ key: String, _ read: (DatafileReader) throws(DatafileError) -> T) throws(DatafileError) -> [T] {
        guard let value = value(key), value != .null else { return [] }
        guard case .array(let elements) = value else {
            throw .wrongType(path: childPath(key), expected: "an array", found: Self.describe(value))
        }
        var result: [T] = []
        result.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            let elementPath = "\(childPath(key))[\(index)]"
            guard case .object(let members) = element else {
                throw .wrongType(path: elementPath, expected: "an object", found: Self.describe(element))
            }
            result.append(try read(DatafileReader(members: members, path: elementPath)))
        }
        return result
    }
}
