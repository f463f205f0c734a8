/// Turns one line of `eventspool enqueue`'s JSON Lines input (cli.md) into a ``UserEvent``.
///
/// Pure: it reads no file and writes no queue. The caller adds the line number to errors.
///
/// ```swift
/// let decoder = EventLineDecoder(factory: UserEventFactory(config: config))
/// let event = try decoder.decode(#"{"op": "conversion", "user_id": "alice", "event_key": "purchase"}"#)
/// ```
///
/// The line is one JSON object:
/// - `op`: `"impression"` or `"conversion"`; `user_id`: a string; `attributes`: an object
///   (optional); `uuid`: a non-empty string and `timestamp`: an integer of milliseconds, both
///   optional, used as given when present and generated when absent or `null`.
/// - impressions: `experiment_key` (absent or `null`: no experiment, only with `rule_type`
///   `rollout`), `variation_key` or `variation_id`, `flag_key` (default `""`), `rule_key`
///   (default: the experiment key, or `""`), `rule_type` (default `experiment`), `enabled`
///   (default true), `cmab_uuid` (optional; empty counts as absent). Lookups follow
///   ``UserEventFactory/makeImpression(experimentKey:variationKey:variationId:flagKey:ruleKey:ruleType:enabled:userId:attributes:cmabUUID:uuid:timestampMillis:)``.
/// - conversions: `event_key` (a datafile event), `tags` (an object, optional; `null` sends no
///   tags).
/// - a number with a fraction or exponent is a float, one without an integer; the difference
///   is kept in attributes and tags. An integer beyond the signed 64-bit range is dropped from
///   attributes (it is beyond 2^53) and rejects the line in tags (spec §3).
/// - `null` counts as absent for every optional member; members not listed are ignored; a
///   repeated member counts once, with its last value (as Python's `json` reads it).
public struct EventLineDecoder: Sendable {
    /// The factory that builds the events (its datafile, client and logger).
    public let factory: UserEventFactory

    /// Creates a decoder over a factory.
    public init(factory: UserEventFactory) {
        self.factory = factory
    }

    /// Decodes one line of text (without its line break; a trailing `\r` is fine).
    public func decode(_ line: String) throws(EventLineError) -> UserEvent {
        var line = line
        let result = line.withUTF8 { bytes in
            Result { () throws(EventLineError) -> UserEvent in try decode(bytes) }
        }
        return try result.get()
    }

    /// Decodes one line of UTF-8 bytes.
    public func decode(_ bytes: UnsafeBufferPointer<UInt8>) throws(EventLineError) -> UserEvent {
        var body = bytes
        // A UTF-8 byte order mark (from some editors) at the start of a line is not JSON.
        if body.count >= 3, body[0] == 0xEF, body[1] == 0xBB, body[2] == 0xBF {
            body = UnsafeBufferPointer(rebasing: body[3...])
        }
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }) { throw .emptyLine }
        let value: EventValue
        do { value = try EventValue.parse(body) } catch { throw .invalidJSON(error) }
        guard case .object(let dictionary) = value else { throw .notAnObject(found: value.typeName) }
        let line = LineFields<EventLineError>(dictionary: dictionary)

        let op = try line.string("op")
        let userId = try line.string("user_id")
        let attributes = try line.optionalObject("attributes") ?? [:]
        let uuid = try line.optionalString("uuid")
        let timestamp = try line.optionalInteger("timestamp", expected: "an integer number of milliseconds since the Unix epoch")

        switch op {
        case "impression":
            let ruleType: RuleType
            if let ruleTypeText = try line.optionalString("rule_type") {
                guard let known = RuleType(rawValue: ruleTypeText) else { throw .unknownRuleType(ruleTypeText) }
                ruleType = known
            } else {
                ruleType = .experiment
            }
            let experimentKey = try line.optionalString("experiment_key")
            let variationKey = try line.optionalString("variation_key")
            let variationId = try line.optionalString("variation_id")
            let flagKey = try line.optionalString("flag_key") ?? ""
            let ruleKey = try line.optionalString("rule_key")
            let enabled = try line.optionalBool("enabled") ?? true
            let cmabUUID = try line.optionalString("cmab_uuid")
            do throws(UserEventError) {
                return try factory.makeImpression(
                    experimentKey: experimentKey, variationKey: variationKey, variationId: variationId,
                    flagKey: flagKey, ruleKey: ruleKey, ruleType: ruleType, enabled: enabled,
                    userId: userId, attributes: attributes, cmabUUID: cmabUUID,
                    uuid: uuid, timestampMillis: timestamp)
            } catch {
                throw .event(error)
            }
        case "conversion":
            let eventKey = try line.string("event_key")
            let tags = try line.optionalObject("tags")
            do throws(UserEventError) {
                return try factory.makeConversion(
                    eventKey: eventKey, userId: userId, attributes: attributes, tags: tags,
                    uuid: uuid, timestampMillis: timestamp)
            } catch {
                throw .event(error)
            }
        default:
            throw .unknownOp(op)
        }
    }
}

/// Why a line of `eventspool enqueue` input was rejected, and how to fix it.
public enum EventLineError: Error, Sendable, Hashable, CustomStringConvertible, LineFieldFailure {
    /// The line is empty or only white space.
    case emptyLine
    /// The line is not valid JSON.
    case invalidJSON(JSONParseError)
    /// The line is JSON but not an object.
    case notAnObject(found: String)
    /// A required member is absent or `null`.
    case missingField(String, expected: String)
    /// A member has the wrong JSON type.
    case wrongType(field: String, expected: String, found: String)
    /// `op` is neither `impression` nor `conversion`.
    case unknownOp(String)
    /// `rule_type` is not one of the four rule types.
    case unknownRuleType(String)
    /// The line is well-formed but cannot become an event (unknown key, say).
    case event(UserEventError)

    /// One line saying what is wrong with the line and how to fix it.
    public var description: String {
        switch self {
        case .emptyLine:
            "the line is empty; put one JSON object on each line"
        case .invalidJSON(let error):
            "\(error)"
        case .notAnObject(let found):
            "the line is a JSON \(found), not an object; put one JSON object such as {\"op\": \"conversion\", …} on each line"
        case .missingField(let field, let expected):
            "\"\(field)\" is missing; give \(expected)"
        case .wrongType(let field, let expected, let found):
            "\"\(field)\" is a \(found); give \(expected)"
        case .unknownOp(let op):
            "\"op\" is \"\(op)\"; use \"impression\" or \"conversion\""
        case .unknownRuleType(let ruleType):
            "\"rule_type\" is \"\(ruleType)\"; use \"experiment\", \"feature-test\", \"rollout\" or \"holdout\""
        case .event(let error):
            error.description
        }
    }
}

extension UserEventFactory {
    /// Decodes one line of `eventspool enqueue` input: ``EventLineDecoder/decode(_:)-(String)``.
    public func makeEvent(fromLine line: String) throws(EventLineError) -> UserEvent {
        try EventLineDecoder(factory: self).decode(line)
    }
}
