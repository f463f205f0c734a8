@testable import EventSpool

/// Random datafiles and users from a seed, for the property tests: groups, typed and legacy
/// audiences with every match type and wrong-typed values, holes and gaps in traffic, every
/// status, whitelists, feature tests and rollouts, variables of every type with odd values.
struct RandomProject {
    var random: SplitMix64
    private var nextId = 100_000

    init(seed: UInt64) {
        random = SplitMix64(seed: seed)
    }

    static let attributeKeys = ["browser", "age", "ltv", "app_version", "plan"]

    private mutating func id() -> String {
        nextId += 1
        return String(nextId)
    }

    private mutating func pick<T>(_ values: [T]) -> T { values[Int.random(in: 0..<values.count, using: &random)] }
    private mutating func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &random) < probability }
    private mutating func count(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }

    /// A value a user or a condition might hold, of any kind.
    mutating func value() -> EventValue {
        pick([
            "chrome", "firefox", "", "pro", "2.1.0", "1.2", "2.0.0-beta", "x.y", .int(18), .int(-5), .int(0), .int(9_007_199_254_740_993),
            .double(99.5), .double(.nan), .double(.infinity), .bool(true), .bool(false), .null, ["nested": 1], [1, 2],
            .integerOutOfRange("123456789012345678901234"),
        ])
    }

    mutating func condition() -> EventValue {
        var members: EventDictionary = [
            "name": .string(pick(Self.attributeKeys + ["missing"])),
            "type": .string(pick(["custom_attribute", "custom_attribute", "third_party_dimension", "future"])),
            "value": value().isJSON ? value() : "chrome",
        ]
        if chance(0.9) {
            members.members.append(.init(key: "match", value: .string(pick(AudienceCondition.Match.allCases.map(\.rawValue) + ["regex"]))))
        }
        return .object(members)
    }

    mutating func tree(depth: Int = 0) -> EventValue {
        if depth > 2 || chance(0.35) { return condition() }
        var elements: [EventValue] = []
        if chance(0.8) { elements.append(.string(pick(["and", "or", "not"]))) }
        for _ in 0..<count(0...3) { elements.append(tree(depth: depth + 1)) }
        return .array(elements)
    }

    mutating func variation(variables: [EventValue]) -> EventValue {
        let usages = variables.compactMap { variable -> EventValue? in
            guard chance(0.6), case .object(let fields) = variable, let id = fields["id"] else { return nil }
            return ["id": id, "value": .string(pick(["1", "-7", "1.5", "true", "{\"k\": 1}", "nan", "x", "12345678901234567890"]))]
        }
        return ["id": .string(id()), "key": .string("v\(nextId)"), "featureEnabled": .bool(chance(0.7)), "variables": .array(usages)]
    }

    mutating func allocation(_ entities: [String]) -> EventValue {
        var ranges: [EventValue] = []
        var end = 0
        for entity in entities {
            end = min(10_000, end + count(0...6_000))
            if chance(0.2) {
                ranges.append(["entityId": "", "endOfRange": .int(Int64(end))])
                end = min(10_000, end + count(0...2_000))
            }
            ranges.append(["entityId": .string(entity), "endOfRange": .int(Int64(end))])
        }
        return .array(ranges)
    }

    mutating func experiment(audiences: [String], variables: [EventValue], key: String) -> EventValue {
        let variations = (0..<count(1...3)).map { _ in variation(variables: variables) }
        let ids = variations.compactMap { if case .object(let fields) = $0 { fields["id"] } else { nil } }
        let keys = variations.compactMap { if case .object(let fields) = $0 { fields["key"] } else { nil } }
        var fields: EventDictionary = [
            "id": .string(id()), "key": .string(key), "layerId": .string(id()),
            "status": .string(pick(["Running", "Running", "Running", "Paused", "Launched", "Not started"])),
            "variations": .array(variations),
            "trafficAllocation": allocation(ids.compactMap { if case .string(let text) = $0 { text } else { nil } }),
            "audienceIds": .array(Array(audiences.prefix(count(0...2))).map(EventValue.string)),
            "forcedVariations": chance(0.3) ? ["user_1": keys.first ?? "nope", "user_2": "nope"] : [:],
        ]
        if chance(0.6), !audiences.isEmpty {
            var conditions: [EventValue] = chance(0.8) ? [.string(pick(["and", "or", "not"]))] : []
            for _ in 0..<count(1...3) { conditions.append(.string(chance(0.9) ? pick(audiences) : "404")) }
            fields.members.append(.init(key: "audienceConditions", value: .array(conditions)))
        }
        return .object(fields)
    }

    /// A datafile the reference accepts.
    mutating func datafile() -> String {
        let attributes: [EventValue] = Self.attributeKeys.map { ["id": .string(id()), "key": .string($0)] }
        var legacy: [EventValue] = []
        var typed: [EventValue] = []
        var audienceIds: [String] = []
        for index in 0..<count(1...4) {
            let audienceId = id()
            audienceIds.append(audienceId)
            let conditions = tree()
            if chance(0.5) {
                typed.append(["id": .string(audienceId), "name": .string("typed \(index)"), "conditions": conditions])
            } else {
                legacy.append(["id": .string(audienceId), "name": .string("legacy \(index)"), "conditions": .string(conditions.wrappedJSON.jsonText)])
            }
        }
        var experiments: [EventValue] = []
        var rollouts: [EventValue] = []
        var flags: [EventValue] = []
        for flagIndex in 0..<count(1...4) {
            let variables: [EventValue] = (0..<count(0...3)).map { index in
                let type = pick(["string", "boolean", "integer", "double", "json", "date"])
                return ["id": .string(id()), "key": .string("var_\(index)"), "type": .string(type), "defaultValue": .string(pick(["1", "true", "2.5", "{}", "d"]))]
            }
            let tests = (0..<count(0...2)).map { experiment(audiences: audienceIds, variables: variables, key: "flag_\(flagIndex)_test_\($0)") }
            experiments += tests
            let rules = (0..<count(1...3)).map { experiment(audiences: audienceIds, variables: variables, key: "flag_\(flagIndex)_rule_\($0)") }
            let rolloutId = id()
            rollouts.append(["id": .string(rolloutId), "experiments": .array(rules)])
            flags.append([
                "id": .string(id()), "key": .string("flag_\(flagIndex)"),
                "experimentIds": .array(tests.compactMap { if case .object(let fields) = $0 { fields["id"] } else { nil } }),
                "rolloutId": .string(rolloutId), "variables": .array(variables),
            ])
        }
        let datafile: EventValue = [
            "version": "4", "accountId": "1", "projectId": "2", "revision": "3", "sendFlagDecisions": .bool(chance(0.5)),
            "botFiltering": .bool(chance(0.5)), "attributes": .array(attributes), "audiences": .array(legacy),
            "typedAudiences": .array(typed), "events": [["id": "9", "key": "purchase", "experimentIds": []]],
            "experiments": .array(experiments), "groups": [], "featureFlags": .array(flags), "rollouts": .array(rollouts),
        ]
        return datafile.wrappedJSON.jsonText
    }

    /// A user's attributes, of any kinds, sometimes with a bucketing id.
    mutating func attributes() -> UserAttributes {
        var members: [EventDictionary.Member] = []
        for key in Self.attributeKeys where chance(0.7) { members.append(.init(key: key, value: value())) }
        if chance(0.1) { members.append(.init(key: "$opt_bucketing_id", value: pick(["b1", .int(7), ""]))) }
        return EventDictionary(members: members)
    }

    mutating func userId() -> String { "user_\(count(0...20))" }
}

extension EventValue {
    /// Whether JSON can hold the value as it is (no NaN, infinity or oversized integer).
    var isJSON: Bool {
        switch self {
        case .double(let number): number.isFinite
        case .integerOutOfRange: false
        case .array(let elements): elements.allSatisfy(\.isJSON)
        case .object(let dictionary): dictionary.members.allSatisfy { $0.value.isJSON }
        default: true
        }
    }
}
