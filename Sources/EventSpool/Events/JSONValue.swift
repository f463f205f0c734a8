/// A JSON value that is always valid on the wire.
///
/// `JSONValue` keeps apart what the Events API and the reference SDK keep apart: an integer
/// (`30`) is ``int(_:)``, a floating-point number (`30.0`) is ``double(_:)``. Objects keep their
/// keys in the order they were given (the reference serializer keeps a `dict`'s order). A
/// ``FiniteDouble`` cannot be NaN or infinite, so no `JSONValue` can ever encode to invalid JSON.
///
/// ```swift
/// let tags: JSONValue = .object([
///     .init(key: "revenue", value: .int(1999)),
///     .init(key: "value", value: .double(FiniteDouble(19.99)!)),
/// ])
/// let parsed = try JSONValue.parse("{\"revenue\": 1999, \"value\": 19.99}")
/// assert(parsed == tags)
/// ```
///
/// Not `indirect`: arrays and objects already hold their elements in an array's heap storage,
/// so a scalar is stored inline instead of in a box of its own (one allocation less per value
/// parsed or built).
public enum JSONValue: Sendable, Hashable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// An integer: a JSON number written without fraction or exponent.
    case int(Int64)
    /// A floating-point number: a JSON number written with a fraction or an exponent.
    case double(FiniteDouble)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object, its members in the order given. Keys are not deduplicated.
    case object([Member])

    /// One key and value of a JSON object.
    public struct Member: Sendable, Hashable {
        /// The member's key.
        public var key: String
        /// The member's value.
        public var value: JSONValue

        /// Creates a member.
        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// The value of the first member named `key` when this is an object; `nil` otherwise.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first(where: { $0.key == key })?.value
    }

    /// Whether the object has a member named `key` (with any value, `null` included).
    public func hasMember(_ key: String) -> Bool {
        guard case .object(let members) = self else { return false }
        return members.contains(where: { $0.key == key })
    }

    /// The JSON type name of this value (`"string"`, `"integer"`, `"float"`, …), for messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int: "integer"
        case .double: "float"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// The string when this is a string.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The bool when this is a bool.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }
}

/// A `Double` that is neither NaN nor infinite: the only kind of floating-point number JSON can
/// carry.
///
/// The initializer is failable, so a non-finite value can never reach a ``JSONValue``.
public struct FiniteDouble: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The number.
    public let value: Double

    /// Wraps `value`, or returns `nil` when it is NaN or infinite.
    @inlinable
    public init?(_ value: Double) {
        guard value.isFinite else { return nil }
        self.value = value
    }

    /// Wraps an integer (converted to the nearest `Double`, as Python's `float()` does).
    @inlinable
    public init(_ value: Int64) {
        self.value = Double(value)
    }

    /// Orders by value.
    public static func < (lhs: FiniteDouble, rhs: FiniteDouble) -> Bool { lhs.value < rhs.value }

    /// The number as it is written on the wire (as the payload encoder writes it): always with a
    /// fraction or an exponent, so it reads back as a float.
    public var description: String { PayloadEncoder.formatDouble(value) }
}

extension JSONValue {
    /// Parses JSON text (RFC 8259) into a value; see ``JSONParser``.
    public static func parse(_ text: String, maxDepth: Int = JSONParser.defaultMaxDepth) throws(JSONParseError) -> JSONValue {
        var text = text
        let result = text.withUTF8 { bytes in
            Result { () throws(JSONParseError) -> JSONValue in try JSONParser.parse(bytes, maxDepth: maxDepth) }
        }
        return try result.get()
    }

    /// Parses UTF-8 JSON bytes into a value; see ``JSONParser``.
    public static func parse(_ bytes: some Sequence<UInt8>, maxDepth: Int = JSONParser.defaultMaxDepth) throws(JSONParseError) -> JSONValue {
        let array = Array(bytes)
        let result = array.withUnsafeBufferPointer { buffer in
            Result { () throws(JSONParseError) -> JSONValue in try JSONParser.parse(buffer, maxDepth: maxDepth) }
        }
        return try result.get()
    }

    /// This value as compact JSON text with the wire format's spacing (`", "` and `": "`).
    public var jsonText: String {
        var writer = JSONWriter(capacity: 64)
        writer.write(self)
        return writer.string
    }
}
