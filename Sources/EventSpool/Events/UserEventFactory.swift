import Foundation
import Logging

/// Creates user events from a project config, applying every rule of spec §3.
///
/// ```swift
/// let factory = UserEventFactory(config: try ProjectConfig(datafile: datafileText), logger: logger)
/// let impression = try factory.makeImpression(
///     experimentKey: "checkout_button_test", variationKey: "control",
///     userId: "alice", attributes: ["browser": "chrome", "age": 31])
/// let conversion = try factory.makeConversion(
///     eventKey: "purchase", userId: "alice", tags: ["revenue": 1999, "value": 19.99])
/// ```
///
/// Nothing invalid can come out: attributes are filtered, tags are reduced to JSON (a
/// non-finite number is dropped and logged; an integer outside the signed 64-bit range or
/// an unknown key is a typed ``UserEventError``).
public struct UserEventFactory: Sendable {
    /// The datafile the events are built against.
    public let config: ProjectConfig
    /// The context every event of this factory captures.
    public let context: EventContext
    /// Where the factory reports what it dropped. Silent unless the application gives one.
    public let logger: Logger

    /// A logger that discards everything: the library logs nothing unless given a logger.
    public static let silentLogger = Logger(label: "EventSpool.silent", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Creates a factory for one datafile.
    public init(
        config: ProjectConfig,
        clientName: String = EventContext.defaultClientName,
        clientVersion: String = EventContext.defaultClientVersion,
        logger: Logger = UserEventFactory.silentLogger
    ) {
        self.config = config
        self.context = config.eventContext(clientName: clientName, clientVersion: clientVersion)
        self.logger = logger
    }

    // MARK: Impressions

    /// Creates an impression (spec §3).
    ///
    /// - Parameters:
    ///   - experimentKey: the experiment or rollout rule; `nil` for a rollout with no matching
    ///     rule (then `ruleType` must be ``RuleType/rollout``).
    ///   - variationKey: the variation by key; an unknown key is an error.
    ///   - variationId: the variation by id; an id that resolves to nothing is sent as the
    ///     reference does (`variation_id` null, `variation_key` `""`).
    ///   - flagKey: the flag (`""` for a legacy experiment).
    ///   - ruleKey: the rule; defaults to the experiment key, or `""`.
    ///   - userId: the user's id (`visitor_id`).
    ///   - attributes: the user's attributes; only the datafile's and `$opt_` ones are kept (spec §3).
    ///   - enabled: whether the flag is on for the user.
    ///   - ruleType: the kind of rule that decided (`experiment`, `feature-test`, `rollout`, `holdout`).
    ///   - cmabUUID: the CMAB decision's UUID; empty counts as absent.
    ///   - uuid: the event's UUID; generated (lower-case, version 7) when `nil`.
    ///   - timestampMillis: the event's time; now when `nil`.
    ///
    /// With a flag key, a variation key is looked up among the flag's variations first (those of
    /// its experiments, then of its rollout rules, in the reference's order: the first with the
    /// key wins) and then among the experiment's, as the `enqueue` contract says (cli.md). Where
    /// rules of one flag share a key (`"off"`) with different ids, pass `variationId` to name
    /// the rule's own. A variation id is looked up as the reference does: among the flag's
    /// variations only when a flag key is given, else among the experiment's.
    public func makeImpression(
        experimentKey: String?,
        variationKey: String? = nil,
        variationId: String? = nil,
        flagKey: String = "",
        ruleKey: String? = nil,
        ruleType: RuleType = .experiment,
        enabled: Bool = true,
        userId: String,
        attributes: UserAttributes = [:],
        cmabUUID: String? = nil,
        uuid: String? = nil,
        timestampMillis: Int64? = nil
    ) throws(UserEventError) -> UserEvent {
        let experiment: ProjectConfig.Experiment?
        if let experimentKey {
            guard let found = config.experiment(key: experimentKey) else { throw .unknownExperimentKey(experimentKey) }
            experiment = found
        } else {
            guard ruleType == .rollout else { throw .missingExperiment(ruleType: ruleType) }
            experiment = nil
        }
        var variation = variationId.flatMap { lookUpVariation(id: $0, experiment: experiment, flagKey: flagKey, ruleType: ruleType) }
        if let variationKey {
            let flagVariations = flagKey.isEmpty ? [] : config.variations(ofFlag: flagKey)
            guard let byKey = flagVariations.first(where: { $0.key == variationKey }) ?? experiment?.variation(key: variationKey) else {
                throw .unknownVariationKey(variationKey, experimentKey: experiment?.key, flagKey: flagKey)
            }
            if let variationId, variation != byKey { throw .conflictingVariation(key: variationKey, id: variationId) }
            variation = byKey
        }
        return try makeImpression(
            experiment: experiment, variation: variation, flagKey: flagKey, ruleKey: ruleKey ?? experiment?.key ?? "",
            ruleType: ruleType, enabled: enabled, userId: userId, attributes: attributes, cmabUUID: cmabUUID,
            uuid: uuid, timestampMillis: timestampMillis)
    }

    /// Creates the impression of a decision, as the reference's client does: the decision's
    /// experiment (`nil` for none: the empty experiment, whose ids are `""`) and the id of its
    /// variation, which is looked up as ``makeImpression(experimentKey:variationKey:variationId:flagKey:ruleKey:ruleType:enabled:userId:attributes:cmabUUID:uuid:timestampMillis:)``
    /// says. An id that resolves to nothing is sent as `variation_id` null and `variation_key` `""`.
    public func makeImpression(
        experiment: ProjectConfig.Experiment?,
        variationId: String?,
        flagKey: String,
        ruleKey: String,
        ruleType: RuleType,
        enabled: Bool,
        userId: String,
        attributes: UserAttributes = [:],
        cmabUUID: String? = nil,
        uuid: String? = nil,
        timestampMillis: Int64? = nil
    ) throws(UserEventError) -> UserEvent {
        try makeImpression(
            experiment: experiment,
            variation: variationId.flatMap { lookUpVariation(id: $0, experiment: experiment, flagKey: flagKey, ruleType: ruleType) },
            flagKey: flagKey, ruleKey: ruleKey, ruleType: ruleType, enabled: enabled, userId: userId,
            attributes: attributes, cmabUUID: cmabUUID, uuid: uuid, timestampMillis: timestampMillis)
    }

    private func makeImpression(
        experiment: ProjectConfig.Experiment?, variation: ProjectConfig.Variation?, flagKey: String, ruleKey: String,
        ruleType: RuleType, enabled: Bool, userId: String, attributes: UserAttributes, cmabUUID: String?,
        uuid: String?, timestampMillis: Int64?
    ) throws(UserEventError) -> UserEvent {
        let campaignId: String
        if let layerId = experiment?.layerId, !layerId.isEmpty {
            campaignId = layerId
        } else if let id = experiment?.id, !id.isEmpty {
            campaignId = id
        } else {
            campaignId = ""
        }
        let impression = Impression(
            campaignId: campaignId,
            experimentId: experiment?.id ?? "",
            variationId: variation.flatMap { Self.isDigits($0.id) ? $0.id : nil },
            variationKey: variation?.key ?? "",
            flagKey: flagKey,
            ruleKey: ruleKey,
            ruleType: ruleType,
            enabled: enabled,
            cmabUUID: (cmabUUID?.isEmpty ?? true) ? nil : cmabUUID
        )
        return try makeEvent(userId: userId, attributes: attributes, uuid: uuid, timestampMillis: timestampMillis,
                             payload: .impression(impression))
    }

    /// The reference's lookup of an impression's variation id: among the flag's variations only
    /// when there is a flag key (and the rule is not a holdout), else among the experiment's.
    private func lookUpVariation(id: String, experiment: ProjectConfig.Experiment?, flagKey: String, ruleType: RuleType) -> ProjectConfig.Variation? {
        guard !id.isEmpty else { return nil }
        if !flagKey.isEmpty && ruleType != .holdout {
            return config.variations(ofFlag: flagKey).first { $0.id == id }
        }
        guard let experimentId = experiment?.id, !experimentId.isEmpty else { return nil }
        return config.experiment(id: experimentId)?.variation(id: id)
    }

    // MARK: Conversions

    /// Creates a conversion (spec §3).
    ///
    /// - Parameters:
    ///   - eventKey: a datafile event key; an unknown key is ``UserEventError/unknownEventKey(_:)``.
    ///   - userId: the user's id (`visitor_id`).
    ///   - attributes: the user's attributes; only the datafile's and `$opt_` ones are kept (spec §3).
    ///   - tags: the event tags; `nil` sends no `tags` key, `[:]` sends `{}`.
    ///   - uuid: the event's UUID; generated (lower-case, version 7) when `nil`.
    ///   - timestampMillis: the event's time; now when `nil`.
    public func makeConversion(
        eventKey: String,
        userId: String,
        attributes: UserAttributes = [:],
        tags: EventTags? = nil,
        uuid: String? = nil,
        timestampMillis: Int64? = nil
    ) throws(UserEventError) -> UserEvent {
        guard let event = config.event(key: eventKey) else { throw .unknownEventKey(eventKey) }
        var revenue: Int64?
        var value: FiniteDouble?
        var sentTags: [JSONValue.Member]?
        if let tags {
            let members = tags.deduplicated
            for member in members {
                switch member.key {
                case "revenue":
                    if case .int(let number) = member.value { revenue = number }
                case "value":
                    switch member.value {
                    case .int(let number): value = FiniteDouble(number)
                    case .double(let number): value = FiniteDouble(number)
                    case .string(let text): value = NumericString.finiteValue(of: text).flatMap(FiniteDouble.init)
                    default: value = nil
                    }
                default: break
                }
            }
            sentTags = try sanitize(members, path: { "tags" }, depth: 1, eventKey: eventKey)
        }
        let conversion = Conversion(eventId: event.id, eventKey: event.key, revenue: revenue, value: value, tags: sentTags)
        return try makeEvent(userId: userId, attributes: attributes, uuid: uuid, timestampMillis: timestampMillis,
                             payload: .conversion(conversion))
    }

    // MARK: Shared rules

    private func makeEvent(userId: String, attributes: UserAttributes, uuid: String?, timestampMillis: Int64?,
                           payload: UserEvent.Payload) throws(UserEventError) -> UserEvent {
        if let uuid, uuid.isEmpty { throw .emptyUUID }
        if let timestampMillis, timestampMillis < 0 { throw .negativeTimestamp(timestampMillis) }
        return UserEvent(
            context: context,
            uuid: uuid ?? Self.makeUUID(),
            timestampMillis: timestampMillis ?? Self.currentMillis(),
            userId: userId,
            attributes: visitorAttributes(attributes),
            payload: payload
        )
    }

    /// The visitor attributes spec §3 keeps, in the caller's order, then the bot-filtering one.
    public func visitorAttributes(_ attributes: UserAttributes) -> [VisitorAttribute] {
        var result: [VisitorAttribute] = []
        result.reserveCapacity(attributes.count + 1)
        for member in attributes.deduplicated {
            let value: JSONValue
            switch member.value {
            case .string(let text): value = .string(text)
            case .bool(let flag): value = .bool(flag)
            case .int(let number):
                guard number.magnitude <= Self.maxExactInteger else { continue }
                value = .int(number)
            case .double(let number):
                guard number.isFinite, number.magnitude <= Double(Self.maxExactInteger), let finite = FiniteDouble(number) else { continue }
                value = .double(finite)
            case .null, .array, .object, .integerOutOfRange:
                continue
            }
            let entityId: String
            if let attribute = config.attribute(key: member.key) {
                entityId = attribute.id
            } else if member.key.hasPrefix("$opt_") {
                entityId = member.key
            } else {
                continue
            }
            result.append(VisitorAttribute(entityId: entityId, key: member.key, value: value))
        }
        if let botFiltering = config.botFiltering {
            result.append(VisitorAttribute(entityId: VisitorAttribute.botFilteringKey, key: VisitorAttribute.botFilteringKey,
                                           value: .bool(botFiltering)))
        }
        return result
    }

    /// 2^53: the largest magnitude a number attribute may have (spec §3).
    static let maxExactInteger: UInt64 = 1 << 53

    /// Reduces tags to JSON: non-finite numbers dropped (and logged), out-of-range integers an
    /// error, repeated keys merged as in a Python dict, and keys `revenue`, `value`, `tags` and
    /// `decisions` whose value is null removed at any depth (as the reference's serializer does).
    private func sanitize(_ members: [EventDictionary.Member], path: () -> String, depth: Int, eventKey: String) throws(UserEventError) -> [JSONValue.Member] {
        // The same nesting bound as the parser's, so encoding can never exhaust the stack.
        guard depth <= JSONParser.defaultMaxDepth else { throw .tooDeep(path: path(), limit: JSONParser.defaultMaxDepth) }
        var result: [JSONValue.Member] = []
        result.reserveCapacity(members.count)
        for member in members {
            if case .null = member.value, Self.strippedWhenNull.contains(member.key) { continue }
            guard let value = try sanitize(member.value, path: "\(path()).\(member.key)", depth: depth, eventKey: eventKey) else { continue }
            result.append(JSONValue.Member(key: member.key, value: value))
        }
        return result
    }

    private static let strippedWhenNull: Set<String> = ["revenue", "value", "tags", "decisions"]

    private func sanitize(_ value: EventValue, path: @autoclosure () -> String, depth: Int, eventKey: String) throws(UserEventError) -> JSONValue? {
        switch value {
        case .null: return .null
        case .bool(let flag): return .bool(flag)
        case .int(let number): return .int(number)
        case .string(let text): return .string(text)
        case .double(let number):
            if let finite = FiniteDouble(number) { return .double(finite) }
            logger.warning("Dropped a non-finite number from event tags: JSON cannot carry it",
                           metadata: ["tag": "\(path())", "value": "\(number)", "event_key": "\(eventKey)"])
            return nil
        case .integerOutOfRange(let literal):
            throw .integerOutOfRange(path: path(), literal: literal)
        case .array(let elements):
            guard depth < JSONParser.defaultMaxDepth else { throw .tooDeep(path: path(), limit: JSONParser.defaultMaxDepth) }
            var result: [JSONValue] = []
            result.reserveCapacity(elements.count)
            let base = path()
            for (index, element) in elements.enumerated() {
                if let converted = try sanitize(element, path: "\(base)[\(index)]", depth: depth + 1, eventKey: eventKey) {
                    result.append(converted)
                }
            }
            return .array(result)
        case .object(let dictionary):
            return .object(try sanitize(dictionary.deduplicated, path: path, depth: depth + 1, eventKey: eventKey))
        }
    }

    // MARK: Identity

    static func isDigits(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// A new UUID version 7 (RFC 9562) in lower case: the time in milliseconds, a counter, then
    /// random bits, so the uuids this process makes sort in the order they were made, and the
    /// queue's unique index on `uuid` takes each new key at its end.
    public static func makeUUID() -> String {
        let (high, low) = UUIDVersion7.next(nowMillis: currentMillis())
        let hex: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: 36) { buffer in
            var position = 0
            func put(_ word: UInt64, from bit: Int, count: Int) {
                for nibble in 0..<count {
                    let shift = bit - 4 * (nibble + 1)
                    buffer[position] = hex.utf8Start[Int((word >> UInt64(shift)) & 15)]
                    position += 1
                }
            }
            put(high, from: 64, count: 8)
            buffer[position] = UInt8(ascii: "-"); position += 1
            put(high, from: 32, count: 4)
            buffer[position] = UInt8(ascii: "-"); position += 1
            put(high, from: 16, count: 4)
            buffer[position] = UInt8(ascii: "-"); position += 1
            put(low, from: 64, count: 4)
            buffer[position] = UInt8(ascii: "-"); position += 1
            put(low, from: 48, count: 12)
            return position
        }
    }

    /// Milliseconds since the Unix epoch, now.
    public static func currentMillis() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }
}
