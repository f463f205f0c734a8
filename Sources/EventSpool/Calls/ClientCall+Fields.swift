/// What a call line reads besides strings: its attributes, tags and options.
extension LineFields where Failure == ClientCallError {
    /// An optional object, its `$float` and `$int` wrappers unwrapped.
    func object(_ key: String) throws(ClientCallError) -> EventDictionary? {
        guard let value = value(key) else { return nil }
        guard case .object(let members) = value.unwrapped else { throw .wrongType(field: key, expected: "an object", found: value.typeName) }
        return members
    }

    /// `attributes`: an object, or none.
    func attributes() throws(ClientCallError) -> UserAttributes {
        try object("attributes") ?? [:]
    }

    /// `options`: the decide options by their reference names; unknown names are ignored, as
    /// the reference ignores them.
    func options() throws(ClientCallError) -> [OptimizelyDecideOption] {
        guard value("options") != nil else { return [] }
        return try strings("options").compactMap(OptimizelyDecideOption.init(rawValue:))
    }
}

extension EventValue {
    /// The value with `{"$float": "nan"}`-style and `{"$int": "…"}` wrappers replaced by the
    /// numbers they stand for, at any depth (a wrapper whose text is not a number stays as it is).
    public var unwrapped: EventValue {
        switch self {
        case .array(let elements):
            return .array(elements.map(\.unwrapped))
        case .object(let dictionary):
            if dictionary.members.count == 1, case .string(let text) = dictionary.members[0].value {
                switch dictionary.members[0].key {
                case "$float":
                    if let number = NumericString.pythonFloat(text) { return .double(number) }
                case "$int":
                    if let number = VariableCast.integer(text) { return number }
                default:
                    break
                }
            }
            return .object(EventDictionary(members: dictionary.members.map { .init(key: $0.key, value: $0.value.unwrapped) }))
        default:
            return self
        }
    }

    /// The value as JSON, with the numbers JSON cannot hold wrapped: `{"$float": "nan"}`,
    /// `{"$float": "inf"}`, `{"$float": "-inf"}`, `{"$int": "…"}` (the reverse of ``unwrapped``).
    public var wrappedJSON: JSONValue {
        switch self {
        case .null: return .null
        case .bool(let flag): return .bool(flag)
        case .int(let number): return .int(number)
        case .string(let text): return .string(text)
        case .double(let number):
            if let finite = FiniteDouble(number) { return .double(finite) }
            let text = number.isNaN ? "nan" : number < 0 ? "-inf" : "inf"
            return .object([.init(key: "$float", value: .string(text))])
        case .integerOutOfRange(let literal):
            return .object([.init(key: "$int", value: .string(literal))])
        case .array(let elements):
            return .array(elements.map(\.wrappedJSON))
        case .object(let dictionary):
            return .object(dictionary.members.map { .init(key: $0.key, value: $0.value.wrappedJSON) })
        }
    }
}
