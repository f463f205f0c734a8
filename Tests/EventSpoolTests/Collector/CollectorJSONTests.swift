import EventSpool
import Testing
@testable import EventSpoolCollector

/// How the collector reads JSON with EventSpool's parser: what reaches a ``ReceivedBatch``,
/// what is answered 400, and how a body is put on a record line. The parser's own cases are in
/// `JSONParserTests`.
@Suite("Collector JSON reading")
struct CollectorJSONTests {
    typealias Fixtures = CollectorFixtures

    /// The fixture batch with the conversion's `revenue`, `value` and `tags` written as given.
    private func conversionBody(revenue: String, value: String, tags: String) -> [UInt8] {
        let fixture = Fixtures.body(uuids: [Fixtures.uuid1, Fixtures.uuid2])
        let written = #""revenue": 1999, "value": 19.99, "tags": {"revenue": 1999, "value": 19.99}"#
        return Array(fixture.replacingOccurrences(of: written, with: #""revenue": \#(revenue), "value": \#(value), "tags": \#(tags)"#).utf8)
    }

    private func conversion(revenue: String, value: String, tags: String = "{}") throws -> ReceivedBatch.Event {
        let body = conversionBody(revenue: revenue, value: value, tags: tags)
        return try RequestValidation.validate(method: "POST", path: "/v1/events", body: body, byteCount: body.count).get().events[1]
    }

    private func rejection(_ text: String) -> RequestRejection? {
        let body = Array(text.utf8)
        if case .failure(let rejection) = RequestValidation.validate(method: "POST", path: "/v1/events", body: body, byteCount: body.count) {
            return rejection
        }
        return nil
    }

    @Test func numbersKeepHowTheyWereWritten() throws {
        #expect(try conversion(revenue: "30", value: "30.0").revenue == .int(30))
        #expect(try conversion(revenue: "30", value: "30.0").value == .double(FiniteDouble(30)))
        #expect(try conversion(revenue: "-7", value: "1e3").value == .double(FiniteDouble(1000)))
        #expect(try conversion(revenue: "-7", value: "1E-2").value == .double(try #require(FiniteDouble(0.01))))
        #expect(try conversion(revenue: "-7", value: "1").revenue == .int(-7))
    }

    @Test func tagsKeepKeyOrderAndDecodedStrings() throws {
        let tags = try conversion(revenue: "1", value: "2.5", tags: #"{"z": "a\"b\\c\/d\n\t\u00e9\ud83d\ude00", "a": [true, null], "m": {}}"#).tags
        #expect(tags == .object([
            .init(key: "z", value: .string("a\"b\\c/d\n\té😀")),
            .init(key: "a", value: .array([.bool(true), .null])),
            .init(key: "m", value: .object([])),
        ]))
    }

    @Test func anIntegerTooLargeForSixtyFourBitsIs400() {
        let body = String(decoding: conversionBody(revenue: "99999999999999999999", value: "1.5", tags: "{}"), as: UTF8.self)
        let refused = rejection(body)
        #expect(refused?.status == 400)
        #expect(refused?.message.contains("the integer 99999999999999999999 does not fit in a signed 64-bit integer") == true)
    }

    @Test(arguments: [
        "", "   ", "{", "[1,]", #"{"a":1,}"#, #"{"a" 1}"#, "01", "-", "1.", "1e", ".5", "tru", "nul",
        #""unterminated"#, "\"tab\there\"", #""\x""#, #""\ud800""#, #""\ud800\u0041""#, "[1] 2", "{'a': 1}", "NaN",
    ])
    func invalidJSONIs400(text: String) {
        let refused = rejection(text)
        #expect(refused?.status == 400)
        #expect(refused?.message.hasPrefix("body is invalid JSON at byte") == true, "\(text): \(String(describing: refused))")
    }

    @Test func invalidUTF8InAStringIs400() {
        let body: [UInt8] = [0x22, 0xFF, 0x22]
        guard case .failure(let refused) = RequestValidation.validate(method: "POST", path: "/v1/events", body: body, byteCount: body.count) else {
            Issue.record("invalid UTF-8 accepted")
            return
        }
        #expect(refused.status == 400)
        #expect(refused.message == "body is invalid JSON at byte 1: a string is not valid UTF-8; re-encode the input as UTF-8")
    }

    @Test func theMessageNamesTheOffendingByte() {
        #expect(rejection(#"{"a": ,}"#)?.message == "body is invalid JSON at byte 6: found ',' where a value (object, array, string, number, true, false or null) was expected")
    }

    @Test func nestingDeeperThanTheLimitIs400WithoutCrashing() {
        func nested(_ depth: Int) -> String { String(repeating: "[", count: depth) + String(repeating: "]", count: depth) }
        let tooDeep = "body is invalid JSON at byte \(RequestValidation.maximumDepth): arrays and objects are nested deeper than \(RequestValidation.maximumDepth) levels; flatten the data"
        #expect(rejection(nested(100_000))?.message == tooDeep)
        #expect(rejection(nested(RequestValidation.maximumDepth + 1))?.message == tooDeep)
        // At the limit the JSON is read, and then refused for its shape.
        #expect(rejection(nested(RequestValidation.maximumDepth))?.message == "payload is an array, not an object")
    }

    @Test func tagsNestedBeyondTheLibraryDefaultAreAccepted() throws {
        let depth = JSONParser.defaultMaxDepth + 8
        let tags = #"{"deep": "# + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}"
        var expected = JSONValue.array([])
        for _ in 1..<depth { expected = .array([expected]) }
        #expect(try conversion(revenue: "1", value: "2.5", tags: tags).tags == .object([.init(key: "deep", value: expected)]))
    }

    @Test func minifyingRemovesWhitespaceOutsideStringsOnly() {
        let text = "{ \"a b\" : [ 1 ,\n 2.50, 1E3 ] ,\r\n\t\"c\\\" d\": \"x  y\", \"e\\\\\": \" \" }"
        #expect(String(decoding: RecordLine.minified(Array(text.utf8)), as: UTF8.self) == "{\"a b\":[1,2.50,1E3],\"c\\\" d\":\"x  y\",\"e\\\\\":\" \"}")
    }

    @Test func aRecordLineKeepsNumberSpellingAndKeyOrder() {
        var ledger = CollectorLedger(plan: .alwaysNoContent)
        let body = conversionBody(revenue: "1999", value: "19.990", tags: #"{ "z" : 1E3, "a" : -0.0 }"#)
        let request = ledger.receive(method: "POST", path: "/v1/events", body: body, byteCount: body.count).request
        let line = String(decoding: RecordLine.encode(request), as: UTF8.self)
        #expect(line.contains(#""revenue":1999,"value":19.990,"tags":{"z":1E3,"a":-0.0}"#))
        #expect(line.hasPrefix(#"{"seq": 1, "status": 204, "bytes": \#(body.count), "body": {"account_id":"10367498574","#))
    }

    @Test func anErrorBodyIsJSONWithTheMessageEscaped() {
        let rejection = RequestRejection(status: 400, message: "a\"b\\c\nd\u{01}")
        #expect(rejection.responseBody == #"{"error": "a\"b\\c\nd\u0001"}"#)
    }
}
