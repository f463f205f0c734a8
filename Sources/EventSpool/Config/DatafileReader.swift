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

    /// A required integer (not a float, not a bool: `5000.5` and `5000.0` are refused, as the
    /// reference's schema refuses them).
    func requiredInteger(_ key: String) throws(DatafileError) -> Int {
        guard let value = value(key), value != .null else {
            throw .missingField(path: childPath(key), expected: "an integer")
        }
        guard case .int(let number) = value else {
            throw .wrongType(path: childPath(key), expected: "an integer", found: Self.describe(value))
        }
        return Int(clamping: number)
    }

    /// A required object's members.
    func requiredObject(_ key: String) throws(DatafileError) -> [JSONValue.Member] {
        guard let value = value(key), value != .null else {
            throw .missingField(path: childPath(key), expected: "an object")
        }
        return try Self.object(value, path: childPath(key))
    }

    /// A required list of strings.
    func requiredStringArray(_ key: String) throws(DatafileError) -> [String] {
        guard let value = value(key), value != .null else {
            throw .missingField(path: childPath(key), expected: "an array of strings")
        }
        return try stringArray(key)
    }

    /// A required list of objects, each read by `read`.
    func requiredArray<T>(_ key: String, _ read: (DatafileReader) throws(DatafileError) -> T) throws(DatafileError) -> [T] {
        guard let value = value(key), value != .null else {
            throw .missingField(path: childPath(key), expected: "an array")
        }
        return try array(key, read)
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
