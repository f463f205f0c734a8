/// `Codable` for ``JSONValue``, so a type that holds loosely typed JSON (such as a received
/// batch's tags) can be `Codable` too.
///
/// A `Decoder` hides how the JSON was written, so this conformance keeps less than parsing
/// the text with ``JSONParser`` does:
/// - a number that decodes as an `Int64` becomes ``JSONValue/int(_:)``, any other number
///   ``JSONValue/double(_:)``. `JSONDecoder` decodes `30.0` as the integer 30, and
///   `JSONEncoder` writes `.double(30.0)` as `30`, so a whole float does not survive a
///   round trip through them; `19.99` and `30` do;
/// - a decoder does not report the order of an object's keys (`JSONDecoder`'s order changes
///   from run to run), so decoded members are sorted by key; repeated keys are not seen;
/// - encoding an object with a repeated key keeps whichever value the encoder keeps.
///
/// Where the difference matters, parse the JSON text with ``JSONParser`` instead.
///
/// ```swift
/// let tags = try JSONDecoder().decode(JSONValue.self, from: Data(#"{"value": 19.99, "revenue": 1999}"#.utf8))
/// // .object([.init(key: "revenue", value: .int(1999)), .init(key: "value", value: .double(FiniteDouble(19.99)!))])
/// ```
extension JSONValue: Codable {
    /// Decodes any JSON value; see the notes on this conformance for what a decoder loses.
    ///
    /// - Throws: `DecodingError.dataCorrupted` for a number that is NaN or infinite (which a
    ///   decoder with a non-conforming float strategy can produce).
    public init(from decoder: any Decoder) throws {
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            self = .null
        } else if let flag = try? single.decode(Bool.self) {
            self = .bool(flag)
        } else if let integer = try? single.decode(Int64.self) {
            // Succeeds only for a number without a fractional part that fits in 64 bits.
            self = .int(integer)
        } else if let number = try? single.decode(Double.self) {
            guard let finite = FiniteDouble(number) else {
                throw DecodingError.dataCorruptedError(in: single, debugDescription: "\(number) is not a finite number; JSON cannot hold it")
            }
            self = .double(finite)
        } else if let text = try? single.decode(String.self) {
            self = .string(text)
        } else if var elements = try? decoder.unkeyedContainer() {
            var values: [JSONValue] = []
            while !elements.isAtEnd {
                values.append(try elements.decode(JSONValue.self))
            }
            self = .array(values)
        } else {
            let members = try decoder.container(keyedBy: MemberKey.self)
            self = .object(try members.allKeys.sorted { $0.stringValue < $1.stringValue }.map { key in
                Member(key: key.stringValue, value: try members.decode(JSONValue.self, forKey: key))
            })
        }
    }

    /// Encodes the value as the JSON it stands for, object members in order.
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var single = encoder.singleValueContainer()
            try single.encodeNil()
        case .bool(let flag):
            var single = encoder.singleValueContainer()
            try single.encode(flag)
        case .int(let integer):
            var single = encoder.singleValueContainer()
            try single.encode(integer)
        case .double(let number):
            var single = encoder.singleValueContainer()
            try single.encode(number.value)
        case .string(let text):
            var single = encoder.singleValueContainer()
            try single.encode(text)
        case .array(let values):
            var elements = encoder.unkeyedContainer()
            for value in values { try elements.encode(value) }
        case .object(let members):
            var container = encoder.container(keyedBy: MemberKey.self)
            for member in members {
                try container.encode(member.value, forKey: MemberKey(stringValue: member.key))
            }
        }
    }

    /// An object key, whatever its text.
    private struct MemberKey: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }

        init(stringValue: String) { self.stringValue = stringValue }

        init?(intValue: Int) { nil }
    }
}
