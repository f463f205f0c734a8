/// Reads a numeric string the way the reference reads `tags["value"]`: Python's `float()`.
///
/// Grammar (after removing surrounding whitespace): an optional sign; digits with single
/// underscores allowed between digits; an optional fraction (`1.`, `.5` and `1.5` are all
/// numbers); an optional exponent whose digits follow the same underscore rule. `inf`,
/// `infinity` and `nan` (any case, signed) are numbers to Python but not finite, so they give
/// `nil` here, as does anything else (hex, commas, empty text). Only ASCII digits are accepted
/// (Python also accepts other Unicode decimal digits; no real tag uses them).
enum NumericString {
    static func finiteValue(of text: String) -> Double? {
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
        guard let value = Double(String(decoding: cleaned, as: UTF8.self)), value.isFinite else { return nil }
        return value
    }

    /// Python's `str.isspace()`: Unicode white space, plus the ASCII separators U+001C–U+001F.
    static func isPythonWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        (0x1C...0x1F).contains(scalar.value) || scalar.properties.isWhitespace
    }
}
