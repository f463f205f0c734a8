/// Turns a variable's value text into a typed value, as the reference's `get_typecast_value`
/// (spec `decisions.md` §11).
///
/// | type | value |
/// | --- | --- |
/// | `boolean` | `text == "true"`, exactly |
/// | `integer` | Python's `int(text)`: `" 42 "`, `"+42"`, `"4_2"` are 42; beyond 64 bits ``EventValue/integerOutOfRange(_:)`` |
/// | `double` | Python's `float(text)`: `"1e3"`, `"nan"`, `"-inf"` |
/// | `json` | the JSON value of the text (an object's repeated key keeps its last value) |
/// | anything else | the text itself |
///
/// A text the type cannot read (`"1.5"` as an integer, `"{"` as JSON) gives `nil`: the
/// reference logs "Unable to cast value" and returns `None`.
enum VariableCast {
    /// The typed value of `text` for a variable of `type`; `nil` when it cannot be cast.
    static func value(_ text: String, type: String) -> EventValue? {
        switch type {
        case "boolean": return .bool(text == "true")
        case "integer": return integer(text)
        case "double": return NumericString.pythonFloat(text).map(EventValue.double)
        case "json": return json(text)
        default: return .string(text)
        }
    }

    /// Python's `int(text)` in base 10, ASCII digits only.
    static func integer(_ text: String) -> EventValue? {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !NumericString.isPythonWhitespace($0) }),
              let last = scalars.lastIndex(where: { !NumericString.isPythonWhitespace($0) })
        else { return nil }
        var digits: [UInt8] = []
        var negative = false
        var previousWasDigit = false
        var previousWasUnderscore = false
        for (offset, scalar) in scalars[first...last].enumerated() {
            switch scalar {
            case "+" where offset == 0, "-" where offset == 0:
                negative = scalar == "-"
            case "0"..."9":
                digits.append(UInt8(scalar.value))
                previousWasDigit = true
                previousWasUnderscore = false
            case "_" where previousWasDigit:
                previousWasDigit = false
                previousWasUnderscore = true
            default:
                return nil
            }
        }
        guard !digits.isEmpty, !previousWasUnderscore else { return nil }
        let significant = digits.drop { $0 == UInt8(ascii: "0") }
        let magnitude = significant.isEmpty ? "0" : String(decoding: significant, as: UTF8.self)
        let literal = negative && magnitude != "0" ? "-" + magnitude : magnitude
        return Int64(literal).map(EventValue.int) ?? .integerOutOfRange(literal)
    }

    /// The JSON value of `text` (`nil` when it is not JSON).
    static func json(_ text: String) -> EventValue? {
        var text = text
        let parsed = text.withUTF8 { bytes in try? EventValue.parse(bytes) }
        return parsed.map(\.pythonDictionaries)
    }
}

extension EventValue {
    /// The value with every object's repeated keys merged as a Python `dict` merges them.
    var pythonDictionaries: EventValue {
        switch self {
        case .array(let elements): .array(elements.map(\.pythonDictionaries))
        case .object(let dictionary):
            .object(EventDictionary(members: dictionary.deduplicated.map { .init(key: $0.key, value: $0.value.pythonDictionaries) }))
        default: self
        }
    }
}
