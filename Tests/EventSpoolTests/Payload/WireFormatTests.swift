import Testing
@testable import EventSpool

@Suite struct WireFormatTests {
    static let context = EventContext(accountId: "10367498574", projectId: "10431130345", revision: "241",
                                      anonymizeIP: true, region: .us, clientName: "swift-eventspool", clientVersion: "0.1.0")

    @Test func impressionBodyHasSpecKeyOrderAndExactBytes() throws {
        let factory = UserEventFactory(config: try ConformanceFixtures.config)
        let event = try factory.makeImpression(
            experimentKey: "new_nav_test", variationKey: "on", flagKey: "new_nav", ruleType: .featureTest,
            userId: "alice", attributes: ["browser": "chrome", "age": 31], cmabUUID: "c-1",
            uuid: "7d2b7a54-8a36-4d4e-9a8f-0c4b5f1e2a3b", timestampMillis: 1_700_000_001_000)
        let body = EventSpool.LogEvent.batch(context: event.context, visitors: [event.serialized().visitorJSON]).bodyText
        let expected = #"{"account_id": "10367498574", "project_id": "10431130345", "revision": "241", "#
            + #""client_name": "swift-eventspool", "client_version": "0.1.0", "anonymize_ip": true, "enrich_decisions": true, "#
            + #""visitors": [{"snapshots": [{"events": [{"entity_id": "10420273890", "uuid": "7d2b7a54-8a36-4d4e-9a8f-0c4b5f1e2a3b", "#
            + #""key": "campaign_activated", "timestamp": 1700000001000}], "decisions": [{"campaign_id": "10420273890", "#
            + #""experiment_id": "10420810930", "variation_id": "10418551374", "metadata": {"flag_key": "new_nav", "#
            + #""rule_key": "new_nav_test", "rule_type": "feature-test", "variation_key": "on", "enabled": true, "cmab_uuid": "c-1"}}]}], "#
            + #""attributes": [{"entity_id": "10401066117", "key": "browser", "type": "custom", "value": "chrome"}, "#
            + #"{"entity_id": "10401066119", "key": "age", "type": "custom", "value": 31}, "#
            + #"{"entity_id": "$opt_bot_filtering", "key": "$opt_bot_filtering", "type": "custom", "value": true}], "#
            + #""visitor_id": "alice"}]}"#
        #expect(body == expected)
    }

    @Test func conversionBodyHasSpecKeyOrderAndExactBytes() throws {
        let factory = UserEventFactory(config: try ConformanceFixtures.config)
        let event = try factory.makeConversion(
            eventKey: "purchase", userId: "bob", attributes: ["ltv": 12.5, "$opt_user_agent": "bot?"],
            tags: ["revenue": 1999, "value": "7", "note": "é"], uuid: "0b5c1d7e-3f4a-4b2c-8d9e-1f2a3b4c5d6e",
            timestampMillis: 1_700_000_002_000)
        let body = EventSpool.LogEvent.batch(context: event.context, visitors: [event.serialized().visitorJSON]).bodyText
        let expected = #"{"account_id": "10367498574", "project_id": "10431130345", "revision": "241", "#
            + #""client_name": "swift-eventspool", "client_version": "0.1.0", "anonymize_ip": true, "enrich_decisions": true, "#
            + #""visitors": [{"snapshots": [{"events": [{"entity_id": "10428540015", "uuid": "0b5c1d7e-3f4a-4b2c-8d9e-1f2a3b4c5d6e", "#
            + #""key": "purchase", "timestamp": 1700000002000, "revenue": 1999, "value": 7.0, "#
            + #""tags": {"revenue": 1999, "value": "7", "note": "\u00e9"}}]}], "#
            + #""attributes": [{"entity_id": "10401066120", "key": "ltv", "type": "custom", "value": 12.5}, "#
            + #"{"entity_id": "$opt_user_agent", "key": "$opt_user_agent", "type": "custom", "value": "bot?"}, "#
            + #"{"entity_id": "$opt_bot_filtering", "key": "$opt_bot_filtering", "type": "custom", "value": true}], "#
            + #""visitor_id": "bob"}]}"#
        #expect(body == expected)
    }

    @Test func batchJoinsStoredVisitorsWithoutReencodingThem() {
        let visitors = [#"{"a": 1}"#, #"{"b": "\u00e9"}"#, "{}"]
        let logEvent = EventSpool.LogEvent.batch(context: Self.context, visitors: visitors)
        #expect(logEvent.bodyText == EventSpool.LogEvent.headerPrefix(for: Self.context) + visitors.joined(separator: ", ") + "]}")
        #expect(logEvent.url == "https://logx.optimizely.com/v1/events")
        #expect(logEvent.httpVerb == "POST")
    }

    @Test func bodyByteCountPredictsTheBodySizeExactly() {
        for count in 0...4 {
            let visitors = (0..<count).map { #"{"visitor_id": "u\#($0)\#(String(repeating: "é", count: $0))"}"# }
            let logEvent = EventSpool.LogEvent.batch(context: Self.context, visitors: visitors)
            #expect(EventSpool.LogEvent.bodyByteCount(context: Self.context, visitorByteCounts: visitors.map { $0.utf8.count })
                == logEvent.body.count)
        }
    }

    @Test func euRegionSendsToTheEUEndpoint() {
        var context = Self.context
        context.region = EventRegion(datafileValue: "eu")
        #expect(EventSpool.LogEvent.batch(context: context, visitors: []).url == "https://eu.logx.optimizely.com/v1/events")
    }

    @Test func anonymizeIPFalseIsWrittenFalse() throws {
        var context = Self.context
        context.anonymizeIP = false
        let body = try bodyJSON(EventSpool.LogEvent.batch(context: context, visitors: []))
        #expect(body["anonymize_ip"] == .bool(false))
        #expect(body["enrich_decisions"] == .bool(true))
    }

    /// Python's `repr` for floats, the reference's notation (values computed with Python 3).
    @Test(arguments: [
        (7.0, "7.0"), (19.99, "19.99"), (0.1, "0.1"), (-0.0, "-0.0"), (1e16, "1e+16"), (2.5e16, "2.5e+16"),
        (1e15, "1000000000000000.0"), (9999999999999998.0, "9999999999999998.0"), (9007199254740994.0, "9007199254740994.0"),
        (1234567890123456.7, "1234567890123456.8"), (-9.5e15, "-9500000000000000.0"), (1e15 + 0.5, "1000000000000000.5"),
        (1e-4, "0.0001"), (1.5e-5, "1.5e-05"), (.leastNonzeroMagnitude, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
    ])
    func doublesAreWrittenAsPythonReprWrites(_ value: Double, _ text: String) throws {
        #expect(PayloadEncoder.formatDouble(value) == text)
        #expect(try JSONValue.parse(text) == .double(try #require(FiniteDouble(value))))
    }

    @Test func stringsAreEscapedAsTheReferenceEscapesThem() throws {
        let text = "a\"\\\n\u{01}\u{7F} é€😀/\t\r\u{08}\u{0C}"
        #expect(JSONValue.string(text).jsonText == #""a\"\\\n\u0001\u007f \u00e9\u20ac\ud83d\ude00/\t\r\b\f""#)
        #expect(try JSONValue.parse(JSONValue.string(text).jsonText) == .string(text))
    }

    @Test func integersKeepEveryDigitUpToInt64Limits() throws {
        for value: Int64 in [0, -1, 9_007_199_254_740_993, .max, .min] {
            let text = JSONValue.int(value).jsonText
            #expect(text == String(value))
            #expect(try JSONValue.parse(text) == .int(value))
        }
    }

    @Test func nonFiniteDoublesCannotBecomeJSONValues() {
        #expect(FiniteDouble(.nan) == nil)
        #expect(FiniteDouble(.infinity) == nil)
        #expect(FiniteDouble(-.infinity) == nil)
        #expect(FiniteDouble(1.5)?.value == 1.5)
    }

    @Test func serializedEventCarriesTheQueueFields() throws {
        let factory = UserEventFactory(config: try ConformanceFixtures.config)
        let event = try factory.makeConversion(eventKey: "signup", userId: "carol", uuid: "u-1", timestampMillis: 42)
        let stored = event.serialized()
        #expect(stored.uuid == "u-1" && stored.kind == .conversion && stored.userId == "carol" && stored.timestampMillis == 42)
        #expect(stored.context == event.context)
        #expect(stored.byteCount == stored.visitorJSON.utf8.count)
        #expect(stored.visitorJSON == PayloadEncoder.visitorJSON(event))
    }
}
