import Testing
@testable import EventSpoolCollector

@Suite("Collector JSON reading")
struct CollectorJSONValueTests {
    private func parse(_ text: String) throws -> JSONValue {
        try JSONValue.parse(Array(text.utf8))
    }

    @Test func numbersKeepHowTheyWereWritten() throws {
        #expect(try parse("30") == .integer(30))
        #expect(try parse("-7") == .integer(-7))
        #expect(try parse("30.0") == .double(30))
        #expect(try parse("1e3") == .double(1000))
        #expect(try parse("1E-2") == .double(0.01))
        #expect(try parse("99999999999999999999") == .double(1e20))
        #expect(try parse("30.0").numericValue == parse("30").numericValue)
    }

    @Test func stringsDecodeEscapesAndSurrogatePairs() throws {
        #expect(try parse(#""a\"b\\c\/d\n\t\u00e9\ud83d\ude00""#) == .string("a\"b\\c/d\n\té😀"))
        #expect(try parse(#""naïve""#) == .string("naïve"))
    }

    @Test func containersAndLiterals() throws {
        #expect(try parse(#" { "a" : [ true , false , null ] , "b" : { } } "#) == .object(["a": .array([.bool(true), .bool(false), .null]), "b": .object([:])]))
    }

    @Test(arguments: [
        "", "   ", "{", "[1,]", #"{"a":1,}"#, #"{"a" 1}"#, "01", "-", "1.", "1e", ".5", "tru", "nul",
        #""unterminated"#, "\"tab\there\"", #""\x""#, #""\ud800""#, #""\ud800\u0041""#, "[1] 2", "{'a': 1}",
    ])
    func invalidJSONIsRejected(text: String) {
        #expect(throws: JSONSyntaxError.self) { try parse(text) }
    }

    @Test func invalidUTF8InAStringIsRejected() {
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse([0x22, 0xFF, 0x22]) }
    }

    @Test func nestingDeeperThanTheLimitIsRejectedWithoutCrashing() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONSyntaxError.self) { try parse(deep) }
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: Never.self) { try parse(fine) }
    }

    @Test func theErrorNamesTheOffendingByte() {
        #expect(throws: JSONSyntaxError(offset: 6, problem: "expected a value")) { try parse(#"{"a": ,}"#) }
    }

    @Test func minifyingRemovesWhitespaceOutsideStringsOnly() {
        let text = "{ \"a b\" : [ 1 ,\n 2.50 ] ,\r\n\t\"c\\\" d\": \"x  y\" }"
        #expect(String(decoding: JSONValue.minified(Array(text.utf8)), as: UTF8.self) == "{\"a b\":[1,2.50],\"c\\\" d\":\"x  y\"}")
    }

    @Test func quotingEscapesWhatJSONRequires() {
        #expect(JSONValue.quoted("a\"b\\c\nd\u{01}") == #""a\"b\\c\nd\u0001""#)
    }
}
