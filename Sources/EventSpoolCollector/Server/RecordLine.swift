/// The record file's line for one request (cli.md):
/// `{"seq": n, "status": code, "bytes": n, "body": <payload or null>}`, plus
/// `"fault": "timeout"` or `"reset"` (with `"status": 0`) when no response was sent.
enum RecordLine {
    /// The line, newline included. The body is the payload as received, on one line.
    static func encode(_ request: ReceivedRequest) -> [UInt8] {
        var line = Array(#"{"seq": \#(request.seq), "status": \#(request.status), "bytes": \#(request.byteCount), "body": "#.utf8)
        if request.batch != nil {
            line += JSONValue.minified(request.body)
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
}
