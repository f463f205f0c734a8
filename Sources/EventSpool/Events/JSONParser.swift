/// EventSpool's JSON parser (RFC 8259), written so that `30` and `30.0` stay apart.
///
/// Foundation's `JSONSerialization` cannot tell an integer from a float reliably on Linux, and
/// spec §3 keeps the distinction on the wire. So:
/// - a number written with a fraction or an exponent is a float (``JSONValue/double(_:)``),
///   one without is an integer (``JSONValue/int(_:)``); `-0` is the integer 0;
/// - an integer literal outside the signed 64-bit range is an error
///   (``JSONParseError/Reason/integerOutOfRange(_:)``), and so is a float literal too large for
///   a `Double` (``JSONParseError/Reason/numberOutOfRange(_:)``): a ``JSONValue`` cannot hold
///   them. (``EventValue/parse(_:maxDepth:)`` keeps them instead, for spec §3 to judge.)
/// - object keys are kept in order, repeated keys included;
/// - strings must be valid UTF-8 without raw control characters; `\u` escapes must pair
///   surrogates;
/// - nesting deeper than `maxDepth` arrays and objects is an error, so no input can exhaust
///   the stack.
///
/// The parser never traps: every input gives a value or a ``JSONParseError`` with the byte
/// offset where it went wrong and what was expected there.
public enum JSONParser: Sendable {
    /// The default nesting limit: far beyond any datafile or event, far below the stack's.
    public static let defaultMaxDepth = 128

    /// Parses one JSON document from UTF-8 bytes. Whitespace may surround it; anything else
    /// after it is an error.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int = defaultMaxDepth) throws(JSONParseError) -> JSONValue {
        var cursor = Cursor<JSONValue>(bytes: bytes, maxDepth: maxDepth)
        return try cursor.parseDocument()
    }
}

/// Why JSON text could not be parsed, and where.
public struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public enum Reason: Sendable, Hashable {
        /// The text ended where `expected` was required.
        case unexpectedEnd(expected: String)
        /// A byte that cannot start or continue what was `expected`.
        case unexpectedCharacter(String, expected: String)
        /// An integer literal that does not fit in a signed 64-bit integer.
        case integerOutOfRange(String)
        /// A float literal too large for a `Double`.
        case numberOutOfRange(String)
        /// A backslash escape that JSON does not define.
        case invalidEscape(String)
        /// A `\u` escape of a UTF-16 surrogate without its partner.
        case unpairedSurrogate(String)
        /// A string that is not valid UTF-8.
        case invalidUTF8
        /// A raw control character (below U+0020) inside a string.
        case controlCharacterInString(UInt8)
        /// Arrays and objects nested deeper than the limit.
        case tooDeep(limit: Int)
        /// More text after a complete JSON value.
        case trailingCharacters
    }

    /// What went wrong.
    public var reason: Reason
    /// The byte offset (from 0) in the input where it went wrong.
    public var offset: Int

    /// Creates an error.
    public init(_ reason: Reason, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    /// What is wrong and where, in one line (with the byte offset).
    public var description: String {
        let what: String
        switch reason {
        case .unexpectedEnd(let expected):
            what = "the text ends where \(expected) was expected; the JSON is cut short"
        case .unexpectedCharacter(let found, let expected):
            what = "found \(found) where \(expected) was expected"
        case .integerOutOfRange(let literal):
            what = "the integer \(literal) does not fit in a signed 64-bit integer; send a smaller number, or a string"
        case .numberOutOfRange(let literal):
            what = "the number \(literal) is too large for a 64-bit float; send a smaller number, or a string"
        case .invalidEscape(let escape):
            what = "\(escape) is not a JSON escape; use \\\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t or \\uXXXX"
        case .unpairedSurrogate(let escape):
            what = "\(escape) is half of a UTF-16 surrogate pair without its other half"
        case .invalidUTF8:
            what = "a string is not valid UTF-8; re-encode the input as UTF-8"
        case .controlCharacterInString(let byte):
            what = "a string holds the raw control character U+\(hex4(UInt16(byte))); escape it (e.g. \\n or \\u\(hex4(UInt16(byte))))"
        case .tooDeep(let limit):
            what = "arrays and objects are nested deeper than \(limit) levels; flatten the data"
        case .trailingCharacters:
            what = "there is more text after the JSON value; put one JSON value per input"
        }
        return "invalid JSON at byte \(offset): \(what)"
    }
}

func hex4(_ value: UInt16) -> String {
    let digits = Array("0123456789ABCDEF")
    return String([digits[Int(value >> 12) & 15], digits[Int(value >> 8) & 15], digits[Int(value >> 4) & 15], digits[Int(value) & 15]])
}

/// What the parser builds: ``JSONValue`` (strict) or ``EventValue`` (keeps what spec §3 judges).
protocol JSONTreeBuilding {
    associatedtype ObjectMember
    static var jsonNull: Self { get }
    static func jsonBool(_ value: Bool) -> Self
    static func jsonInt(_ value: Int64) -> Self
    static func jsonIntegerOutOfRange(_ literal: String, offset: Int) throws(JSONParseError) -> Self
    static func jsonDouble(_ value: Double, literal: String, offset: Int) throws(JSONParseError) -> Self
    static func jsonString(_ value: String) -> Self
    static func jsonArray(_ elements: [Self]) -> Self
    static func jsonMember(_ key: String, _ value: Self) -> ObjectMember
    static func jsonObject(_ members: [ObjectMember]) -> Self
}

extension JSONValue: JSONTreeBuilding {
    static var jsonNull: JSONValue { .null }
    static func jsonBool(_ value: Bool) -> JSONValue { .bool(value) }
    static func jsonInt(_ value: Int64) -> JSONValue { .int(value) }
    static func jsonIntegerOutOfRange(_ literal: String, offset: Int) throws(JSONParseError) -> JSONValue {
        throw JSONParseError(.integerOutOfRange(literal), at: offset)
    }
    static func jsonDouble(_ value: Double, literal: String, offset: Int) throws(JSONParseError) -> JSONValue {
        guard let finite = FiniteDouble(value) else { throw JSONParseError(.numberOutOfRange(literal), at: offset) }
        return .double(finite)
    }
    static func jsonString(_ value: String) -> JSONValue { .string(value) }
    static func jsonArray(_ elements: [JSONValue]) -> JSONValue { .array(elements) }
    static func jsonMember(_ key: String, _ value: JSONValue) -> Member { Member(key: key, value: value) }
    static func jsonObject(_ members: [Member]) -> JSONValue { .object(members) }
}

extension EventValue: JSONTreeBuilding {
    static var jsonNull: EventValue { .null }
    static func jsonBool(_ value: Bool) -> EventValue { .bool(value) }
    static func jsonInt(_ value: Int64) -> EventValue { .int(value) }
    static func jsonIntegerOutOfRange(_ literal: String, offset: Int) throws(JSONParseError) -> EventValue {
        .integerOutOfRange(literal)
    }
    static func jsonDouble(_ value: Double, literal: String, offset: Int) throws(JSONParseError) -> EventValue {
        .double(value)
    }
    static func jsonString(_ value: String) -> EventValue { .string(value) }
    static func jsonArray(_ elements: [EventValue]) -> EventValue { .array(elements) }
    static func jsonMember(_ key: String, _ value: EventValue) -> EventDictionary.Member { .init(key: key, value: value) }
    static func jsonObject(_ members: [EventDictionary.Member]) -> EventValue { .object(EventDictionary(members: members)) }
}

extension JSONParser {
    /// A recursive-descent parser over a byte buffer. Every read is bounds-checked against
    /// `end`; recursion is bounded by `maxDepth`.
    struct Cursor<Value: JSONTreeBuilding> {
        let bytes: UnsafeBufferPointer<UInt8>
        let maxDepth: Int
        var index = 0
        var depth = 0
        /// Reused for strings with escapes.
        var scratch: [UInt8] = []

        init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
            self.bytes = bytes
            self.maxDepth = max(1, maxDepth)
        }

        mutating func parseDocument() throws(JSONParseError) -> Value {
            skipWhitespace()
            let value = try parseValue()
            skipWhitespace()
            if index < bytes.count { throw JSONParseError(.trailingCharacters, at: index) }
            return value
        }

        @inline(__always)
        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        func describe(_ byte: UInt8) -> String {
            if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
            return "byte 0x\(String(byte, radix: 16, uppercase: true))"
        }

        func unexpected(expected: String) -> JSONParseError {
            if index >= bytes.count { return JSONParseError(.unexpectedEnd(expected: expected), at: index) }
            return JSONParseError(.unexpectedCharacter(describe(bytes[index]), expected: expected), at: index)
        }

        mutating func parseValue() throws(JSONParseError) -> Value {
            guard index < bytes.count else { throw unexpected(expected: "a value") }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try parseObject()
            case UInt8(ascii: "["): return try parseArray()
            case UInt8(ascii: "\""): return Value.jsonString(try parseString())
            case UInt8(ascii: "t"): try expectLiteral("true"); return Value.jsonBool(true)
            case UInt8(ascii: "f"): try expectLiteral("false"); return Value.jsonBool(false)
            case UInt8(ascii: "n"): try expectLiteral("null"); return Value.jsonNull
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
            default: throw unexpected(expected: "a value (object, array, string, number, true, false or null)")
            }
        }

        mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
            let start = index
            let count = literal.utf8CodeUnitCount
            let pointer = literal.utf8Start
            for offset in 0..<count {
                guard start + offset < bytes.count, bytes[start + offset] == pointer[offset] else {
                    index = start + offset
                    throw unexpected(expected: "'\(literal)'")
                }
            }
            index = start + count
        }

        mutating func enter() throws(JSONParseError) {
            depth += 1
            if depth > maxDepth { throw JSONParseError(.tooDeep(limit: maxDepth), at: index) }
        }

        mutating func parseArray() throws(JSONParseError) -> Value {
            try enter()
            index += 1  // [
            var elements: [Value] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                depth -= 1
                return Value.jsonArray(elements)
            }
            while true {
                skipWhitespace()
                elements.append(try parseValue())
                skipWhitespace()
                guard index < bytes.count else { throw unexpected(expected: "',' or ']'") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                } else if bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    depth -= 1
                    return Value.jsonArray(elements)
                } else {
                    throw unexpected(expected: "',' or ']'")
                }
            }
        }

        mutating func parseObject() throws(JSONParseError) -> Value {
            try enter()
            index += 1  // {
            var members: [Value.ObjectMember] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                depth -= 1
                return Value.jsonObject(members)
            }
            // Room for a typical object's members at once, instead of growing 1, 2, 4, 8.
            members.reserveCapacity(8)
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                    throw unexpected(expected: "a string key in double quotes")
                }
                let key = try parseString()
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw unexpected(expected: "':'") }
                index += 1
                skipWhitespace()
                let value = try parseValue()
                members.append(Value.jsonMember(key, value))
                skipWhitespace()
                guard index < bytes.count else { throw unexpected(expected: "',' or '}'") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                } else if bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    depth -= 1
                    return Value.jsonObject(members)
                } else {
                    throw unexpected(expected: "',' or '}'")
                }
            }
        }

        /// Parses a string starting at its opening quote.
        mutating func parseString() throws(JSONParseError) -> String {
            let quote = index
            index += 1
            let start = index
            // Fast path: no escapes.
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                    index += 1
                    return try makeString(slice, at: start)
                }
                if byte == UInt8(ascii: "\\") { break }
                if byte < 0x20 { throw JSONParseError(.controlCharacterInString(byte), at: index) }
                index += 1
            }
            guard index < bytes.count else {
                throw JSONParseError(.unexpectedEnd(expected: "the closing '\"' of the string that starts at byte \(quote)"), at: index)
            }
            // Slow path: copy into scratch, decoding escapes.
            scratch.removeAll(keepingCapacity: true)
            scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    let result = scratch.withUnsafeBufferPointer { String(validating: $0, as: UTF8.self) }
                    guard let result else { throw JSONParseError(.invalidUTF8, at: start) }
                    return result
                }
                if byte < 0x20 { throw JSONParseError(.controlCharacterInString(byte), at: index) }
                if byte != UInt8(ascii: "\\") {
                    scratch.append(byte)
                    index += 1
                    continue
                }
                let escapeStart = index
                index += 1
                guard index < bytes.count else { throw unexpected(expected: "an escape character after '\\'") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): scratch.append(0x22)
                case UInt8(ascii: "\\"): scratch.append(0x5C)
                case UInt8(ascii: "/"): scratch.append(0x2F)
                case UInt8(ascii: "b"): scratch.append(0x08)
                case UInt8(ascii: "f"): scratch.append(0x0C)
                case UInt8(ascii: "n"): scratch.append(0x0A)
                case UInt8(ascii: "r"): scratch.append(0x0D)
                case UInt8(ascii: "t"): scratch.append(0x09)
                case UInt8(ascii: "u"):
                    let unit = try parseHex4(escapeStart: escapeStart)
                    var scalarValue = UInt32(unit)
                    if unit >= 0xD800 && unit < 0xDC00 {
                        // A high surrogate must be followed by \u and a low surrogate.
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw JSONParseError(.unpairedSurrogate("\\u" + hex4(unit)), at: escapeStart)
                        }
                        index += 2
                        let low = try parseHex4(escapeStart: index - 2)
                        guard low >= 0xDC00 && low < 0xE000 else {
                            throw JSONParseError(.unpairedSurrogate("\\u" + hex4(unit)), at: escapeStart)
                        }
                        scalarValue = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                    } else if unit >= 0xDC00 && unit < 0xE000 {
                        throw JSONParseError(.unpairedSurrogate("\\u" + hex4(unit)), at: escapeStart)
                    }
                    guard let scalar = Unicode.Scalar(scalarValue) else {
                        throw JSONParseError(.unpairedSurrogate("\\u" + hex4(unit)), at: escapeStart)
                    }
                    scratch.append(contentsOf: UTF8.encode(scalar)!)
                default:
                    throw JSONParseError(.invalidEscape("\\" + describe(escape).trimmingQuotes), at: escapeStart)
                }
            }
            throw JSONParseError(.unexpectedEnd(expected: "the closing '\"' of the string that starts at byte \(quote)"), at: index)
        }

        func makeString(_ slice: UnsafeBufferPointer<UInt8>, at offset: Int) throws(JSONParseError) -> String {
            // ASCII needs no validation beyond what the scan did.
            var ascii = true
            for byte in slice where byte >= 0x80 {
                ascii = false
                break
            }
            if ascii { return String(decoding: slice, as: UTF8.self) }
            guard let string = String(validating: slice, as: UTF8.self) else {
                throw JSONParseError(.invalidUTF8, at: offset)
            }
            return string
        }

        mutating func parseHex4(escapeStart: Int) throws(JSONParseError) -> UInt16 {
            var value: UInt16 = 0
            for _ in 0..<4 {
                guard index < bytes.count else { throw unexpected(expected: "four hex digits after \\u") }
                let byte = bytes[index]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw unexpected(expected: "four hex digits after \\u")
                }
                value = value << 4 | UInt16(digit)
                index += 1
            }
            return value
        }

        mutating func parseNumber() throws(JSONParseError) -> Value {
            let start = index
            var negative = false
            if bytes[index] == UInt8(ascii: "-") {
                negative = true
                index += 1
            }
            guard index < bytes.count, isDigit(bytes[index]) else { throw unexpected(expected: "a digit") }
            // Integer part: no leading zeros.
            var magnitude: UInt64 = 0
            var overflow = false
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
            } else {
                while index < bytes.count, isDigit(bytes[index]) {
                    let digit = UInt64(bytes[index] - UInt8(ascii: "0"))
                    let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                    let (sum, o2) = times10.addingReportingOverflow(digit)
                    if o1 || o2 { overflow = true } else { magnitude = sum }
                    index += 1
                }
            }
            var isFloat = false
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                isFloat = true
                index += 1
                guard index < bytes.count, isDigit(bytes[index]) else { throw unexpected(expected: "a digit after '.'") }
                while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                isFloat = true
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard index < bytes.count, isDigit(bytes[index]) else { throw unexpected(expected: "a digit in the exponent") }
                while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            }
            let literalBytes = UnsafeBufferPointer(rebasing: bytes[start..<index])
            if isFloat {
                let literal = String(decoding: literalBytes, as: UTF8.self)
                // The literal was checked against JSON's grammar, which Double's parser accepts.
                let value = Double(literal) ?? (negative ? -.infinity : .infinity)
                return try Value.jsonDouble(value, literal: literal, offset: start)
            }
            if !overflow {
                if negative {
                    if magnitude <= UInt64(Int64.max) { return Value.jsonInt(-Int64(magnitude)) }
                    if magnitude == UInt64(Int64.max) + 1 { return Value.jsonInt(Int64.min) }
                } else if magnitude <= UInt64(Int64.max) {
                    return Value.jsonInt(Int64(magnitude))
                }
            }
            return try Value.jsonIntegerOutOfRange(String(decoding: literalBytes, as: UTF8.self), offset: start)
        }

        @inline(__always)
        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    }
}

extension String {
    fileprivate var trimmingQuotes: String {
        if count >= 3, first == "'", last == "'" { return String(dropFirst().dropLast()) }
        return self
    }
}
