/// An error a reader of JSON line members can report: a member missing, or of the wrong type.
protocol LineFieldFailure: Error {
    static func missingField(_ field: String, expected: String) -> Self
    static func wrongType(field: String, expected: String, found: String) -> Self
}

/// The members of one JSON line's object (an `enqueue` event, a `decide` call), each read with
/// the type cli.md gives it. `null` counts as absent; a repeated member counts once, with its
/// last value (as Python's `json` reads it).
struct LineFields<Failure: LineFieldFailure> {
    let dictionary: EventDictionary

    /// A member's value; `null` counts as absent.
    func value(_ key: String) -> EventValue? {
        guard let value = dictionary[key], value != .null else { return nil }
        return value
    }

    func string(_ key: String) throws(Failure) -> String {
        guard let value = value(key) else { throw .missingField(key, expected: "a string") }
        guard case .string(let text) = value else { throw .wrongType(field: key, expected: "a string", found: value.typeName) }
        return text
    }

    func optionalString(_ key: String) throws(Failure) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else { throw .wrongType(field: key, expected: "a string", found: value.typeName) }
        return text
    }

    /// A member that must be present but may be `null`.
    func nullableString(_ key: String) throws(Failure) -> String? {
        guard dictionary[key] != nil else { throw .missingField(key, expected: "a string, or null") }
        return try optionalString(key)
    }

    func strings(_ key: String) throws(Failure) -> [String] {
        guard let value = value(key) else { throw .missingField(key, expected: "an array of strings") }
        guard case .array(let elements) = value else { throw .wrongType(field: key, expected: "an array of strings", found: value.typeName) }
        var result: [String] = []
        for (index, element) in elements.enumerated() {
            guard case .string(let text) = element else {
                throw .wrongType(field: "\(key)[\(index)]", expected: "a string", found: element.typeName)
            }
            result.append(text)
        }
        return result
    }

    func optionalBool(_ key: String) throws(Failure) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let flag) = value else { throw .wrongType(field: key, expected: "true or false", found: value.typeName) }
        return flag
    }

    func optionalInteger(_ key: String, expected: String) throws(Failure) -> Int64? {
        guard let value = value(key) else { return nil }
        guard case .int(let number) = value else { throw .wrongType(field: key, expected: expected, found: value.typeName) }
        return number
    }

    func optionalObject(_ key: String) throws(Failure) -> EventDictionary? {
        guard let value = value(key) else { return nil }
        guard case .object(let members) = value else { throw .wrongType(field: key, expected: "an object", found: value.typeName) }
        return members
    }
}
