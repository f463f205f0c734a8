import Testing
@testable import EventSpool

@Suite struct UserEventFactoryTests {
    static func factory(logs: LogCapture? = nil) throws -> UserEventFactory {
        UserEventFactory(config: try ConformanceFixtures.config, logger: logs?.logger ?? UserEventFactory.silentLogger)
    }

    static func conversion(_ tags: EventTags?) throws -> Conversion {
        let event = try factory().makeConversion(eventKey: "purchase", userId: "u", tags: tags)
        guard case .conversion(let conversion) = event.payload else { throw UserEventError.unknownEventKey("not a conversion") }
        return conversion
    }

    @Test func attributesKeepCallerOrderAndMapDatafileKeysToIds() throws {
        let attributes = try Self.factory().visitorAttributes(
            ["ltv": 1.5, "unknown": "x", "browser": "chrome", "$opt_xyz": 3, "age": 31])
        #expect(attributes.map(\.key) == ["ltv", "browser", "$opt_xyz", "age", "$opt_bot_filtering"])
        #expect(attributes.map(\.entityId) == ["10401066120", "10401066117", "$opt_xyz", "10401066119", "$opt_bot_filtering"])
        #expect(attributes.map(\.value) == [.double(FiniteDouble(1.5)!), .string("chrome"), .int(3), .int(31), .bool(true)])
    }

    @Test func attributeValuesOfUnsupportedTypesOrBeyondTwoToThe53AreDropped() throws {
        let limit = Int64(1) << 53
        let attributes = try Self.factory().visitorAttributes([
            "age": .int(limit), "$opt_a": .int(limit + 1), "$opt_b": .double(Double(limit)), "$opt_c": .double(Double(limit) * 2),
            "$opt_d": .double(.nan), "$opt_e": .double(-.infinity), "$opt_f": nil, "$opt_g": [1], "$opt_h": ["k": 1],
            "$opt_i": .integerOutOfRange("1" + String(repeating: "0", count: 30)), "$opt_j": .int(-limit), "$opt_k": false,
        ])
        #expect(attributes.map(\.key) == ["age", "$opt_b", "$opt_j", "$opt_k", "$opt_bot_filtering"])
    }

    @Test func repeatedAttributeKeyKeepsFirstPositionAndLastValue() throws {
        let attributes = try Self.factory().visitorAttributes(UserAttributes(members: [
            .init(key: "browser", value: "a"), .init(key: "age", value: 1), .init(key: "browser", value: "b"),
        ]))
        #expect(attributes.map(\.key) == ["browser", "age", "$opt_bot_filtering"])
        #expect(attributes.first?.value == .string("b"))
    }

    @Test func revenueIsSentOnlyForAnIntegerThatIsNotABool() throws {
        #expect(try Self.conversion(["revenue": 4200]).revenue == 4200)
        #expect(try Self.conversion(["revenue": -1]).revenue == -1)
        #expect(try Self.conversion(["revenue": 42.0]).revenue == nil)
        #expect(try Self.conversion(["revenue": "42"]).revenue == nil)
        #expect(try Self.conversion(["revenue": true]).revenue == nil)
        #expect(try Self.conversion(["revenue": .int(.max)]).revenue == .max)
    }

    @Test(arguments: [
        ("3.14", 3.14), (" 12 ", 12), ("1e3", 1000), ("1_000.5", 1000.5), ("+.5", 0.5), ("-1.", -1), ("\t7\n", 7),
        ("1E-2", 0.01), ("1e1_0", 1e10), ("0_0", 0), ("\u{1F}5\u{A0}", 5),
    ])
    func valueAcceptsNumericStringsByPythonFloatGrammar(_ text: String, _ expected: Double) throws {
        #expect(try Self.conversion(["value": .string(text)]).value?.value == expected)
    }

    @Test(arguments: ["1,234", "nan", "inf", "-Infinity", "0x10", "1__0", "_1", "1_", "1_.5", "1._5", "", " ", "e5", "1e", "1e+",
                      ".", "--1", "1e5.0", "1+", "١٢", "1e400", "12abc", "1 2"])
    func valueRejectsOtherStrings(_ text: String) throws {
        let conversion = try Self.conversion(["value": .string(text)])
        #expect(conversion.value == nil)
        #expect(conversion.tags?.first?.value == .string(text))  // tags are kept verbatim
    }

    @Test func valueIsAlwaysAFloatAndBoolsArraysAndNonFiniteAreRejected() throws {
        #expect(try Self.conversion(["value": 7]).value == FiniteDouble(7))
        #expect(try Self.conversion(["value": 19.99]).value == FiniteDouble(19.99))
        #expect(try Self.conversion(["value": .int(9_007_199_254_740_993)]).value == FiniteDouble(9_007_199_254_740_992))
        #expect(try Self.conversion(["value": true]).value == nil)
        #expect(try Self.conversion(["value": [1, 2]]).value == nil)
        #expect(try Self.conversion(["value": .double(.infinity)]).value == nil)
    }

    @Test func nullRevenueValueTagsAndDecisionsKeysAreStrippedAtAnyDepth() throws {
        let conversion = try Self.conversion([
            "revenue": nil, "other": nil,
            "meta": ["value": nil, "x": 1, "deep": [["tags": nil, "decisions": nil, "keep": nil]]],
        ])
        let tags = JSONValue.object(try #require(conversion.tags))
        #expect(tags.jsonText == #"{"other": null, "meta": {"x": 1, "deep": [{"keep": null}]}}"#)
    }

    @Test func absentTagsSendNoTagsKeyAndEmptyTagsSendAnEmptyObject() throws {
        #expect(try Self.conversion(nil).tags == nil)
        #expect(try Self.conversion([:]).tags == [])
        let event = try Self.factory().makeConversion(eventKey: "signup", userId: "u", tags: nil)
        #expect(!event.serialized().visitorJSON.contains("\"tags\""))
    }

    @Test func nonFiniteNumbersInTagsAreDroppedWithALogLine() throws {
        let logs = LogCapture()
        let event = try Self.factory(logs: logs).makeConversion(
            eventKey: "purchase", userId: "u", tags: ["a": .double(.nan), "b": [1, .double(.infinity), 2], "c": "kept"])
        guard case .conversion(let conversion) = event.payload else { Issue.record("not a conversion"); return }
        #expect(JSONValue.object(conversion.tags ?? []).jsonText == #"{"b": [1, 2], "c": "kept"}"#)
        #expect(logs.entries.map { $0.metadata["tag"]?.description } == ["tags.a", "tags.b[1]"])
        #expect(logs.entries.allSatisfy { $0.level == .warning })
    }

    @Test func integerOutsideInt64InTagsIsATypedError() throws {
        #expect(throws: UserEventError.integerOutOfRange(path: "tags.meta.n", literal: "99999999999999999999")) {
            try Self.factory().makeConversion(eventKey: "purchase", userId: "u",
                                              tags: ["meta": ["n": .integerOutOfRange("99999999999999999999")]])
        }
    }

    @Test func valueThatCannotBeJSONIsATypedError() throws {
        struct NotJSON {}
        #expect(throws: UserEventError.notJSON(path: "$.when", typeName: "NotJSON")) {
            try EventValue(any: ["when": NotJSON()] as [String: Any])
        }
        let converted = try EventValue(any: ["a": 1, "b": [true, "x", 2.5, UInt64.max]] as [String: Any])
        #expect(converted == .object(["a": 1, "b": [true, "x", 2.5, .integerOutOfRange("18446744073709551615")]]))
    }

    @Test func tagsNestedBeyondTheParserLimitAreATypedError() throws {
        var deep: EventValue = 1
        for _ in 0..<200 { deep = [deep] }
        #expect(throws: UserEventError.self) {
            try Self.factory().makeConversion(eventKey: "purchase", userId: "u", tags: ["deep": deep])
        }
        var shallow: EventValue = 1
        for _ in 0..<100 { shallow = [shallow] }
        #expect(try Self.conversion(["ok": shallow]).tags?.count == 1)
    }

    @Test func unknownEventKeyIsATypedError() {
        #expect(throws: UserEventError.unknownEventKey("nope")) {
            try Self.factory().makeConversion(eventKey: "nope", userId: "u")
        }
    }

    @Test func botFilteringAttributeIsAppendedForFalseAndOmittedWhenNotABool() throws {
        let datafile = try ConformanceFixtures.datafileJSON
        let withFalse = UserEventFactory(config: try ProjectConfig(json: datafile.setting("botFiltering", .bool(false))))
        #expect(withFalse.visitorAttributes(["age": 1]).last?.value == .bool(false))
        let absent = UserEventFactory(config: try ProjectConfig(json: datafile.setting("botFiltering", nil)))
        #expect(absent.visitorAttributes(["age": 1]).map(\.key) == ["age"])
    }

    @Test func impressionWithoutExperimentIsOnlyForRollouts() throws {
        let factory = try Self.factory()
        #expect(throws: UserEventError.missingExperiment(ruleType: .experiment)) {
            try factory.makeImpression(experimentKey: nil, userId: "u")
        }
        let event = try factory.makeImpression(experimentKey: nil, flagKey: "dark_mode", ruleType: .rollout, enabled: false, userId: "u")
        guard case .impression(let impression) = event.payload else { Issue.record("not an impression"); return }
        #expect(impression.campaignId == "" && impression.experimentId == "" && impression.variationId == nil)
        #expect(impression.variationKey == "" && impression.ruleKey == "")
    }

    @Test func variationIdThatIsNotDigitsIsSentAsNull() throws {
        var datafile = try ConformanceFixtures.datafileJSON
        datafile = DatafileTests.replacing(datafile, at: [.key("experiments"), .index(0), .key("variations"), .index(0), .key("id")],
                                           with: .string("abc"))
        let factory = UserEventFactory(config: try ProjectConfig(json: datafile))
        let event = try factory.makeImpression(experimentKey: "checkout_button_test", variationKey: "control", userId: "u")
        guard case .impression(let impression) = event.payload else { Issue.record("not an impression"); return }
        #expect(impression.variationId == nil && impression.variationKey == "control")
        #expect(event.serialized().visitorJSON.contains(#""variation_id": null"#))
    }

    @Test func emptyCmabUUIDCountsAsAbsent() throws {
        let event = try Self.factory().makeImpression(experimentKey: "checkout_button_test", variationKey: "control",
                                                      userId: "u", cmabUUID: "")
        #expect(!event.serialized().visitorJSON.contains("cmab_uuid"))
    }

    @Test func generatedUUIDIsLowerCaseVersion7AndTimestampIsFixedAtCreation() throws {
        let before = UserEventFactory.currentMillis()
        let event = try Self.factory().makeConversion(eventKey: "signup", userId: "u")
        let after = UserEventFactory.currentMillis()
        let uuid = Array(event.uuid)
        #expect(uuid.count == 36 && uuid[8] == "-" && uuid[13] == "-" && uuid[18] == "-" && uuid[23] == "-")
        #expect(uuid[14] == "7" && "89ab".contains(uuid[19]))
        #expect(event.uuid == event.uuid.lowercased())
        // RFC 9562: the first 48 bits are the time it was made, in milliseconds since the epoch
        // (a little ahead when more than 2,048 were made in a millisecond, as other tests do).
        let millis = try #require(Int64(String(uuid[0..<8] + uuid[9..<13]), radix: 16))
        #expect(millis >= before && millis <= after + 1_000)
        #expect(event.timestampMillis >= before && event.timestampMillis <= after)
        #expect(event.serialized().timestampMillis == event.timestampMillis)
        #expect(Set((0..<200).map { _ in UserEventFactory.makeUUID() }).count == 200)
    }

    @Test func generatedUUIDsSortInTheOrderTheyWereMade() {
        // Thousands in the same millisecond: the counter keeps them in order, as text too.
        let uuids = (0..<20_000).map { _ in UserEventFactory.makeUUID() }
        #expect(Set(uuids).count == uuids.count)
        #expect(zip(uuids, uuids.dropFirst()).allSatisfy { $0 < $1 })
    }

    @Test func uuidsKeepIncreasingWhenTheClockStandsStillOrStepsBack() {
        // A sequence of its own, so that the process's uuids are not moved into the future.
        var sequence = UUIDVersion7.Sequence()
        let start: Int64 = 1_800_000_000_000
        // More uuids in one millisecond than the 12-bit counter holds, then a clock set back.
        let highs = (0..<5_000).map { _ in sequence.nextHigh(nowMillis: start, random: .random(in: 0 ... .max)) }
            + (0..<100).map { _ in sequence.nextHigh(nowMillis: start - 1_000, random: .random(in: 0 ... .max)) }
        #expect(zip(highs, highs.dropFirst()).allSatisfy { $0 < $1 })
        #expect(highs.allSatisfy { $0 >> 16 >= UInt64(start) && $0 >> 16 <= UInt64(start) + 2 })
        #expect(highs.allSatisfy { $0 & 0xF000 == 0x7000 })
        // A later millisecond starts a new run.
        #expect(sequence.nextHigh(nowMillis: start + 10, random: 0) == UInt64(start + 10) << 16 | 0x7000)
    }

    @Test func uuidsStayDistinctAndVersion7AcrossRefillsOfTheRandomPool() {
        // The random bits come from a pool refilled every 256 uuids (UUIDVersion7).
        let uuids = (0..<2_000).map { _ in UserEventFactory.makeUUID() }
        #expect(Set(uuids).count == 2_000)
        #expect(uuids.allSatisfy { uuid in
            let characters = Array(uuid)
            return characters.count == 36 && characters[14] == "7" && "89ab".contains(characters[19])
                && uuid.allSatisfy { "0123456789abcdef-".contains($0) }
        })
        // Every hex digit of the random part varies (none is stuck).
        for position in [20, 21, 24, 28, 32, 35] {
            #expect(Set(uuids.map { Array($0)[position] }).count > 8, "position \(position)")
        }
    }
}
