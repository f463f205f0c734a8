import Foundation
import Testing
@testable import EventSpool

@Suite struct JSONValueCodableTests {
    private func decode(_ text: String, _ decoder: JSONDecoder = JSONDecoder()) throws -> JSONValue {
        try decoder.decode(JSONValue.self, from: Data(text.utf8))
    }

    @Test func integersAndFloatsWithAFractionStayApart() throws {
        #expect(try decode("1999") == .int(1999))
        #expect(try decode("-9223372036854775808") == .int(.min))
        #expect(try decode("19.99") == .double(try #require(FiniteDouble(19.99))))
    }

    @Test func aWholeFloatDecodesAsAnIntegerAsDocumented() throws {
        // JSONDecoder does not say how a number was written; JSONParser does.
        #expect(try decode("30.0") == .int(30))
        #expect(try JSONValue.parse("30.0") == .double(FiniteDouble(30)))
    }

    @Test func everyKindDecodesAndObjectKeysComeBackSorted() throws {
        let value = try decode(#"{"z": [true, null, "s", 1, 2.5], "a": {"y": false, "b": {}}}"#)
        #expect(value == .object([
            .init(key: "a", value: .object([.init(key: "b", value: .object([])), .init(key: "y", value: .bool(false))])),
            .init(key: "z", value: .array([.bool(true), .null, .string("s"), .int(1), .double(try #require(FiniteDouble(2.5)))])),
        ]))
    }

    @Test func encodingWritesTheJSONTheValueStandsFor() throws {
        let value: JSONValue = .object([
            .init(key: "a", value: .array([.int(1), .double(try #require(FiniteDouble(2.5))), .null, .bool(true), .string("é\n")])),
        ])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let encoded = try encoder.encode(value)
        #expect(try JSONValue.parse(encoded) == value)
        #expect(try decode(String(decoding: encoded, as: UTF8.self)) == value)
    }

    @Test func aNonFiniteNumberIsADecodingError() {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        #expect(throws: DecodingError.self) { try decode(#""inf""#, decoder) }
    }
}
