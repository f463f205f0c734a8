/// A value a caller puts in a user's attributes or an event's tags, before it is checked.
///
/// Unlike ``JSONValue``, an `EventValue` can hold what the reference SDK accepts from a caller
/// but JSON cannot carry: NaN and infinities, and integers outside the signed 64-bit range.
/// ``UserEventFactory`` applies spec §3 to them: such attributes are dropped; in tags a
/// non-finite number is dropped (and logged) and an out-of-range integer is a typed error.
///
/// It is expressible by literals, so attributes read like the Python SDK's dictionaries:
///
/// ```swift
/// let attributes: UserAttributes = ["browser": "chrome", "age": 31, "ltv": 12.5]
/// let tags: EventTags = ["revenue": 1999, "value": 19.99, "category": "shoes"]
/// ```
///
/// Not `indirect`, like ``JSONValue``: nested values live in an array's storage, and a scalar
/// needs no box of its own.
public enum EventValue: Sendable, Hashable {
    /// `None` / `null`.
    case null
    /// A bool (never counted as a number, unlike Python).
    case bool(Bool)
    /// An integer.
    case int(Int64)
    /// A floating-point number; may be NaN or infinite.
    case double(Double)
    /// A string.
    case string(String)
    /// A list.
    case array([EventValue])
    /// A dictionary, in the caller's order.
    case object(EventDictionary)
    /// An integer that does not fit in a signed 64-bit integer, as its decimal text
    /// (for example from a JSON line, or a `UInt64` above `Int64.max`).
    case integerOutOfRange(String)

    /// Converts a Swift value of the kinds the Python SDK accepts (`String`, `Bool`, the integer
    /// and floating-point types, `nil`/`NSNull`-free optionals, arrays and `[String: Any]` or
    /// `KeyValuePairs`), for callers moving from `[String: Any]`. Anything else cannot be JSON
    /// and throws ``UserEventError/notJSON(path:typeName:)``.
    ///
    /// A Swift `Dictionary` has no order, so its keys are taken sorted; pass an
    /// ``EventDictionary`` to keep an order.
    public init(any value: Any, path: String = "$") throws(UserEventError) {
        switch value {
        case let value as EventValue: self = value
        case let value as JSONValue: self = EventValue(value)
        case let value as String: self = .string(value)
        case let value as Substring: self = .string(String(value))
        case let value as Bool: self = .bool(value)
        case let value as Int: self = .int(Int64(value))
        case let value as Int8: self = .int(Int64(value))
        case let value as Int16: self = .int(Int64(value))
        case let value as Int32: self = .int(Int64(value))
        case let value as Int64: self = .int(value)
        case let value as UInt8: self = .int(Int64(value))
        case let value as UInt16: self = .int(Int64(value))
        case let value as UInt32: self = .int(Int64(value))
        case let value as UInt:
            self = Int64(exactly: value).map(EventValue.int) ?? .integerOutOfRange(String(value))
        case let value as UInt64:
            self = Int64(exactly: value).map(EventValue.int) ?? .integerOutOfRange(String(value))
        case let value as Double: self = .double(value)
        case let value as Float: self = .double(Double(value))
        case let value as EventDictionary: self = .object(value)
        case let value as [String: Any]:
            var members: [EventDictionary.Member] = []
            members.reserveCapacity(value.count)
            for key in value.keys.sorted() {
                members.append(.init(key: key, value: try EventValue(any: value[key] as Any, path: "\(path).\(key)")))
            }
            self = .object(EventDictionary(members: members))
        case let value as [Any]:
            var elements: [EventValue] = []
            elements.reserveCapacity(value.count)
            for (index, element) in value.enumerated() {
                elements.append(try EventValue(any: element, path: "\(path)[\(index)]"))
            }
            self = .array(elements)
        default:
            // An Optional boxed in Any: nil is null, a wrapped value is converted.
            let mirror = Mirror(reflecting: value)
            if mirror.displayStyle == .optional {
                if let child = mirror.children.first {
                    self = try EventValue(any: child.value, path: path)
                } else {
                    self = .null
                }
                return
            }
            throw .notJSON(path: path, typeName: String(describing: type(of: value)))
        }
    }

    /// Converts a parsed JSON value (always representable).
    public init(_ json: JSONValue) {
        switch json {
        case .null: self = .null
        case .bool(let value): self = .bool(value)
        case .int(let value): self = .int(value)
        case .double(let value): self = .double(value.value)
        case .string(let value): self = .string(value)
        case .array(let values): self = .array(values.map(EventValue.init))
        case .object(let members):
            self = .object(EventDictionary(members: members.map { .init(key: $0.key, value: EventValue($0.value)) }))
        }
    }

    /// Parses one JSON text into an `EventValue`. Integers outside the signed 64-bit range
    /// become ``integerOutOfRange(_:)`` and numbers too large for a `Double` become infinities,
    /// so that spec §3 can decide what happens to them; everything else follows ``JSONParser``.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int = JSONParser.defaultMaxDepth) throws(JSONParseError) -> EventValue {
        var parser = JSONParser.Cursor<EventValue>(bytes: bytes, maxDepth: maxDepth)
        return try parser.parseDocument()
    }

    /// The JSON-ish type name of this value, for messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int, .integerOutOfRange: "integer"
        case .double: "float"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

extension EventValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByNilLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    /// A string value, from a string literal.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An integer value, from an integer literal (it stays an integer on the wire).
    public init(integerLiteral value: Int64) { self = .int(value) }
    /// A floating-point value, from a float literal (it stays a float on the wire).
    public init(floatLiteral value: Double) { self = .double(value) }
    /// A Boolean value, from `true` or `false`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// `null`, from `nil`.
    public init(nilLiteral: ()) { self = .null }
    /// An array, from an array literal.
    public init(arrayLiteral elements: EventValue...) { self = .array(elements) }
    /// An object, from a dictionary literal; its members keep the literal's order.
    public init(dictionaryLiteral elements: (String, EventValue)...) {
        self = .object(EventDictionary(members: elements.map { .init(key: $0.0, value: $0.1) }))
    }
}

/// An ordered dictionary of ``EventValue``s: a user's attributes or an event's tags, in the
/// caller's order (spec §3 keeps it on the wire).
///
/// A repeated key behaves like a Python `dict` built from the same pairs: the key keeps its
/// first position and takes its last value.
public struct EventDictionary: Sendable, Hashable, ExpressibleByDictionaryLiteral, RandomAccessCollection {
    /// One key and value.
    public struct Member: Sendable, Hashable {
        /// The key.
        public var key: String
        /// The value.
        public var value: EventValue

        /// Creates a member.
        public init(key: String, value: EventValue) {
            self.key = key
            self.value = value
        }
    }

    /// The members in the order given (repeated keys included).
    public var members: [Member]

    /// Creates a dictionary from members in order.
    public init(members: [Member] = []) { self.members = members }

    /// A dictionary from a literal; its members keep the literal's order.
    public init(dictionaryLiteral elements: (String, EventValue)...) {
        members = elements.map { Member(key: $0.0, value: $0.1) }
    }

    /// The position of the first member.
    public var startIndex: Int { members.startIndex }
    /// The position past the last member.
    public var endIndex: Int { members.endIndex }
    /// The member at `position`, in the order the members were given.
    public subscript(position: Int) -> Member { members[position] }

    /// The value for `key` as a Python `dict` would hold it (the last one given).
    public subscript(key: String) -> EventValue? {
        members.last(where: { $0.key == key })?.value
    }

    /// The members with repeated keys merged Python-style: first position, last value.
    var deduplicated: [Member] {
        // Small dictionaries (the common case) are checked pairwise without hashing.
        if members.count <= 1 { return members }
        var hasRepeat = false
        if members.count <= 16 {
            outer: for index in 1..<members.count {
                for earlier in 0..<index where members[earlier].key == members[index].key {
                    hasRepeat = true
                    break outer
                }
            }
        } else {
            var seen = Set<String>(minimumCapacity: members.count)
            for member in members where !seen.insert(member.key).inserted {
                hasRepeat = true
                break
            }
        }
        guard hasRepeat else { return members }
        var result: [Member] = []
        var position: [String: Int] = [:]
        for member in members {
            if let index = position[member.key] {
                result[index].value = member.value
            } else {
                position[member.key] = result.count
                result.append(member)
            }
        }
        return result
    }
}

/// A user's attributes, in the caller's order.
public typealias UserAttributes = EventDictionary
/// A conversion's event tags, in the caller's order.
public typealias EventTags = EventDictionary
