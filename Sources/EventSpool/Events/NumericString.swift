/// Reads a numeric string the way the reference reads `tags["value"]`: Python's `float()`.
///
/// Grammar (after removing surrounding whitespace): an optional sign; digits with single
/// underscores allowed between digits; an optional fraction (`1.`, `.5` and `1.5` are all
/// numbers); an optional exponent whose digits follow the same underscore rule; or `inf`,
/// `infinity` and `nan` (any case, signed), which are numbers to Python but not finite.
/// Anything else (hex, commas, empty text) is not a number. Only ASCII digits are accepted
/// (Python also accepts other Unicode decimal digits; no real tag uses them).
enum NumericString {
    /// The finite value of `text` as Python's `float()` reads it; `nil` when it is not a
    /// number or not finite.
    static func finiteValue(of text: String) -> Double? {
        guard let value = pythonFloat(text), value.isFinite else { return nil }
        return value
    }

    /// `text` as Python's `float()` reads it, NaN and infinities included (`"nan"`, `"-inf"`,
    /// `"Infinity"`, and numbers too large for a double); `nil` when Python raises.
    static func pythonFloat(_ text: String) -> Double? {
        let scalars = text.unicodeScalars
        if let first = scalars.firstIndex(where: { !isPythonWhitespace($0) }),
           let last = scalars.lastIndex(where: { !isPythonWhitespace($0) }),
           scalars[first...last].count <= 9 {
            switch String(scalars[first...last]).lowercased() {
            case "nan", "+nan", "-nan": return .nan
            case "inf", "+inf", "infinity", "+infinity": return .infinity
            case "-inf", "-infinity": return -.infinity
            default: break
            }
        }
        return decimalValue(of: text)
    }

    /// The grammar of a decimal float (see the type's notes); may overflow to an infinity.
    private static func decimalValue(of text: String) -> Double? {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isPythonWhitespace($0) }) else { return nil }
        guard let last = scalars.lastIndex(where: { !isPythonWhitespace($0) }) else { return nil }
        var cleaned: [UInt8] = []
        cleaned.reserveCapacity(24)
        var index = first
        var previous: UInt8 = 0  // the previous character kept or seen, to place underscores
        var sawDigit = false
        var sawDot = false
        var sawExponent = false
        var exponentDigit = false
        var mantissaDigit = false
        while index <= last {
            let scalar = scalars[index]
            guard scalar.isASCII else { return nil }
            let byte = UInt8(scalar.value)
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                cleaned.append(byte)
                sawDigit = true
                if sawExponent { exponentDigit = true } else { mantissaDigit = true }
            case UInt8(ascii: "_"):
                // Only between two digits.
                let next = scalars.index(after: index)
                guard previous >= UInt8(ascii: "0"), previous <= UInt8(ascii: "9"), next <= last,
                      let following = scalars[next].properties.numericType, following == .decimal,
                      scalars[next].isASCII
                else { return nil }
            case UInt8(ascii: "+"), UInt8(ascii: "-"):
                // At the start, or right after the exponent marker.
                guard index == first || previous == UInt8(ascii: "e") || previous == UInt8(ascii: "E") else { return nil }
                cleaned.append(byte)
            case UInt8(ascii: "."):
                guard !sawDot, !sawExponent else { return nil }
                sawDot = true
                cleaned.append(byte)
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                guard !sawExponent, mantissaDigit else { return nil }
                sawExponent = true
                cleaned.append(byte)
            default:
                return nil
            }
            previous = byte
            index = scalars.index(after: index)
        }
        guard sawDigit, mantissaDigit, !sawExponent || exponentDigit else { return nil }
        return Double(String(decoding: cleaned, as: UTF8.self))
    }

    /// Python's `str.isspace()`: Unicode white space, plus the ASCII separators U+001C–U+001F.
    static func isPythonWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        (0x1C...0x1F).contains(scalar.value) || scalar.properties.isWhitespace
    }
}
