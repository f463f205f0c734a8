/// One call of the Optimizely client, as a line of `eventspool decide` writes it (cli.md):
/// how a script, a test or a benchmark drives the client from data.
///
/// ```swift
/// let call = try ClientCall(line: #"{"op": "decide", "user_id": "alice", "flag_key": "new_nav"}"#)
/// ```
///
/// Attributes and event tags keep integers and floats apart, and may hold the wrapped values
/// JSON cannot: `{"$float": "nan"}` (or `"inf"`, `"-inf"`, any decimal) and
/// `{"$int": "9007199254740993"}`.
public enum ClientCall: Sendable, Hashable {
    /// `user.decide(key:options:)`.
    case decide(userId: String, attributes: UserAttributes, flagKey: String, options: [OptimizelyDecideOption])
    /// `user.decide(keys:options:)`.
    case decideForKeys(userId: String, attributes: UserAttributes, flagKeys: [String], options: [OptimizelyDecideOption])
    /// `user.decideAll(options:)`.
    case decideAll(userId: String, attributes: UserAttributes, options: [OptimizelyDecideOption])
    /// `client.activate(experimentKey:userId:attributes:)`.
    case activate(experimentKey: String, userId: String, attributes: UserAttributes)
    /// `client.getVariation(experimentKey:userId:attributes:)`.
    case getVariation(experimentKey: String, userId: String, attributes: UserAttributes)
    /// `client.track(eventKey:userId:attributes:eventTags:)`.
    case track(eventKey: String, userId: String, attributes: UserAttributes, eventTags: EventTags?)
    /// `client.isFeatureEnabled(featureKey:userId:attributes:)`.
    case isFeatureEnabled(featureKey: String, userId: String, attributes: UserAttributes)
    /// `client.getEnabledFeatures(userId:attributes:)`.
    case getEnabledFeatures(userId: String, attributes: UserAttributes)
    /// `client.getAllFeatureVariables(featureKey:userId:attributes:)`.
    case getAllFeatureVariables(featureKey: String, userId: String, attributes: UserAttributes)
    /// `client.setForcedVariation(experimentKey:userId:variationKey:)`.
    case setForcedVariation(experimentKey: String, userId: String, variationKey: String?)
    /// `client.getForcedVariation(experimentKey:userId:)`.
    case getForcedVariation(experimentKey: String, userId: String)
    /// `user.setForcedDecision(context:decision:)` on the user's later calls.
    case setForcedDecision(userId: String, flagKey: String, ruleKey: String?, variationKey: String)
    /// `user.removeForcedDecision(context:)`.
    case removeForcedDecision(userId: String, flagKey: String, ruleKey: String?)
    /// `user.removeAllForcedDecisions()`.
    case removeAllForcedDecisions(userId: String)

    /// The call's `op`, as cli.md names it.
    public var op: String {
        switch self {
        case .decide: "decide"
        case .decideForKeys: "decide_for_keys"
        case .decideAll: "decide_all"
        case .activate: "activate"
        case .getVariation: "get_variation"
        case .track: "track"
        case .isFeatureEnabled: "is_feature_enabled"
        case .getEnabledFeatures: "get_enabled_features"
        case .getAllFeatureVariables: "get_all_feature_variables"
        case .setForcedVariation: "set_forced_variation"
        case .getForcedVariation: "get_forced_variation"
        case .setForcedDecision: "set_forced_decision"
        case .removeForcedDecision: "remove_forced_decision"
        case .removeAllForcedDecisions: "remove_all_forced_decisions"
        }
    }

    /// Reads a call from one line of JSON text.
    public init(line: String) throws(ClientCallError) {
        var line = line
        let result = line.withUTF8 { bytes in Result { () throws(ClientCallError) -> ClientCall in try ClientCall(line: bytes) } }
        self = try result.get()
    }

    /// Reads a call from one line of UTF-8 JSON.
    public init(line bytes: UnsafeBufferPointer<UInt8>) throws(ClientCallError) {
        let value: EventValue
        do { value = try EventValue.parse(bytes) } catch { throw .invalidJSON(error) }
        try self.init(json: value)
    }

    /// Reads a call from a parsed JSON object.
    public init(json: EventValue) throws(ClientCallError) {
        guard case .object(let dictionary) = json else { throw .notAnObject(found: json.typeName) }
        let fields = LineFields<ClientCallError>(dictionary: dictionary)
        let op = try fields.string("op")
        switch op {
        case "decide":
            self = .decide(userId: try fields.string("user_id"), attributes: try fields.attributes(),
                           flagKey: try fields.string("flag_key"), options: try fields.options())
        case "decide_for_keys":
            self = .decideForKeys(userId: try fields.string("user_id"), attributes: try fields.attributes(),
                                  flagKeys: try fields.strings("flag_keys"), options: try fields.options())
        case "decide_all":
            self = .decideAll(userId: try fields.string("user_id"), attributes: try fields.attributes(), options: try fields.options())
        case "activate":
            self = .activate(experimentKey: try fields.string("experiment_key"), userId: try fields.string("user_id"),
                             attributes: try fields.attributes())
        case "get_variation":
            self = .getVariation(experimentKey: try fields.string("experiment_key"), userId: try fields.string("user_id"),
                                 attributes: try fields.attributes())
        case "track":
            self = .track(eventKey: try fields.string("event_key"), userId: try fields.string("user_id"),
                          attributes: try fields.attributes(), eventTags: try fields.object("event_tags"))
        case "is_feature_enabled":
            self = .isFeatureEnabled(featureKey: try fields.string("feature_key"), userId: try fields.string("user_id"),
                                     attributes: try fields.attributes())
        case "get_enabled_features":
            self = .getEnabledFeatures(userId: try fields.string("user_id"), attributes: try fields.attributes())
        case "get_all_feature_variables":
            self = .getAllFeatureVariables(featureKey: try fields.string("feature_key"), userId: try fields.string("user_id"),
                                           attributes: try fields.attributes())
        case "set_forced_variation":
            self = .setForcedVariation(experimentKey: try fields.string("experiment_key"), userId: try fields.string("user_id"),
                                       variationKey: try fields.nullableString("variation_key"))
        case "get_forced_variation":
            self = .getForcedVariation(experimentKey: try fields.string("experiment_key"), userId: try fields.string("user_id"))
        case "set_forced_decision":
            self = .setForcedDecision(userId: try fields.string("user_id"), flagKey: try fields.string("flag_key"),
                                      ruleKey: try fields.optionalString("rule_key"), variationKey: try fields.string("variation_key"))
        case "remove_forced_decision":
            self = .removeForcedDecision(userId: try fields.string("user_id"), flagKey: try fields.string("flag_key"),
                                         ruleKey: try fields.optionalString("rule_key"))
        case "remove_all_forced_decisions":
            self = .removeAllForcedDecisions(userId: try fields.string("user_id"))
        default:
            throw .unknownOp(op)
        }
    }
}

/// Why a line is not a client call, and how to fix it.
public enum ClientCallError: Error, Sendable, Hashable, CustomStringConvertible, LineFieldFailure {
    /// The line is not valid JSON.
    case invalidJSON(JSONParseError)
    /// The line is JSON but not an object.
    case notAnObject(found: String)
    /// A required member is absent (or `null` where null is not allowed).
    case missingField(String, expected: String)
    /// A member has the wrong JSON type.
    case wrongType(field: String, expected: String, found: String)
    /// `op` names no call.
    case unknownOp(String)

    /// One line saying what is wrong and how to fix it.
    public var description: String {
        switch self {
        case .invalidJSON(let error): "\(error)"
        case .notAnObject(let found): "the line is a JSON \(found); give one object such as {\"op\": \"decide\", …} per line"
        case .missingField(let field, let expected): "\"\(field)\" is missing; give \(expected)"
        case .wrongType(let field, let expected, let found): "\"\(field)\" is a \(found); give \(expected)"
        case .unknownOp(let op):
            "\"op\" is \"\(op)\"; use one of decide, decide_for_keys, decide_all, activate, get_variation, track, is_feature_enabled, get_enabled_features, get_all_feature_variables, set_forced_variation, get_forced_variation, set_forced_decision, remove_forced_decision, remove_all_forced_decisions"
        }
    }
}
