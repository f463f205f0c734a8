import EventSpool
import Foundation
import Testing
@testable import EventSpoolCollector

@Suite("Collector request validation")
struct CollectorRequestValidationTests {
    typealias Fixtures = CollectorFixtures

    private func validate(_ body: [UInt8], method: String = "POST", path: String = "/v1/events", byteCount: Int? = nil) -> Result<ReceivedBatch, RequestRejection> {
        RequestValidation.validate(method: method, path: path, body: body, byteCount: byteCount ?? body.count)
    }

    private func rejection(_ body: [UInt8], method: String = "POST", path: String = "/v1/events", byteCount: Int? = nil) -> RequestRejection? {
        if case .failure(let rejection) = validate(body, method: method, path: path, byteCount: byteCount) { return rejection }
        return nil
    }

    @Test func aValidBatchIsDecoded() throws {
        let batch = try validate(Fixtures.bytes(uuids: [Fixtures.uuid1, Fixtures.uuid2])).get()
        #expect(batch.accountId == "10367498574")
        #expect(batch.projectId == "10431130345")
        #expect(batch.revision == "241")
        #expect(batch.clientName == "python-sdk")
        #expect(batch.clientVersion == "5.7.0")
        #expect(batch.anonymizeIP)
        #expect(batch.enrichDecisions)
        #expect(batch.uuids == [Fixtures.uuid1, Fixtures.uuid2])
        #expect(batch.visitors.map(\.visitorId) == ["alice", "bob"])
        let impression = batch.visitors[0].snapshots[0]
        #expect(impression.decisions?.first?.variationId == "10389729780")
        #expect(impression.decisions?.first?.metadata?["rule_key"] == .string("checkout_button_test"))
        #expect(batch.visitors[0].attributes[1]["value"] == .bool(false))
        let conversion = batch.visitors[1].snapshots[0]
        #expect(conversion.decisions == nil)
        #expect(conversion.events[0].timestamp == 1_700_000_002_000)
        #expect(conversion.events[0].revenue == .int(1999))
        #expect(conversion.events[0].value == .double(try #require(FiniteDouble(19.99))))
        #expect(conversion.events[0].tags == .object([.init(key: "revenue", value: .int(1999)), .init(key: "value", value: .double(try #require(FiniteDouble(19.99))))]))
    }

    @Test(arguments: ["/v1/events", "/logx/v1/events", "/v1/events?debug=1"])
    func anyPathEndingInV1EventsIsTheEndpoint(path: String) {
        #expect(throws: Never.self) { try validate(Fixtures.bytes(uuids: [Fixtures.uuid1]), path: path).get() }
    }

    @Test(arguments: ["/", "/v1/event", "/v1/events/extra", "/v2/events"])
    func anotherPathIs404(path: String) {
        #expect(rejection(Fixtures.bytes(uuids: [Fixtures.uuid1]), path: path)?.status == 404)
    }

    @Test(arguments: ["GET", "PUT", "DELETE"])
    func anotherMethodIs405(method: String) {
        let refused = rejection(Fixtures.bytes(uuids: [Fixtures.uuid1]), method: method)
        #expect(refused?.status == 405)
        #expect(refused?.message == "method \(method) not allowed on /v1/events; use POST")
    }

    @Test func aBodyOverTheLimitIs400() {
        let refused = rejection(Fixtures.bytes(uuids: [Fixtures.uuid1]), byteCount: 3_500_001)
        #expect(refused?.status == 400)
        #expect(refused?.message == "body is 3500001 bytes, over the limit of 3500000")
    }

    @Test func aBodyOfExactlyTheLimitIsAccepted() throws {
        let body = Fixtures.body(ofSize: 3_500_000)
        #expect(body.count == 3_500_000)
        #expect(try validate(body).get().uuids == [Fixtures.uuid1])
    }

    @Test(arguments: [#"{"account_id": "1""#, "not json", "", #"{"a": 1,}"#])
    func aBodyThatIsNotJSONIs400(text: String) {
        let refused = rejection(Array(text.utf8))
        #expect(refused?.status == 400)
        #expect(refused?.message.hasPrefix("body is invalid JSON at byte") == true)
    }

    @Test(arguments: ["account_id", "project_id", "revision", "client_name", "client_version", "anonymize_ip", "enrich_decisions", "visitors"])
    func aMissingHeaderKeyIsNamed(key: String) throws {
        let body = try Fixtures.body(at: [.key(key)], replacedWith: nil)
        let refused = rejection(body)
        #expect(refused?.status == 400)
        #expect(refused?.message == "payload lacks \(key)")
    }

    @Test(arguments: ["visitor_id", "attributes", "snapshots"])
    func aMissingVisitorKeyIsNamedWithItsPlace(key: String) throws {
        let body = try Fixtures.body(at: [.key("visitors"), .index(1), .key(key)], replacedWith: nil)
        #expect(rejection(body)?.message == "visitors[1] lacks \(key)")
    }

    @Test func aSnapshotWithoutEventsIsNamed() throws {
        let body = try Fixtures.body(at: [.key("visitors"), .index(0), .key("snapshots"), .index(0), .key("events")], replacedWith: nil)
        #expect(rejection(body)?.message == "visitors[0].snapshots[0] lacks events")
    }

    @Test(arguments: ["entity_id", "uuid", "key", "timestamp"])
    func aMissingEventKeyIsNamedWithItsPlace(key: String) throws {
        // A snapshot with two events, the second lacking `key`.
        let event: JSONValue = .object([
            .init(key: "entity_id", value: .string("1")), .init(key: "uuid", value: .string("u-2")),
            .init(key: "key", value: .string("purchase")), .init(key: "timestamp", value: .int(1)),
        ])
        let events = [.key("visitors"), .index(0), .key("snapshots"), .index(0), .key("events")] as [CollectorFixtures.Step]
        let original = try JSONValue.parse(Fixtures.bytes(uuids: [Fixtures.uuid1]))
        let first = try #require(original["visitors"]?.arrayValue?.first?["snapshots"]?.arrayValue?.first?["events"]?.arrayValue?.first)
        let body = try Fixtures.body(Fixtures.body(uuids: [Fixtures.uuid1]), at: events, replacedWith: .array([first, event.setting(key, nil)]))
        let refused = rejection(body)
        #expect(refused?.status == 400)
        #expect(refused?.message == "visitors[0].snapshots[0].events[1] lacks \(key)")
        #expect(refused?.responseBody == #"{"error": "visitors[0].snapshots[0].events[1] lacks \#(key)"}"#)
    }

    @Test func aBodyThatIsNotAnObjectIs400() {
        #expect(rejection(Array("[1, 2]".utf8))?.message == "payload is an array, not an object")
    }

    @Test func visitorsThatAreNotAnArrayAre400() throws {
        let body = try Fixtures.body(at: [.key("visitors")], replacedWith: .object([]))
        #expect(rejection(body)?.message == "payload.visitors is an object, not an array")
    }

    @Test func aKeyOfTheWrongTypeIsNamed() throws {
        let flag = try Fixtures.body(at: [.key("anonymize_ip")], replacedWith: .string("true"))
        #expect(rejection(flag)?.message == "payload.anonymize_ip is a string, not a boolean")
        let account = try Fixtures.body(at: [.key("account_id")], replacedWith: .int(10367498574))
        #expect(rejection(account)?.message == "payload.account_id is an integer, not a string")
        let revision = try Fixtures.body(at: [.key("revision")], replacedWith: .double(FiniteDouble(241)))
        #expect(rejection(revision)?.message == "payload.revision is a float, not a string")
        let project = try Fixtures.body(at: [.key("project_id")], replacedWith: .null)
        #expect(rejection(project)?.message == "payload.project_id is null, not a string")
        let timestamp = try Fixtures.body(at: [.key("visitors"), .index(1), .key("snapshots"), .index(0), .key("events"), .index(0), .key("timestamp")], replacedWith: .string("1700000002000"))
        #expect(rejection(timestamp)?.message == "visitors[1].snapshots[0].events[0].timestamp is a string, not an integer")
        let visitor = try Fixtures.body(at: [.key("visitors"), .index(0)], replacedWith: .string("alice"))
        #expect(rejection(visitor)?.message == "visitors[0] is a string, not an object")
    }

    @Test func decisionsThatAreNotAnArrayAre400() throws {
        let body = try Fixtures.body(at: [.key("visitors"), .index(0), .key("snapshots"), .index(0), .key("decisions")], replacedWith: .string("none"))
        #expect(rejection(body)?.message == "visitors[0].snapshots[0].decisions is a string, not an array")
    }

    @Test func aTimestampWrittenAsAWholeFloatIsAccepted() throws {
        let body = try Fixtures.body(at: [.key("visitors"), .index(1), .key("snapshots"), .index(0), .key("events"), .index(0), .key("timestamp")], replacedWith: .double(FiniteDouble(1_700_000_002_000)))
        #expect(String(decoding: body, as: UTF8.self).contains(#""timestamp": 1700000002000.0"#))
        #expect(try validate(body).get().visitors[1].snapshots[0].events[0].timestamp == 1_700_000_002_000)
        let fractional = try Fixtures.body(at: [.key("visitors"), .index(1), .key("snapshots"), .index(0), .key("events"), .index(0), .key("timestamp")], replacedWith: .double(try #require(FiniteDouble(1.5))))
        #expect(rejection(fractional)?.message == "visitors[1].snapshots[0].events[0].timestamp is a float, not an integer")
    }

    @Test func aReceivedBatchRoundTripsThroughCodable() throws {
        let batch = try validate(Fixtures.bytes(uuids: [Fixtures.uuid1, Fixtures.uuid2])).get()
        let encoded = try JSONEncoder().encode(batch)
        let decoded = try JSONDecoder().decode(ReceivedBatch.self, from: encoded)
        // A decoder does not report key order, so objects come back sorted by key.
        var expected = batch
        expected.visitors = expected.visitors.map { visitor in
            var visitor = visitor
            visitor.attributes = visitor.attributes.map(\.sortingKeys)
            visitor.snapshots = visitor.snapshots.map { snapshot in
                var snapshot = snapshot
                snapshot.decisions = snapshot.decisions?.map { decision in
                    var decision = decision
                    decision.metadata = decision.metadata?.sortingKeys
                    return decision
                }
                return snapshot
            }
            return visitor
        }
        #expect(decoded == expected)
        // Integers and floats stay apart.
        #expect(decoded.events[1].revenue == .int(1999))
        #expect(decoded.events[1].value == .double(try #require(FiniteDouble(19.99))))
    }

    @Test func whenAKeyIsRepeatedTheFirstOccurrenceCounts() throws {
        let text = Fixtures.body(uuids: [Fixtures.uuid1]).replacingOccurrences(of: #""revision": "241""#, with: #""revision": "241", "revision": 7"#)
        #expect(try validate(Array(text.utf8)).get().revision == "241")
    }
}

extension JSONValue {
    /// The value with every object's members sorted by key, as `JSONValue`'s `Decodable`
    /// conformance gives them.
    fileprivate var sortingKeys: JSONValue {
        switch self {
        case .array(let elements): .array(elements.map(\.sortingKeys))
        case .object(let members): .object(members.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: $0.value.sortingKeys) })
        default: self
        }
    }
}
