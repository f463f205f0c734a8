extension ProjectConfig {
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
        /// Whether a flag decided into this variation is on (`featureEnabled`, false when absent).
        public var featureEnabled: Bool
        /// The variable values it sets: variable id → value text, in datafile order.
        public var variableValues: [VariableValue]

        /// One `{"id", "value"}` of a variation's `variables`.
        public struct VariableValue: Sendable, Hashable {
            /// The flag variable's id.
            public var id: String
            /// Its value, as text (cast by the variable's type).
            public var value: String
        }

        /// The value this variation sets for a variable id (the last one given, as the
        /// reference's map keeps it), or `nil` when it sets none.
        public func value(ofVariable id: String) -> String? {
            variableValues.last { $0.id == id }?.value
        }
    }

    /// One entry of a traffic allocation: the bucket numbers below `endOfRange` (and above the
    /// previous entry's) go to `entityId`.
    public struct TrafficRange: Sendable, Hashable {
        /// A variation id, an experiment id (for a group), or `""` (a hole: nobody).
        public var entityId: String
        /// The exclusive end of the range in `0...10000`; `nil` makes the entry count for nothing.
        public var endOfRange: Int?
    }

    /// An experiment, a rule of a rollout, or an experiment of a group.
    public struct Experiment: Sendable, Hashable {
        /// Its id.
        public var id: String
        /// Its key.
        public var key: String
        /// `status`; only `"Running"` runs (spec `decisions.md` §5).
        public var status: String
        /// Its layer (campaign) id; `nil` when absent or not a string.
        public var layerId: String?
        /// Its variations in datafile order.
        public var variations: [Variation]
        /// Its traffic allocation, in datafile order (never sorted).
        public var trafficAllocation: [TrafficRange]
        /// `audienceIds` (an implicit OR when there are no `audienceConditions`).
        public var audienceIds: [String]
        /// `audienceConditions`, a tree of audience ids; `nil` when absent or `null`.
        public var audienceConditions: AudienceTree?
        /// The whitelist (`forcedVariations`): user id → variation key.
        public var forcedVariations: [String: String]
        /// The group it came from, for an experiment of `groups`.
        public var groupId: String?
        /// Its group's `policy` (`"random"` makes the group mutually exclusive).
        public var groupPolicy: String?
        /// The CMAB traffic allocation, for a contextual-bandit experiment (spec §18.2, not
        /// supported: such an experiment gives an error decision for users in its traffic).
        public var cmabTrafficAllocation: Int?
        /// Whether the experiment has a non-empty `cmab` object.
        public var isContextualBandit: Bool
        /// `type` (`ab`, `mab`, `cmab`, `td`, `fr`), when given.
        public var type: String?
        /// The audience conditions as the reference prints them in decision reasons.
        var audienceConditionsText: String
        /// The audiences a user must meet: `audienceConditions` when given, else `audienceIds`
        /// (an implicit OR); `nil` when that is empty, which everyone meets.
        var audiences: AudienceTree?

        /// The variations the reference looks up: one per key (the last one given), in the
        /// position of the key's first variation.
        private(set) var lookupVariations: [Variation] = []
        private var variationIndexByKey: [String: Int] = [:]
        private var variationIndexById: [String: Int] = [:]

        init(id: String, key: String, status: String, layerId: String?, variations: [Variation],
             trafficAllocation: [TrafficRange], audienceIds: [String], audienceConditions: AudienceTree?,
             forcedVariations: [String: String], groupId: String? = nil, groupPolicy: String? = nil,
             cmabTrafficAllocation: Int? = nil, isContextualBandit: Bool = false, type: String? = nil,
             audienceConditionsText: String, audiences: AudienceTree?) {
            self.id = id
            self.key = key
            self.status = status
            self.layerId = layerId
            self.variations = []
            self.trafficAllocation = trafficAllocation
            self.audienceIds = audienceIds
            self.audienceConditions = audienceConditions
            self.forcedVariations = forcedVariations
            self.groupId = groupId
            self.groupPolicy = groupPolicy
            self.cmabTrafficAllocation = cmabTrafficAllocation
            self.isContextualBandit = isContextualBandit
            self.type = type
            self.audienceConditionsText = audienceConditionsText
            self.audiences = audiences
            for variation in variations { append(variation) }
        }

        /// Adds a variation at the end, keeping the lookups as the reference's maps would be.
        mutating func append(_ variation: Variation) {
            variations.append(variation)
            if let index = variationIndexByKey[variation.key] {
                // A repeated key replaces the earlier variation in place: the ids are indexed anew.
                lookupVariations[index] = variation
                variationIndexById = [:]
                for (position, candidate) in lookupVariations.enumerated() { variationIndexById[candidate.id] = position }
            } else {
                variationIndexByKey[variation.key] = lookupVariations.count
                variationIndexById[variation.id] = lookupVariations.count
                lookupVariations.append(variation)
            }
        }

        /// Whether the experiment runs (`status` is exactly `"Running"`).
        public var isRunning: Bool { status == "Running" }

        /// The variation with this key.
        public func variation(key: String) -> Variation? { variationIndexByKey[key].map { lookupVariations[$0] } }
        /// The variation with this id.
        public func variation(id: String) -> Variation? { variationIndexById[id].map { lookupVariations[$0] } }

        /// The empty experiment the reference puts in an impression that has none (a flag-level
        /// forced decision, or a flag where nothing matched).
        static let empty = Experiment(
            id: "", key: "", status: "", layerId: "", variations: [], trafficAllocation: [], audienceIds: [],
            audienceConditions: nil, forcedVariations: [:], audienceConditionsText: "[]", audiences: nil)
    }

    /// A group of mutually exclusive experiments.
    public struct Group: Sendable, Hashable {
        /// Its id (the parent id of its bucketing key).
        public var id: String
        /// `policy`: `"random"` is mutually exclusive; anything else buckets each experiment alone.
        public var policy: String
        /// Which experiment each bucket range goes to.
        public var trafficAllocation: [TrafficRange]
        /// The ids of its experiments, in datafile order.
        public var experimentIds: [String]
    }

    /// A variable of a feature flag.
    public struct Variable: Sendable, Hashable {
        /// Its id.
        public var id: String
        /// Its key.
        public var key: String
        /// `boolean`, `double`, `integer`, `string`, `json` (also for a `string` with `subType`
        /// `json`), or any other type, whose values are returned as strings.
        public var type: String
        /// The value when no enabled variation sets one, as text.
        public var defaultValue: String
    }

    /// A feature flag.
    public struct FeatureFlag: Sendable, Hashable {
        /// Its id.
        public var id: String
        /// Its key.
        public var key: String
        /// Its feature tests (A/B test rules), tried in this order.
        public var experimentIds: [String]
        /// Its rollout (targeted deliveries and "everyone else"), `""` when none.
        public var rolloutId: String
        /// Its variables, one per key (the last one given, in the position of the first), as
        /// the reference's map of them.
        public var variables: [Variable]

        /// The variable with this key.
        public func variable(key: String) -> Variable? { variables.first { $0.key == key } }
    }

    /// A rollout: the delivery rules of a flag.
    public struct Rollout: Sendable, Hashable {
        /// Its id.
        public var id: String
        /// Its rules, in order; the last one is "Everyone Else".
        public var experiments: [Experiment]
    }

    /// An audience: a name and a tree of conditions on the user's attributes.
    public struct Audience: Sendable, Hashable {
        /// Its id.
        public var id: String
        /// Its name.
        public var name: String
        /// Its conditions, parsed (typed or legacy, they read the same).
        public var conditions: AudienceConditions
    }
}
