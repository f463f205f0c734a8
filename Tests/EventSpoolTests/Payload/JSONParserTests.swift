import Testing
@testable import EventSpool

@Suite struct JSONParserTests {
    @Test func numberWithFractionOrExponentIsAFloatAndWithoutIsAnInteger() throws {
        #expect(try JSONValue.parse("30") == .int(30))
        #expect(try JSONValue.parse("30.0") == .double(FiniteDouble(30)))
        #expect(try JSONValue.parse("1e3") == .double(FiniteDouble(1000)))
        #expect(try JSONValue.parse("-0") == .int(0))
        #expect(try JSONValue.parse("-0.0") == .double(try #require(FiniteDouble(-0.0))))
        #expect(try JSONValue.parse("9007199254740993") == .int(9_007_199_254_740_993))
        #expect(try JSONValue.parse("-9223372036854775808") == .int(.min))
    }

    @Test func integerOutsideInt64IsAClearError() {
        #expect(throws: JSONParseError(.integerOutOfRange("9223372036854775808"), at: 1)) {
            try JSONValue.parse("[9223372036854775808]")
        }
        #expect(throws: JSONParseError(.numberOutOfRange("1e400"), at: 0)) { try JSONValue.parse("1e400") }
    }

    @Test func eventValueKeepsOutOfRangeNumbersForSpecRules() throws {
        let bytes = Array(#"{"a": 123456789012345678901234567890, "b": -1e999}"#.utf8)
        let value = try bytes.withUnsafeBufferPointer { try EventValue.parse($0) }
        guard case .object(let members) = value else { Issue.record("not an object"); return }
        #expect(members["a"] == .integerOutOfRange("123456789012345678901234567890"))
        #expect(members["b"] == .double(-.infinity))
    }

    @Test func objectsKeepKeyOrderAndRepeatedKeys() throws {
        let value = try JSONValue.parse(#"{"z": 1, "a": 2, "z": 3}"#)
        #expect(value.objectMembers?.map(\.key) == ["z", "a", "z"])
    }

    @Test func escapesAndSurrogatePairsDecode() throws {
        #expect(try JSONValue.parse(#""\u00e9\ud83d\ude00\n\/""#) == .string("é😀\n/"))
    }

    @Test(arguments: [
        ("", "unexpectedEnd"), ("{", "unexpectedEnd"), ("[1,]", "unexpectedCharacter"), ("01", "trailingCharacters"),
        ("1.", "unexpectedEnd"), ("-", "unexpectedEnd"), ("tru", "unexpectedEnd"), ("nul1", "unexpectedCharacter"),
        ("\"\\x\"", "invalidEscape"), ("\"\\ud800\"", "unpairedSurrogate"), ("\"\\udc00\"", "unpairedSurrogate"),
        ("\"a\u{01}\"", "controlCharacterInString"), ("{\"a\" 1}", "unexpectedCharacter"), ("{1: 2}", "unexpectedCharacter"),
        ("[1] x", "trailingCharacters"), ("NaN", "unexpectedCharacter"), ("Infinity", "unexpectedCharacter"), ("+1", "unexpectedCharacter"),
    ])
    func malformedTextGivesAnErrorSayingWhatWasExpected(_ text: String, _ reason: String) {
        do {
            _ = try JSONValue.parse(text)
            Issue.record("\(text) parsed")
        } catch {
            #expect("\(error.reason)".hasPrefix(reason), "\(text): \(error)")
            #expect(error.description.contains("at byte \(error.offset)"))
            #expect(error.offset <= text.utf8.count)
        }
    }

    @Test func invalidUTF8InAStringIsAnError() {
        #expect(throws: JSONParseError(.invalidUTF8, at: 1)) { try JSONValue.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONParseError(.invalidUTF8, at: 1)) { try JSONValue.parse([0x22, 0xED, 0xA0, 0x80, 0x22]) }
    }

    @Test func nestingBeyondTheLimitIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError(.tooDeep(limit: JSONParser.defaultMaxDepth), at: JSONParser.defaultMaxDepth)) {
            try JSONValue.parse(deep)
        }
        let ok = String(repeating: "[", count: JSONParser.defaultMaxDepth) + String(repeating: "]", count: JSONParser.defaultMaxDepth)
        #expect((try? JSONValue.parse(ok)) != nil)
    }

    /// Seeded random and mutated inputs: every one gives a value or an error, quickly.
    @Test func randomAndMutatedInputsNeverTrapOrHang() throws {
        var random = SplitMix64(seed: 0xE5E5_0001)
        let seeds = [
            #"{"op": "conversion", "user_id": "a", "tags": {"revenue": 1999, "value": 19.99, "x": [1, -2.5e-3, null, true, "é\n"]}}"#,
            try String(decoding: ConformanceFixtures.data("datafile.json"), as: UTF8.self),
            #"[{"\ud83d\ude00": "\u0041"}, 0, -0.0e+1, 123456789012345678901234567890]"#,
        ].map { Array($0.utf8) }
        let alphabet = Array(#"{}[],:"\ -+.eE0123456789tfnulrsa/bu"#.utf8) + [0x00, 0x0A, 0x7F, 0xC3, 0xA9, 0xFF, 0xED]
        var parsed = 0
        var failed = 0
        let clock = ContinuousClock()
        let started = clock.now
        for round in 0..<4_000 {
            var bytes: [UInt8]
            if round % 4 == 0 {
                bytes = (0..<Int.random(in: 0...64, using: &random)).map { _ in alphabet.randomElement(using: &random)! }
            } else {
                bytes = seeds[Int.random(in: 0..<seeds.count, using: &random)]
                for _ in 0..<Int.random(in: 1...6, using: &random) where !bytes.isEmpty {
                    let position = Int.random(in: 0..<bytes.count, using: &random)
                    switch random.next() % 4 {
                    case 0: bytes[position] = alphabet.randomElement(using: &random)!
                    case 1: bytes.remove(at: position)
                    case 2: bytes.insert(alphabet.randomElement(using: &random)!, at: position)
                    default: bytes = Array(bytes[..<position])
                    }
                }
            }
            do {
                let value = try JSONValue.parse(bytes)
                // Whatever parses re-encodes to text that parses back to the same value.
                #expect(try JSONValue.parse(value.jsonText) == value)
                parsed += 1
            } catch {
                #expect(error.offset >= 0 && error.offset <= bytes.count)
                #expect(!error.description.isEmpty)
                failed += 1
            }
            _ = try? bytes.withUnsafeBufferPointer { try EventValue.parse($0) }
        }
        #expect(parsed > 0 && failed > 0)
        #expect(clock.now - started < .seconds(30))
    }
}
