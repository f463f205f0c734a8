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
        #expect(conversion.events[0].revenue == .integer(1999))
        #expect(conversion.events[0].value == .double(19.99))
        #expect(conversion.events[0].tags?["value"] == .double(19.99))
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
        #expect(refused?.message.hasPrefix("body is not valid JSON at byte") == true)
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
        let event: JSONValue = .object(["entity_id": .string("1"), "uuid": .string("u-2"), "key": .string("purchase"), "timestamp": .integer(1)])
        let events = [.key("visitors"), .index(0), .key("snapshots"), .index(0), .key("events")] as [CollectorFixtures.Step]
        let original = try JSONValue.parse(Fixtures.bytes(uuids: [Fixtures.uuid1]))
        guard let first = original["visitors"]?[0]?["snapshots"]?[0]?["events"]?[0], case .object(var second) = event else {
            Issue.record("fixture shape changed")
            return
        }
        second[key] = nil
        let body = try Fixtures.body(Fixtures.body(uuids: [Fixtures.uuid1]), at: events, replacedWith: .array([first, .object(second)]))
        let refused = rejection(body)
        #expect(refused?.status == 400)
        #expect(refused?.message == "visitors[0].snapshots[0].events[1] lacks \(key)")
        #expect(refused?.responseBody == #"{"error": "visitors[0].snapshots[0].events[1] lacks \#(key)"}"#)
    }

    @Test func aBodyThatIsNotAnObjectIs400() {
        #expect(rejection(Array("[1, 2]".utf8))?.message == "payload is an array, not an object")
    }

    @Test func visitorsThatAreNotAnArrayAre400() throws {
        let body = try Fixtures.body(at: [.key("visitors")], replacedWith: .object([:]))
        #expect(rejection(body)?.message == "payload.visitors is an object, not an array")
    }

    @Test func aKeyOfTheWrongTypeIsNamed() throws {
        let flag = try Fixtures.body(at: [.key("anonymize_ip")], replacedWith: .string("true"))
        #expect(rejection(flag)?.message == "payload.anonymize_ip is a string, not a boolean")
        let account = try Fixtures.body(at: [.key("account_id")], replacedWith: .integer(10367498574))
        #expect(rejection(account)?.message == "payload.account_id is a number, not a string")
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
        let body = try Fixtures.body(at: [.key("visitors"), .index(1), .key("snapshots"), .index(0), .key("events"), .index(0), .key("timestamp")], replacedWith: .double(1_700_000_002_000))
        #expect(try validate(body).get().visitors[1].snapshots[0].events[0].timestamp == 1_700_000_002_000)
    }

    @Test func aReceivedBatchRoundTripsThroughCodable() throws {
        let batch = try validate(Fixtures.bytes(uuids: [Fixtures.uuid1, Fixtures.uuid2])).get()
        let encoded = try JSONEncoder().encode(batch)
        #expect(try JSONDecoder().decode(ReceivedBatch.self, from: encoded) == batch)
    }
}
