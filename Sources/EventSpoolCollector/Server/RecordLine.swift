/// The record file's line for one request (cli.md):
/// `{"seq": n, "status": code, "bytes": n, "body": <payload or null>}`, plus
/// `"fault": "timeout"` or `"reset"` (with `"status": 0`) when no response was sent.
enum RecordLine {
    /// The line, newline included. The body is the payload as received, on one line.
    static func encode(_ request: ReceivedRequest) -> [UInt8] {
        var line = Array(#"{"seq": \#(request.seq), "status": \#(request.status), "bytes": \#(request.byteCount), "body": "#.utf8)
        if request.batch != nil {
            line += minified(request.body)
        } else {
            line += Array("null".utf8)
        }
        switch request.outcome {
        case .responded: break
        case .timedOut: line += Array(#", "fault": "timeout""#.utf8)
        case .reset: line += Array(#", "fault": "reset""#.utf8)
        }
        line += Array("}\n".utf8)
        return line
    }

    /// `bytes`, a JSON text EventSpool's parser accepted, with the whitespace between tokens
    /// removed: the same value, byte for byte as written (key order, number literals,
    /// escapes), on one line. Re-encoding the parsed value would respell numbers (`2.50`,
    /// `1E3`), so the record keeps the sender's bytes instead.
    static func minified(_ bytes: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var inString = false
        var escaped = false
        for byte in bytes {
            if inString {
                result.append(byte)
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
                result.append(byte)
            } else if byte != 0x20 && byte != 0x0A && byte != 0x0D && byte != 0x09 {
                result.append(byte)
            }
        }
        return result
    }
}
