import Testing
@testable import EventSpoolCollector

@Suite("Collector ledger")
struct CollectorLedgerTests {
    typealias Fixtures = CollectorFixtures
    let valid = CollectorFixtures.bytes(uuids: [CollectorFixtures.uuid1])

    @Test func withoutAPlanAValidBatchGets204() {
        var ledger = CollectorLedger(plan: .alwaysNoContent)
        let (request, reply) = ledger.receive(method: "POST", path: "/v1/events", body: valid, byteCount: valid.count)
        #expect(reply == .respond(status: 204, headers: [], body: ""))
        #expect(request.outcome == .responded(status: 204))
        #expect(request.isAccepted)
        #expect(request.batch?.uuids == [Fixtures.uuid1])
    }

    @Test func anInvalidRequestDoesNotUseAPlanStep() throws {
        var ledger = CollectorLedger(plan: try FaultPlan(parsing: "503,200"))
        let invalid = Array("nope".utf8)
        #expect(ledger.receive(method: "POST", path: "/v1/events", body: invalid, byteCount: invalid.count).request.status == 400)
        #expect(ledger.receive(method: "GET", path: "/v1/events", body: [], byteCount: 0).request.status == 405)
        #expect(ledger.receive(method: "POST", path: "/elsewhere", body: valid, byteCount: valid.count).request.status == 404)
        #expect(ledger.receive(method: "POST", path: "/v1/events", body: valid, byteCount: valid.count).request.status == 503)
        #expect(ledger.receive(method: "POST", path: "/v1/events", body: valid, byteCount: valid.count).request.status == 200)
        #expect(ledger.requests.map(\.seq) == [1, 2, 3, 4, 5])
    }

    @Test func anInvalidBodyIsRefusedEvenWhenTheNextStepIsAFault() throws {
        var ledger = CollectorLedger(plan: try FaultPlan(parsing: "timeout"))
        let (request, reply) = ledger.receive(method: "POST", path: "/v1/events", body: Array("{}".utf8), byteCount: 2)
        #expect(request.outcome == .responded(status: 400))
        #expect(request.rejection?.message == "payload lacks account_id")
        #expect(reply == .respond(status: 400, headers: [.init(name: "Content-Type", value: "application/json")], body: #"{"error": "payload lacks account_id"}"#))
    }

    @Test func faultStepsBecomeTheirReplies() throws {
        var ledger = CollectorLedger(plan: try FaultPlan(parsing: "429:3,timeout,reset,200"))
        let replies = (0..<4).map { _ in ledger.receive(method: "POST", path: "/v1/events", body: valid, byteCount: valid.count) }
        #expect(replies[0].reply == .respond(status: 429, headers: [
            .init(name: "Content-Type", value: "application/json"), .init(name: "Retry-After", value: "3"),
        ], body: #"{"error": "injected fault 429:3"}"#))
        #expect(replies[1].reply == .hold)
        #expect(replies[1].request.outcome == .timedOut)
        #expect(replies[1].request.status == 0)
        #expect(!replies[1].request.isAccepted)
        #expect(replies[2].reply == .reset)
        #expect(replies[2].request.outcome == .reset)
        #expect(replies[3].reply == .respond(status: 200, headers: [], body: ""))
    }

    @Test func aNewPlanStartsAtItsFirstStep() throws {
        var ledger = CollectorLedger(plan: try FaultPlan(parsing: "200,503"))
        _ = ledger.receive(method: "POST", path: "/v1/events", body: valid, byteCount: valid.count)
        ledger.setPlan(try FaultPlan(parsing: "413,400"))
        let statuses = (0..<2).map { _ in ledger.receive(method: "POST", path: "/v1/events", body: valid, byteCount: valid.count).request.status }
        #expect(statuses == [413, 400])
    }

    @Test func anOversizedBodyIsCountedNotKept() {
        var ledger = CollectorLedger(plan: .alwaysNoContent)
        let request = ledger.receive(method: "POST", path: "/v1/events", body: [], byteCount: 4_000_000).request
        #expect(request.status == 400)
        #expect(request.byteCount == 4_000_000)
        #expect(request.body.isEmpty)
    }

    @Test func aRecordLineHoldsTheBodyOnOneLine() throws {
        var ledger = CollectorLedger(plan: .alwaysNoContent)
        let pretty = Array("{\n  \"account_id\": \"1\", \"project_id\": \"2\", \"revision\": \"3\", \"client_name\": \"c d\", \"client_version\": \"1\",\n  \"anonymize_ip\": false, \"enrich_decisions\": true, \"visitors\": []\n}".utf8)
        let request = ledger.receive(method: "POST", path: "/v1/events", body: pretty, byteCount: pretty.count).request
        let line = String(decoding: RecordLine.encode(request), as: UTF8.self)
        #expect(line == #"{"seq": 1, "status": 204, "bytes": \#(pretty.count), "body": {"account_id":"1","project_id":"2","revision":"3","client_name":"c d","client_version":"1","anonymize_ip":false,"enrich_decisions":true,"visitors":[]}}"# + "\n")
    }

    @Test func aRecordLineOfAnInvalidRequestHasANullBody() {
        var ledger = CollectorLedger(plan: .alwaysNoContent)
        let request = ledger.receive(method: "POST", path: "/v1/events", body: Array("{}".utf8), byteCount: 2).request
        #expect(String(decoding: RecordLine.encode(request), as: UTF8.self) == #"{"seq": 1, "status": 400, "bytes": 2, "body": null}"# + "\n")
    }

    @Test func aRecordLineWithoutAResponseNamesTheFault() throws {
        var ledger = CollectorLedger(plan: try FaultPlan(parsing: "timeout,reset"))
        let held = ledger.receive(method: "POST", path: "/v1/events", body: valid, byteCount: valid.count).request
        let dropped = ledger.receive(method: "POST", path: "/v1/events", body: valid, byteCount: valid.count).request
        let body = String(decoding: RecordLine.minified(valid), as: UTF8.self)
        #expect(String(decoding: RecordLine.encode(held), as: UTF8.self) == #"{"seq": 1, "status": 0, "bytes": \#(valid.count), "body": \#(body), "fault": "timeout"}"# + "\n")
        #expect(String(decoding: RecordLine.encode(dropped), as: UTF8.self) == #"{"seq": 2, "status": 0, "bytes": \#(valid.count), "body": \#(body), "fault": "reset"}"# + "\n")
    }

    @Test func withoutRetainingRequestsTheyAreStillNumbered() {
        var ledger = CollectorLedger(plan: .alwaysNoContent, retainsRequests: false)
        _ = ledger.receive(method: "POST", path: "/v1/events", body: valid, byteCount: valid.count)
        let second = ledger.receive(method: "POST", path: "/v1/events", body: valid, byteCount: valid.count).request
        #expect(second.seq == 2)
        #expect(ledger.requests.isEmpty)
    }
}
