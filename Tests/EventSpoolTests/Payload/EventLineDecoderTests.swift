import Testing
@testable import EventSpool

/// The rules of cli.md's `enqueue` section, one by one.
@Suite struct EventLineDecoderTests {
    static func decoder() throws -> EventLineDecoder {
        EventLineDecoder(factory: UserEventFactory(config: try ConformanceFixtures.config))
    }

    static func decode(_ line: String) throws -> UserEvent { try decoder().decode(line) }

    static func impression(_ line: String) throws -> Impression {
        guard case .impression(let impression) = try decode(line).payload else { throw EventLineError.emptyLine }
        return impression
    }

    static func rejection(_ line: String) -> EventLineError? {
        do {
            _ = try decoder().decode(line)
            return nil
        } catch let error as EventLineError {
            return error
        } catch {
            return nil
        }
    }

    @Test func cliExampleLinesBecomeTheEventsTheyDescribe() throws {
        let impression = try Self.decode(#"{"op": "impression", "user_id": "alice", "experiment_key": "checkout_button_test", "variation_key": "control", "flag_key": "", "rule_key": "checkout_button_test", "rule_type": "experiment", "enabled": true, "attributes": {"browser": "chrome"}, "cmab_uuid": null, "uuid": "00000000-0000-4000-8000-000000000001", "timestamp": 1700000001000}"#)
        #expect(impression.uuid == "00000000-0000-4000-8000-000000000001" && impression.timestampMillis == 1_700_000_001_000)
        #expect(impression.kind == .impression && impression.userId == "alice")
        let conversion = try Self.decode(#"{"op": "conversion", "user_id": "alice", "event_key": "purchase", "attributes": {"age": 31}, "tags": {"revenue": 1999, "value": 19.99}, "uuid": "00000000-0000-4000-8000-000000000002", "timestamp": 1700000002000}"#)
        #expect(conversion.serialized().visitorJSON == #"{"snapshots": [{"events": [{"entity_id": "10428540015", "uuid": "00000000-0000-4000-8000-000000000002", "key": "purchase", "timestamp": 1700000002000, "revenue": 1999, "value": 19.99, "tags": {"revenue": 1999, "value": 19.99}}]}], "attributes": [{"entity_id": "10401066119", "key": "age", "type": "custom", "value": 31}, {"entity_id": "$opt_bot_filtering", "key": "$opt_bot_filtering", "type": "custom", "value": true}], "visitor_id": "alice"}"#)
    }

    @Test func impressionDefaultsAreEmptyFlagExperimentRuleTypeEnabledAndTheExperimentKey() throws {
        let impression = try Self.impression(#"{"op": "impression", "user_id": "u", "experiment_key": "checkout_button_test", "variation_key": "control"}"#)
        #expect(impression.flagKey == "" && impression.ruleKey == "checkout_button_test")
        #expect(impression.ruleType == .experiment && impression.enabled && impression.cmabUUID == nil)
    }

    @Test func noExperimentIsValidOnlyWithRuleTypeRolloutAndThenRuleKeyDefaultsToEmpty() throws {
        let rollout = try Self.impression(#"{"op": "impression", "user_id": "u", "experiment_key": null, "flag_key": "dark_mode", "rule_type": "rollout", "enabled": false}"#)
        #expect(rollout.campaignId == "" && rollout.experimentId == "" && rollout.ruleKey == "" && rollout.variationId == nil)
        #expect(Self.rejection(#"{"op": "impression", "user_id": "u", "flag_key": "dark_mode"}"#)
            == .event(.missingExperiment(ruleType: .experiment)))
        #expect(Self.rejection(#"{"op": "impression", "user_id": "u", "rule_type": "feature-test"}"#)
            == .event(.missingExperiment(ruleType: .featureTest)))
    }

    @Test func unknownExperimentOrVariationKeyRejectsTheLine() {
        #expect(Self.rejection(#"{"op": "impression", "user_id": "u", "experiment_key": "nope", "variation_key": "control"}"#)
            == .event(.unknownExperimentKey("nope")))
        #expect(Self.rejection(#"{"op": "impression", "user_id": "u", "experiment_key": "checkout_button_test", "variation_key": "nope"}"#)
            == .event(.unknownVariationKey("nope", experimentKey: "checkout_button_test", flagKey: "")))
    }

    @Test func withAFlagKeyTheVariationIsFoundAmongTheFlagsVariations() throws {
        // "on" of new_nav_test is a variation of flag new_nav, not of the rollout rule named here.
        let impression = try Self.impression(#"{"op": "impression", "user_id": "u", "experiment_key": "default-rollout-10412100000", "variation_key": "on", "flag_key": "new_nav", "rule_type": "rollout"}"#)
        #expect(impression.variationId == "10418551374" && impression.variationKey == "on")
        let byId = try Self.impression(#"{"op": "impression", "user_id": "u", "experiment_key": "default-rollout-10412100000", "variation_id": "10418551374", "flag_key": "new_nav", "rule_type": "rollout"}"#)
        #expect(byId.variationId == "10418551374" && byId.variationKey == "on")
        // Without the flag, only the experiment's variations count.
        #expect(Self.rejection(#"{"op": "impression", "user_id": "u", "experiment_key": "default-rollout-10412100000", "variation_key": "on", "rule_type": "rollout"}"#)
            == .event(.unknownVariationKey("on", experimentKey: "default-rollout-10412100000", flagKey: "")))
    }

    @Test func withAFlagKeyAVariationKeyIsLookedUpAmongTheFlagsVariationsFirst() throws {
        // new_nav has "off" in new_nav_test (10418551373) and in its rollout rule (10412400000):
        // cli.md looks a key up among the flag's variations first (feature tests before rollout
        // rules), then among the experiment's; the id names the rule's own.
        let impression = try Self.impression(#"{"op": "impression", "user_id": "u", "experiment_key": "default-rollout-10412100000", "variation_key": "off", "flag_key": "new_nav", "rule_type": "rollout", "enabled": false}"#)
        #expect(impression.variationId == "10418551373")
        let byId = try Self.impression(#"{"op": "impression", "user_id": "u", "experiment_key": "default-rollout-10412100000", "variation_id": "10412400000", "flag_key": "new_nav", "rule_type": "rollout", "enabled": false}"#)
        #expect(byId.variationId == "10412400000" && byId.variationKey == "off")
        // Without a flag key, the experiment's own.
        let legacy = try Self.impression(#"{"op": "impression", "user_id": "u", "experiment_key": "checkout_button_test", "variation_key": "control"}"#)
        #expect(legacy.variationId == "10418551353")
    }

    @Test func withAFlagKeyAVariationIdIsLookedUpAmongTheFlagsVariationsOnly() throws {
        // 10418551353 is checkout_button_test's "control", but not a variation of dark_mode: the
        // reference sends no variation, and so does enqueue.
        let impression = try Self.impression(#"{"op": "impression", "user_id": "u", "experiment_key": "checkout_button_test", "variation_id": "10418551353", "flag_key": "dark_mode", "rule_type": "feature-test"}"#)
        #expect(impression.variationId == nil && impression.variationKey == "")
        let withoutFlag = try Self.impression(#"{"op": "impression", "user_id": "u", "experiment_key": "checkout_button_test", "variation_id": "10418551353"}"#)
        #expect(withoutFlag.variationId == "10418551353" && withoutFlag.variationKey == "control")
    }

    @Test func variationIdThatResolvesToNothingIsSentAsNullWithEmptyKey() throws {
        let impression = try Self.impression(#"{"op": "impression", "user_id": "u", "experiment_key": "dark_mode_chrome_delivery", "variation_id": "10418551353", "flag_key": "dark_mode", "rule_type": "rollout"}"#)
        #expect(impression.variationId == nil && impression.variationKey == "")
        #expect(impression.campaignId == "10412100001" && impression.experimentId == "10412300010")
    }

    @Test func variationKeyAndIdThatDisagreeRejectTheLine() {
        #expect(Self.rejection(#"{"op": "impression", "user_id": "u", "experiment_key": "checkout_button_test", "variation_key": "control", "variation_id": "10418551354"}"#)
            == .event(.conflictingVariation(key: "control", id: "10418551354")))
    }

    @Test func emptyCmabUUIDCountsAsAbsentAndAGivenOneIsSent() throws {
        let base = #"{"op": "impression", "user_id": "u", "experiment_key": "new_nav_test", "variation_key": "on", "flag_key": "new_nav", "rule_type": "feature-test", "cmab_uuid": "#
        #expect(try Self.impression(base + #""""# + "}").cmabUUID == nil)
        #expect(try Self.impression(base + #""c-9""# + "}").cmabUUID == "c-9")
    }

    @Test func uuidAndTimestampAreGeneratedWhenAbsent() throws {
        let event = try Self.decode(#"{"op": "conversion", "user_id": "u", "event_key": "signup"}"#)
        #expect(event.uuid.count == 36 && event.uuid == event.uuid.lowercased())
        #expect(event.timestampMillis > 1_700_000_000_000)
        let other = try Self.decode(#"{"op": "conversion", "user_id": "u", "event_key": "signup", "uuid": null, "timestamp": null}"#)
        #expect(other.uuid != event.uuid)
    }

    @Test func uuidAndTimestampAreUsedAsGiven() throws {
        let event = try Self.decode(#"{"op": "conversion", "user_id": "u", "event_key": "signup", "uuid": "Not-A-Canonical-UUID", "timestamp": 5}"#)
        #expect(event.uuid == "Not-A-Canonical-UUID" && event.timestampMillis == 5)
        #expect(Self.rejection(#"{"op": "conversion", "user_id": "u", "event_key": "signup", "timestamp": 1.5e12}"#)
            == .wrongType(field: "timestamp", expected: "an integer number of milliseconds since the Unix epoch", found: "float"))
        #expect(Self.rejection(#"{"op": "conversion", "user_id": "u", "event_key": "signup", "uuid": ""}"#) == .event(.emptyUUID))
    }

    @Test func floatAndIntegerStayApartInAttributesAndTags() throws {
        let event = try Self.decode(#"{"op": "conversion", "user_id": "u", "event_key": "purchase", "attributes": {"age": 30.0, "ltv": 30}, "tags": {"a": 1e3, "b": 1000, "value": 30}}"#)
        let json = event.serialized().visitorJSON
        #expect(json.contains(#""tags": {"a": 1000.0, "b": 1000, "value": 30}"#))
        #expect(json.contains(#""key": "age", "type": "custom", "value": 30.0"#))
        #expect(json.contains(#""key": "ltv", "type": "custom", "value": 30}"#))
        #expect(json.contains(#""value": 30.0, "tags""#))
    }

    @Test func hugeIntegerIsDroppedFromAttributesButRejectsTheLineInTags() throws {
        let event = try Self.decode(#"{"op": "conversion", "user_id": "u", "event_key": "purchase", "attributes": {"age": 123456789012345678901234567890}}"#)
        #expect(event.attributes.map(\.key) == ["$opt_bot_filtering"])
        #expect(Self.rejection(#"{"op": "conversion", "user_id": "u", "event_key": "purchase", "tags": {"revenue": 123456789012345678901234567890}}"#)
            == .event(.integerOutOfRange(path: "tags.revenue", literal: "123456789012345678901234567890")))
    }

    @Test func unknownEventKeyRejectsTheLine() {
        #expect(Self.rejection(#"{"op": "conversion", "user_id": "u", "event_key": "nope"}"#) == .event(.unknownEventKey("nope")))
    }

    @Test func lineThatIsNotValidJSONIsRejectedWithWhereAndWhat() {
        guard case .invalidJSON(let error) = Self.rejection(#"{"op": "conversion", "user_id": }"#) else {
            Issue.record("not an invalid JSON error")
            return
        }
        #expect(error.offset == 32)
        #expect(EventLineError.invalidJSON(error).description.contains("at byte 32"))
    }

    @Test func malformedLinesSayWhatIsWrongAndHowToFixIt() {
        #expect(Self.rejection("   ") == .emptyLine)
        #expect(Self.rejection("[1]") == .notAnObject(found: "array"))
        #expect(Self.rejection(#"{"user_id": "u"}"#) == .missingField("op", expected: "a string"))
        #expect(Self.rejection(#"{"op": "click", "user_id": "u"}"#) == .unknownOp("click"))
        #expect(Self.rejection(#"{"op": "conversion", "event_key": "signup"}"#) == .missingField("user_id", expected: "a string"))
        #expect(Self.rejection(#"{"op": "conversion", "user_id": 7, "event_key": "signup"}"#)
            == .wrongType(field: "user_id", expected: "a string", found: "integer"))
        #expect(Self.rejection(#"{"op": "conversion", "user_id": "u", "event_key": "signup", "tags": [1]}"#)
            == .wrongType(field: "tags", expected: "an object", found: "array"))
        #expect(Self.rejection(#"{"op": "impression", "user_id": "u", "rule_type": "ab"}"#) == .unknownRuleType("ab"))
        #expect(Self.rejection(#"{"op": "impression", "user_id": "u", "experiment_key": "checkout_button_test", "enabled": "yes"}"#)
            == .wrongType(field: "enabled", expected: "true or false", found: "string"))
        #expect(EventLineError.unknownOp("click").description.contains("use \"impression\" or \"conversion\""))
    }

    @Test func byteOrderMarkAndCarriageReturnAreTolerated() throws {
        let bytes = [0xEF, 0xBB, 0xBF] + Array(#"{"op": "conversion", "user_id": "u", "event_key": "signup"}"#.utf8) + [0x0D]
        let event = try bytes.withUnsafeBufferPointer { try Self.decoder().decode($0) }
        #expect(event.kind == .conversion)
    }

    @Test func repeatedMemberCountsWithItsLastValue() throws {
        let event = try Self.decode(#"{"op": "conversion", "user_id": "a", "user_id": "b", "event_key": "signup"}"#)
        #expect(event.userId == "b")
    }

    @Test func factoryConvenienceDecodesALine() throws {
        let factory = UserEventFactory(config: try ConformanceFixtures.config)
        #expect(try factory.makeEvent(fromLine: #"{"op": "conversion", "user_id": "u", "event_key": "signup"}"#).kind == .conversion)
    }

    /// Each conformance impression/conversion step, written as an enqueue line, gives the same
    /// visitor as the reference.
    @Test func conformanceStepsAsLinesMatchTheReference() throws {
        var checked = 0
        for testCase in try ConformanceTests.casesWithLogEvents() where ["impression", "conversion"].contains(testCase.op) {
            guard case .object(var members) = testCase.input else { continue }
            members.removeAll { ["config", "use_default_experiment"].contains($0.key) }
            members.append(.init(key: "uuid", value: testCase.userEvent?["uuid"] ?? .null))
            members.append(.init(key: "timestamp", value: testCase.userEvent?["timestamp"] ?? .null))
            guard !holdsNonFinite(.object(members)), !JSONValue.object(members).jsonText.contains("$int") else { continue }
            let decoder = EventLineDecoder(factory: UserEventFactory(config: testCase.config))
            let event = try decoder.decode(JSONValue.object(members).jsonText)
            let ours = try bodyJSON(EventSpool.LogEvent.batch(context: event.context, visitors: [event.serialized().visitorJSON]))
            let theirs = try #require(testCase.logEvent?["params"])
            #expect(equivalent(try #require(ours["visitors"]), try #require(theirs["visitors"])), "\(testCase)")
            checked += 1
        }
        #expect(checked >= 30)
    }
}
