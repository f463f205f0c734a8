import Foundation
import Testing

/// `eventspool collector` run as a child process, as a script would.
@Suite("Collector command")
struct CollectorCommandTests {
    typealias Fixtures = CollectorFixtures

    /// The port in `listening on http://127.0.0.1:PORT`, or `nil` for another line.
    private func listeningPort(in line: String?) -> Int? {
        let prefix = "listening on http://127.0.0.1:"
        guard let line, line.hasPrefix(prefix) else { return nil }
        return Int(line.dropFirst(prefix.count))
    }

    @Test func itPrintsItsAddressRecordsRequestsAndExitsZeroOnSIGTERM() async throws {
        let folder = TemporaryFolder()
        let record = folder.file("record.jsonl")
        let child = try ChildProcess("eventspool", ["collector", "--port", "0", "--record", record, "--fail", "503,reset,200"])
        let first = await child.readLine()
        let port = try #require(listeningPort(in: first), "first line: \(first ?? "none")")
        let body = Fixtures.bytes(uuids: [Fixtures.uuid1])
        let readings = try await offThread {
            try (0..<4).map { _ in
                let socket = try LoopbackSocket.connect(port: port)
                defer { socket.close() }
                return try socket.exchange(body: body)
            }
        }
        #expect(readings.map(\.status) == [503, nil, 200, 200])
        #expect(readings[1] == .reset)
        kill(child.process.processIdentifier, SIGTERM)
        let result = await child.finish()
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        let lines = try String(contentsOfFile: record, encoding: .utf8).split(separator: "\n")
        let objects = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(objects.map { $0["status"] as? Int } == [503, 0, 200, 200])
        #expect(objects.map { $0["fault"] as? String } == [nil, "reset", nil, nil])
        #expect(objects.map { $0["bytes"] as? Int } == Array(repeating: body.count, count: 4))
        #expect(objects.allSatisfy { ($0["body"] as? [String: Any])?["revision"] as? String == "241" })
    }

    @Test func theCommandAnswersEveryFaultStepAndEveryValidation() async throws {
        let folder = TemporaryFolder()
        let record = folder.file("record.jsonl")
        let child = try ChildProcess("eventspool", ["collector", "--port", "0", "--record", record, "--fail", "429:1,400,413,timeout,200"])
        let port = try #require(listeningPort(in: await child.readLine()))
        let valid = Fixtures.bytes(uuids: [Fixtures.uuid1])
        let noUUID = try Fixtures.body(at: [.key("visitors"), .index(0), .key("snapshots"), .index(0), .key("events"), .index(0), .key("uuid")], replacedWith: nil)
        let bodies: [[UInt8]] = [Array("{not json".utf8), noUUID, Fixtures.body(ofSize: 3_500_001), valid, valid, valid, valid, valid]
        let readings = try await offThread {
            try bodies.map { body in
                let socket = try LoopbackSocket.connect(port: port)
                defer { socket.close() }
                return try socket.exchange(body: body, timeout: 1)
            }
        }
        guard readings.count == 8 else { Issue.record("\(readings)"); return }
        // The three invalid bodies are refused with 400 and a JSON error, using no plan step.
        for reading in readings[0..<3] {
            guard case .response(let response) = reading else { Issue.record("\(reading)"); continue }
            #expect(response.status == 400)
            #expect(response.body.hasPrefix("{\"error\": "))
        }
        guard case .response(let throttled) = readings[3] else { Issue.record("\(readings[3])"); return }
        #expect(throttled.status == 429 && throttled.headers["retry-after"] == "1")
        guard case .response(let refused) = readings[4], case .response(let tooLarge) = readings[5] else { Issue.record("\(readings)"); return }
        #expect(refused.status == 400 && tooLarge.status == 413)
        #expect(readings[6] == .timedOut, "the timeout step holds the connection without answering")
        guard case .response(let ok) = readings[7] else { Issue.record("\(readings[7])"); return }
        #expect(ok.status == 200)

        kill(child.process.processIdentifier, SIGTERM)
        #expect(await child.finish().status == 0)
        let lines = try String(contentsOfFile: record, encoding: .utf8).split(separator: "\n")
        let objects = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(objects.map { $0["status"] as? Int } == [400, 400, 400, 429, 400, 413, 0, 200])
        #expect(objects[6]["fault"] as? String == "timeout")
        #expect(objects[0]["body"] is NSNull, "an invalid body is recorded as null")
    }

    @Test func itExitsZeroOnSIGINT() async throws {
        let child = try ChildProcess("eventspool", ["collector", "--port", "0"])
        #expect(listeningPort(in: await child.readLine()) != nil)
        kill(child.process.processIdentifier, SIGINT)
        await #expect(child.finish().status == 0)
    }

    @Test(arguments: [
        (["--fail", "503,502"], #"eventspool: error: fault plan step 2 "502" is not a known step"#),
        (["--fail", "429"], #"eventspool: error: fault plan step 1 "429" needs the Retry-After seconds"#),
        (["--port", "70000"], "eventspool: error: port 70000 is out of range"),
        (["--record", "/nonexistent-folder/record.jsonl"], "eventspool: error: cannot open the record file /nonexistent-folder/record.jsonl"),
    ])
    func aBadArgumentIsOneLineOnStandardError(arguments: [String], expected: String) async throws {
        let child = try ChildProcess("eventspool", ["collector", "--port", "0"] + arguments)
        let result = await child.finish()
        #expect(result.status != 0)
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix(expected) == true, "stderr: \(result.stderr)")
    }
}
