/// The variable getters (spec `decisions.md` §11–§12.5): the flag decided as
/// ``OptimizelyClient/isFeatureEnabled(featureKey:userId:attributes:)`` decides it, but without
/// an impression.
extension OptimizelyClient {
    /// A variable's value for the user, typed by the variable's declared type; `nil` for an
    /// unknown flag or variable, or a value that cannot be read as its type.
    public func getFeatureVariable(featureKey: String, variableKey: String, userId: String, attributes: UserAttributes = [:]) -> EventValue? {
        featureVariable(featureKey: featureKey, variableKey: variableKey, type: nil, userId: userId, attributes: attributes)
    }

    /// A `boolean` variable's value; `nil` when the variable is of another type.
    public func getFeatureVariableBoolean(featureKey: String, variableKey: String, userId: String, attributes: UserAttributes = [:]) -> Bool? {
        guard case .bool(let value)? = featureVariable(featureKey: featureKey, variableKey: variableKey, type: "boolean", userId: userId, attributes: attributes) else { return nil }
        return value
    }

    /// A `double` variable's value; `nil` when the variable is of another type.
    public func getFeatureVariableDouble(featureKey: String, variableKey: String, userId: String, attributes: UserAttributes = [:]) -> Double? {
        guard case .double(let value)? = featureVariable(featureKey: featureKey, variableKey: variableKey, type: "double", userId: userId, attributes: attributes) else { return nil }
        return value
    }

    /// An `integer` variable's value; `nil` when the variable is of another type or its value
    /// does not fit in 64 bits.
    public func getFeatureVariableInteger(featureKey: String, variableKey: String, userId: String, attributes: UserAttributes = [:]) -> Int? {
        guard case .int(let value)? = featureVariable(featureKey: featureKey, variableKey: variableKey, type: "integer", userId: userId, attributes: attributes) else { return nil }
        return Int(exactly: value)
    }

    /// A `string` variable's value; `nil` when the variable is of another type.
    public func getFeatureVariableString(featureKey: String, variableKey: String, userId: String, attributes: UserAttributes = [:]) -> String? {
        guard case .string(let value)? = featureVariable(featureKey: featureKey, variableKey: variableKey, type: "string", userId: userId, attributes: attributes) else { return nil }
        return value
    }

    /// A `json` variable's value; `nil` when the variable is of another type.
    public func getFeatureVariableJSON(featureKey: String, variableKey: String, userId: String, attributes: UserAttributes = [:]) -> EventValue? {
        featureVariable(featureKey: featureKey, variableKey: variableKey, type: "json", userId: userId, attributes: attributes)
    }

    /// Every variable of a flag for the user, typed, in datafile order; `nil` for an unknown flag.
    public func getAllFeatureVariables(featureKey: String, userId: String, attributes: UserAttributes = [:]) -> EventDictionary? {
        guard let active = current(failing: "get_all_feature_variables"), isValid(featureKey, name: "feature_key") else { return nil }
        guard let flag = active.config.featureFlag(key: featureKey) else { return nil }
        let attributes = dedupe(attributes)
        let decision = decideFeature(flag, userId: userId, attributes: attributes, active: active)
        let values = Self.variableValues(of: flag, variation: decision.enabled ? decision.variation : nil, config: active.config)
        var sourceInfo = EventDictionary()
        if decision.source == .featureTest {
            sourceInfo = ["experiment_key": decision.experiment.map { .string($0.key) } ?? .null,
                          "variation_key": decision.variation.map { .string($0.key) } ?? .null]
        }
        notifyDecision(.allFeatureVariables, userId: userId, attributes: attributes, info: [
            "feature_key": .string(featureKey),
            "feature_enabled": .bool(decision.enabled),
            "variable_values": .object(values),
            "source": .string(decision.source.rawValue),
            "source_info": .object(sourceInfo),
        ])
        return values
    }

    /// The reference's `_get_feature_variable_for_type`: `type` `nil` takes the variable's own.
    private func featureVariable(featureKey: String, variableKey: String, type requested: String?, userId: String,
                                 attributes: UserAttributes) -> EventValue? {
        guard let active = current(failing: "get_feature_variable"),
              isValid(featureKey, name: "feature_key"), isValid(variableKey, name: "variable_key") else { return nil }
        guard let flag = active.config.featureFlag(key: featureKey) else { return nil }
        guard let variable = flag.variable(key: variableKey) else {
            logger.error("Variable with key \"\(variableKey)\" not found in the datafile.")
            return nil
        }
        let type = requested ?? variable.type
        guard variable.type == type else {
            logger.warning("Requested variable type \"\(type)\", but variable is of type \"\(variable.type)\". Use correct API to retrieve value. Returning None.")
            return nil
        }
        let attributes = dedupe(attributes)
        let decision = decideFeature(flag, userId: userId, attributes: attributes, active: active)
        var sourceInfo = EventDictionary()
        if decision.source == .featureTest || decision.source == .holdout {
            sourceInfo = ["experiment_key": decision.experiment.map { .string($0.key) } ?? .null,
                          "variation_key": decision.variation.map { .string($0.key) } ?? .null]
        }
        let value = active.config.value(of: variable, in: decision.enabled ? decision.variation : nil)
        if value == nil { logger.error("Unable to cast value. Returning None.") }
        notifyDecision(.featureVariable, userId: userId, attributes: attributes, info: [
            "feature_key": .string(featureKey),
            "feature_enabled": .bool(decision.enabled),
            "source": .string(decision.source.rawValue),
            "variable_key": .string(variableKey),
            "variable_value": value ?? .null,
            "variable_type": .string(type),
            "source_info": .object(sourceInfo),
        ])
        return value
    }
}
