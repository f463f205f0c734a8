/// Writes JSON into a byte buffer in the reference's wire style.
///
/// The style is that of Python's `json.dumps` with its defaults, which the reference SDK uses
/// for the request body: `", "` between items, `": "` after keys, every non-ASCII character and
/// every control character escaped as `\uXXXX` (lower-case hex), floats as Python's `repr`.
/// So a body can be compared byte for byte with the reference's (client name and version
/// aside), and a float always reads back as a float (`7.0`, `1e+16`).
struct JSONWriter {
    var bytes: [UInt8]

    init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    var string: String { String(decoding: bytes, as: UTF8.self) }

    @inline(__always)
    mutating func raw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    @inline(__always)
    mutating func byte(_ value: UInt8) { bytes.append(value) }

    /// Writes `"key": ` for a key known to need no escaping.
    @inline(__always)
    mutating func key(_ text: StaticString) {
        bytes.append(UInt8(ascii: "\""))
        raw(text)
        raw("\": ")
    }

    mutating func write(_ value: JSONValue) {
        switch value {
        case .null: raw("null")
        case .bool(let flag): flag ? raw("true") : raw("false")
        case .int(let number): write(number)
        case .double(let number): write(number.value)
        case .string(let text): write(text)
        case .array(let elements):
            byte(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { raw(", ") }
                write(element)
            }
            byte(UInt8(ascii: "]"))
        case .object(let members):
            byte(UInt8(ascii: "{"))
            for (position, member) in members.enumerated() {
                if position > 0 { raw(", ") }
                write(member.key)
                raw(": ")
                write(member.value)
            }
            byte(UInt8(ascii: "}"))
        }
    }

    mutating func write(_ number: Int64) {
        if number == 0 {
            byte(UInt8(ascii: "0"))
            return
        }
        var magnitude = number.magnitude
        if number < 0 { byte(UInt8(ascii: "-")) }
        // At most 20 digits; fill a stack tuple from the right.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            var position = buffer.count
            while magnitude > 0 {
                position -= 1
                buffer[position] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[(buffer.count - count)...]))
        }
    }

    /// Writes a finite double as Python's `repr` does.
    mutating func write(_ number: Double) {
        var text = PayloadEncoder.formatDouble(number)
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    mutating func write(_ text: String) {
        byte(UInt8(ascii: "\""))
        if text.utf8.withContiguousStorageIfAvailable({ writeEscaped($0) }) == nil {
            var copy = text
            copy.withUTF8 { writeEscaped($0) }
        }
        byte(UInt8(ascii: "\""))
    }

    private static let hexDigits: StaticString = "0123456789abcdef"

    private mutating func writeUnicodeEscape(_ unit: UInt16) {
        let hex = Self.hexDigits.utf8Start
        raw("\\u")
        byte(hex[Int(unit >> 12) & 15])
        byte(hex[Int(unit >> 8) & 15])
        byte(hex[Int(unit >> 4) & 15])
        byte(hex[Int(unit) & 15])
    }

    /// Escapes valid UTF-8 (a Swift string's storage) as Python's `ensure_ascii` does.
    private mutating func writeEscaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        var index = 0
        let count = utf8.count
        while index < count {
            // Copy the longest run of bytes that need no escape in one go.
            var runEnd = index
            while runEnd < count {
                let value = utf8[runEnd]
                if value < 0x20 || value >= 0x7F || value == 0x22 || value == 0x5C { break }
                runEnd += 1
            }
            if runEnd > index {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[index..<runEnd]))
                index = runEnd
                if index == count { return }
            }
            let lead = utf8[index]
            switch lead {
            case 0x22: raw("\\\""); index += 1
            case 0x5C: raw("\\\\"); index += 1
            case 0x0A: raw("\\n"); index += 1
            case 0x0D: raw("\\r"); index += 1
            case 0x09: raw("\\t"); index += 1
            case 0x08: raw("\\b"); index += 1
            case 0x0C: raw("\\f"); index += 1
            case 0..<0x80:
                writeUnicodeEscape(UInt16(lead))
                index += 1
            default:
                // Decode one scalar. The storage of a Swift String is valid UTF-8; the bounds
                // checks keep a malformed buffer from reading past its end all the same.
                var scalar: UInt32
                var length: Int
                if lead >= 0xF0 {
                    scalar = UInt32(lead & 0x07)
                    length = 4
                } else if lead >= 0xE0 {
                    scalar = UInt32(lead & 0x0F)
                    length = 3
                } else {
                    scalar = UInt32(lead & 0x1F)
                    length = 2
                }
                var offset = 1
                while offset < length, index + offset < count {
                    scalar = scalar << 6 | UInt32(utf8[index + offset] & 0x3F)
                    offset += 1
                }
                index += offset
                if scalar >= 0x10000 {
                    let value = scalar - 0x10000
                    writeUnicodeEscape(UInt16(truncatingIfNeeded: 0xD800 + (value >> 10)))
                    writeUnicodeEscape(UInt16(truncatingIfNeeded: 0xDC00 + (value & 0x3FF)))
                } else {
                    writeUnicodeEscape(UInt16(truncatingIfNeeded: scalar))
                }
            }
        }
    }
}
