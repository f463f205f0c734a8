import Foundation
import Testing
@testable import EventSpoolCollector

/// A collector on a free loopback port, hit by a raw socket client.
@Suite("Collector over loopback")
struct CollectorServerTests {
    typealias Fixtures = CollectorFixtures
    let valid = CollectorFixtures.bytes(uuids: [CollectorFixtures.uuid1, CollectorFixtures.uuid2])

    /// Sends `body` on a new connection and reads the answer.
    private func post(_ collector: Collector, _ body: [UInt8], method: String = "POST", path: String = "/v1/events", timeout: Double = 5) async throws -> LoopbackSocket.Reading {
        let port = collector.port
        return try await offThread {
            let socket = try LoopbackSocket.connect(port: port)
            defer { socket.close() }
            return try socket.exchange(method: method, path: path, body: body, timeout: timeout)
        }
    }

    @Test func aValidBatchIsAnswered204() async throws {
        let collector = try await Collector.start(port: 0)
        #expect(collector.port > 0)
        #expect(collector.url.absoluteString == "http://127.0.0.1:\(collector.port)/v1/events")
        let reading = try await post(collector, valid)
        #expect(reading.status == 204)
        let requests = await collector.requests
        #expect(requests.count == 1)
        #expect(requests.first?.seq == 1)
        #expect(requests.first?.body == valid)
        #expect(requests.first?.byteCount == valid.count)
        #expect(requests.first?.batch?.uuids == [Fixtures.uuid1, Fixtures.uuid2])
        #expect(await collector.acceptedUUIDs == [Fixtures.uuid1, Fixtures.uuid2])
        try await collector.shutdown()
    }

    @Test func anInvalidBatchIsAnswered400WithAJSONError() async throws {
        let collector = try await Collector.start(port: 0)
        let body = try Fixtures.body(at: [.key("visitors"), .index(1), .key("snapshots"), .index(0), .key("events"), .index(0), .key("uuid")], replacedWith: nil)
        guard case .response(let response) = try await post(collector, body) else {
            Issue.record("no response")
            return
        }
        #expect(response.status == 400)
        #expect(response.headers["content-type"] == "application/json")
        #expect(response.body == #"{"error": "visitors[1].snapshots[0].events[0] lacks uuid"}"#)
        #expect(await collector.requests.first?.batch == nil)
        #expect(await collector.acceptedUUIDs.isEmpty)
        try await collector.shutdown()
    }

    @Test func otherRoutesAre404And405() async throws {
        let collector = try await Collector.start(port: 0)
        #expect(try await post(collector, valid, path: "/v1/other").status == 404)
        guard case .response(let response) = try await post(collector, [], method: "GET") else {
            Issue.record("no response")
            return
        }
        #expect(response.status == 405)
        #expect(response.headers["allow"] == "POST")
        try await collector.shutdown()
    }

    @Test func aBodyOverTheLimitIs400AndTheConnectionStaysUsable() async throws {
        let collector = try await Collector.start(port: 0)
        let port = collector.port
        let valid = valid
        let readings = try await offThread {
            let socket = try LoopbackSocket.connect(port: port)
            defer { socket.close() }
            let huge = [UInt8](repeating: UInt8(ascii: " "), count: RequestValidation.maximumBodyBytes + 1)
            return [try socket.exchange(body: huge), try socket.exchange(body: valid)]
        }
        guard case .response(let refused) = readings[0] else {
            Issue.record("no response to the large body")
            return
        }
        #expect(refused.status == 400)
        #expect(refused.body == #"{"error": "body is 3500001 bytes, over the limit of 3500000"}"#)
        #expect(readings[1].status == 204)
        let requests = await collector.requests
        #expect(requests.map(\.byteCount) == [3_500_001, valid.count])
        #expect(requests[0].body.isEmpty)
        try await collector.shutdown()
    }

    @Test func theRecordFileHasOneLinePerRequestBeforeItsResponse() async throws {
        let folder = TemporaryFolder()
        let path = folder.file("record.jsonl")
        let collector = try await Collector.start(port: 0, plan: try FaultPlan(parsing: "503,200"), recordPath: path)
        var lines: [[String: Any]] = []
        for body in [valid, Array("nope".utf8), valid] {
            _ = try await post(collector, body)
            // The line is in the file as soon as the response is.
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let last = try #require(text.split(separator: "\n").last)
            lines.append(try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any]))
        }
        #expect(lines.map { Set($0.keys) } == Array(repeating: ["seq", "status", "bytes", "body"], count: 3))
        #expect(lines.map { $0["seq"] as? Int } == [1, 2, 3])
        #expect(lines.map { $0["status"] as? Int } == [503, 400, 200])
        #expect(lines.map { $0["bytes"] as? Int } == [valid.count, 4, valid.count])
        #expect((lines[0]["body"] as? [String: Any])?["account_id"] as? String == "10367498574")
        #expect(lines[1]["body"] is NSNull)
        try await collector.shutdown()
    }

    @Test func faultStepsAreAnsweredInTurn() async throws {
        let collector = try await Collector.start(port: 0, plan: try FaultPlan(parsing: "503,429:3,400,413,200"))
        var responses: [LoopbackSocket.Response] = []
        for _ in 0..<6 {
            guard case .response(let response) = try await post(collector, valid) else {
                Issue.record("no response")
                return
            }
            responses.append(response)
        }
        #expect(responses.map(\.status) == [503, 429, 400, 413, 200, 200])
        #expect(responses[1].headers["retry-after"] == "3")
        #expect(responses[0].headers["retry-after"] == nil)
        #expect(responses[0].body == #"{"error": "injected fault 503"}"#)
        #expect(await collector.acceptedUUIDs == [Fixtures.uuid1, Fixtures.uuid2, Fixtures.uuid1, Fixtures.uuid2])
        try await collector.shutdown()
    }

    @Test func aTimeoutHoldsTheConnectionUntilShutdown() async throws {
        let folder = TemporaryFolder()
        let path = folder.file("record.jsonl")
        let collector = try await Collector.start(port: 0, plan: try FaultPlan(parsing: "timeout"), recordPath: path)
        let port = collector.port
        let valid = valid
        let socket = try LoopbackSocket.connect(port: port)
        defer { socket.close() }
        let early = try await offThread {
            try socket.sendRequest(body: valid)
            return socket.readResponse(timeout: 0.3)
        }
        #expect(early == .timedOut)
        #expect(await collector.requests.map(\.outcome) == [.timedOut])
        let started = Date()
        async let afterShutdown = offThread { socket.readResponse(timeout: 5) }
        try await collector.shutdown()
        #expect(try await afterShutdown == .closed)
        #expect(Date().timeIntervalSince(started) < 4)
        let line = try String(contentsOfFile: path, encoding: .utf8)
        #expect(line.hasPrefix(#"{"seq": 1, "status": 0, "bytes": \#(valid.count), "body": {"#))
        #expect(line.hasSuffix(#", "fault": "timeout"}"# + "\n"))
    }

    @Test func aHeldConnectionIsClosedAfterTheHoldDuration() async throws {
        let collector = try await Collector.start(
            host: "127.0.0.1", port: 0, plan: try FaultPlan(parsing: "timeout"), recordPath: nil,
            logger: .init(label: "test"), holdDuration: .milliseconds(200)
        )
        let port = collector.port
        let valid = valid
        let reading = try await offThread {
            let socket = try LoopbackSocket.connect(port: port)
            defer { socket.close() }
            return try socket.exchange(body: valid, timeout: 5)
        }
        #expect(reading == .closed)
        try await collector.shutdown()
    }

    @Test func aResetClosesTheConnectionWithoutAResponse() async throws {
        let collector = try await Collector.start(port: 0, plan: try FaultPlan(parsing: "reset,200"))
        #expect(try await post(collector, valid) == .reset)
        #expect(try await post(collector, valid).status == 200)
        #expect(await collector.requests.map(\.outcome) == [.reset, .responded(status: 200)])
        #expect(await collector.acceptedUUIDs == [Fixtures.uuid1, Fixtures.uuid2])
        try await collector.shutdown()
    }

    @Test func thePlanCanChangeWhileRunning() async throws {
        let collector = try await Collector.start(port: 0)
        #expect(try await post(collector, valid).status == 204)
        await collector.setPlan(try FaultPlan(parsing: "503,200"))
        #expect(try await post(collector, valid).status == 503)
        #expect(try await post(collector, valid).status == 200)
        await collector.setPlan(.alwaysNoContent)
        #expect(try await post(collector, valid).status == 204)
        try await collector.shutdown()
    }

    @Test func oneConnectionServesSeveralRequests() async throws {
        let collector = try await Collector.start(port: 0, plan: try FaultPlan(parsing: "503,200"))
        let port = collector.port
        let valid = valid
        let (statuses, closing, afterClose) = try await offThread {
            let socket = try LoopbackSocket.connect(port: port)
            defer { socket.close() }
            let statuses = try (0..<4).map { _ in try socket.exchange(body: valid).status }
            try socket.sendRequest(body: valid, headers: ["Connection: close"])
            let closing = socket.readResponse(timeout: 5)
            return (statuses, closing, socket.readResponse(timeout: 5))
        }
        #expect(statuses == [503, 200, 200, 200])
        guard case .response(let last) = closing else {
            Issue.record("no response to the last request")
            return
        }
        #expect(last.headers["connection"] == "close")
        #expect(afterClose == .closed)
        #expect(await collector.requests.count == 5)
        try await collector.shutdown()
    }

    @Test func aClientExpectingContinueGetsItBeforeSendingTheBody() async throws {
        let collector = try await Collector.start(port: 0)
        let port = collector.port
        let valid = valid
        let (interim, final) = try await offThread {
            let socket = try LoopbackSocket.connect(port: port)
            defer { socket.close() }
            let head = "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(valid.count)\r\nExpect: 100-continue\r\n\r\n"
            try socket.send(Array(head.utf8))
            let interim = socket.readResponse(timeout: 5)
            try socket.send(valid)
            return (interim, socket.readResponse(timeout: 5))
        }
        #expect(interim.status == 100)
        #expect(final.status == 204)
        try await collector.shutdown()
    }

    @Test func shutdownTwiceIsHarmless() async throws {
        let collector = try await Collector.start(port: 0)
        let port = collector.port
        try await collector.shutdown()
        try await collector.shutdown()
        #expect(throws: LoopbackSocket.Failure.self) { try LoopbackSocket.connect(port: port) }
    }

    @Test func aRecordPathThatCannotBeOpenedStopsTheStart() async throws {
        let folder = TemporaryFolder()
        await #expect(throws: CollectorError.self) {
            _ = try await Collector.start(port: 0, recordPath: folder.file("missing/record.jsonl"))
        }
    }

    @Test func aPortInUseStopsTheStart() async throws {
        let first = try await Collector.start(port: 0)
        do {
            _ = try await Collector.start(port: first.port)
            Issue.record("a second collector listened on the same port")
        } catch let error as CollectorError {
            guard case .cannotListen(_, let port, _) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(port == first.port)
        }
        try await first.shutdown()
    }
}
