import EventSpool
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
@testable import EventSpoolCollector

/// The datafile route of a collector on a free loopback port, hit by real clients.
@Suite("Collector datafile route over loopback")
struct CollectorDatafileServerTests {
    let datafile = #"{"version": "4", "revision": "1"}"#

    /// Sends one GET on a new connection and reads the answer.
    private func get(_ collector: Collector, _ path: String = "/datafiles/KEY.json", headers: [String] = [], timeout: Double = 5) async throws -> LoopbackSocket.Reading {
        let port = collector.port
        return try await offThread {
            let socket = try LoopbackSocket.connect(port: port)
            defer { socket.close() }
            try socket.sendRequest(method: "GET", path: path, headers: headers)
            return socket.readResponse(timeout: timeout)
        }
    }

    private func response(_ reading: LoopbackSocket.Reading) throws -> LoopbackSocket.Response {
        guard case .response(let response) = reading else { throw LoopbackSocket.Failure(description: "no response: \(reading)") }
        return response
    }

    @Test func aDatafileIsServed200WithLastModifiedThen304OnTheSameConnection() async throws {
        let collector = try await Collector.start(port: 0)
        let lastModified = await collector.setDatafile(datafile, sdkKey: "KEY")
        let port = collector.port
        let (first, second, third) = try await offThread {
            let socket = try LoopbackSocket.connect(port: port)
            defer { socket.close() }
            try socket.sendRequest(method: "GET", path: "/datafiles/KEY.json")
            let first = socket.readResponse(timeout: 5)
            try socket.sendRequest(method: "GET", path: "/datafiles/KEY.json", headers: ["If-Modified-Since: \(lastModified)"])
            let second = socket.readResponse(timeout: 5)
            // The 304 had no body: the connection is still in step for a third request.
            try socket.sendRequest(method: "GET", path: "/datafiles/KEY.json")
            return (first, second, socket.readResponse(timeout: 5))
        }
        let ok = try response(first)
        #expect(ok.status == 200)
        #expect(ok.body == datafile)
        #expect(ok.headers["last-modified"] == lastModified)
        #expect(ok.headers["content-type"] == "application/json")
        let notModified = try response(second)
        #expect(notModified.status == 304)
        #expect(notModified.body.isEmpty)
        #expect(notModified.headers["last-modified"] == lastModified)
        #expect(try response(third).status == 200)
        let requests = await collector.datafileRequests
        #expect(requests.map(\.ifModifiedSince) == [nil, lastModified, nil])
        #expect(requests.map(\.status) == [200, 304, 200])
        try await collector.shutdown()
    }

    @Test func aStandardHTTPClientReadsTheDatafileTheNotModifiedAndAHead() async throws {
        let collector = try await Collector.start(port: 0)
        let lastModified = await collector.setDatafile(datafile, sdkKey: "KEY")
        let session = URLSession(configuration: .ephemeral)
        let url = try #require(URL(string: collector.datafileURLTemplate().replacingOccurrences(of: "{sdk_key}", with: "KEY")))
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: 30)
        let (body, first) = try await session.data(for: request)
        #expect((first as? HTTPURLResponse)?.statusCode == 200)
        #expect((first as? HTTPURLResponse)?.value(forHTTPHeaderField: "Last-Modified") == lastModified)
        #expect(String(decoding: body, as: UTF8.self) == datafile)
        request.setValue(lastModified, forHTTPHeaderField: "If-Modified-Since")
        let (_, second) = try await session.data(for: request)
        #expect((second as? HTTPURLResponse)?.statusCode == 304)
        var head = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: 30)
        head.httpMethod = "HEAD"
        let (headBody, third) = try await session.data(for: head)
        #expect((third as? HTTPURLResponse)?.statusCode == 200)
        #expect((third as? HTTPURLResponse)?.value(forHTTPHeaderField: "Last-Modified") == lastModified)
        #expect(headBody.isEmpty)
        session.finishTasksAndInvalidate()
        try await collector.shutdown()
    }

    @Test func aReplacementServesTheNewBodyWithANewerLastModified() async throws {
        let collector = try await Collector.start(port: 0)
        let first = await collector.setDatafile(datafile, sdkKey: "KEY")
        let replacement = #"{"version": "4", "revision": "2"}"#
        let second = await collector.setDatafile(replacement, sdkKey: "KEY")
        let firstMillis = try #require(HTTPDate.millis(first))
        let secondMillis = try #require(HTTPDate.millis(second))
        #expect(secondMillis > firstMillis)
        let answer = try response(try await get(collector, headers: ["If-Modified-Since: \(first)"]))
        #expect(answer.status == 200)
        #expect(answer.body == replacement)
        #expect(answer.headers["last-modified"] == second)
        #expect(try await get(collector, headers: ["If-Modified-Since: \(second)"]).status == 304)
        try await collector.shutdown()
    }

    @Test func theAuthenticatedRouteRequiresTheToken() async throws {
        let collector = try await Collector.start(port: 0)
        await collector.setDatafile(datafile, sdkKey: "KEY", accessToken: "s3cret")
        let path = "/datafiles/auth/KEY.json"
        #expect(collector.datafileURLTemplate(authenticated: true) == "http://127.0.0.1:\(collector.port)/datafiles/auth/{sdk_key}.json")
        let missing = try response(try await get(collector, path))
        #expect(missing.status == 401)
        #expect(missing.headers["www-authenticate"] == "Bearer")
        #expect(try await get(collector, path, headers: ["Authorization: Bearer nope"]).status == 403)
        #expect(try await get(collector, headers: ["Authorization: Bearer s3cret"]).status == 403, "not on the public route")
        let ok = try response(try await get(collector, path, headers: ["Authorization: Bearer s3cret"]))
        #expect(ok.status == 200)
        #expect(ok.body == datafile)
        #expect(await collector.datafileRequests.map(\.hasAuthorization) == [false, true, true, true])
        try await collector.shutdown()
    }

    @Test func datafileFaultsAreAnsweredInTurn() async throws {
        let collector = try await Collector.start(
            host: "127.0.0.1", port: 0, plan: .alwaysNoContent, datafilePlan: try DatafileFaultPlan(parsing: "500,503,reset,timeout,invalid,200"),
            recordPath: nil, logger: .init(label: "test"), holdDuration: .milliseconds(200)
        )
        await collector.setDatafile(datafile, sdkKey: "KEY")
        var readings: [LoopbackSocket.Reading] = []
        for _ in 0..<6 { readings.append(try await get(collector)) }
        #expect(try response(readings[0]).status == 500)
        #expect(try response(readings[0]).body == #"{"error": "injected fault 500"}"#)
        #expect(try response(readings[1]).status == 503)
        #expect(readings[2] == .reset)
        #expect(readings[3] == .closed, "held without an answer, then closed")
        let invalid = try response(readings[4])
        #expect(invalid.status == 200)
        #expect(throws: DatafileError.self) { try ProjectConfig(datafile: invalid.body) }
        #expect(try response(readings[5]).body == datafile)
        #expect(await collector.datafileRequests.map(\.outcome) == [
            .responded(status: 500), .responded(status: 503), .reset, .timedOut, .responded(status: 200), .responded(status: 200),
        ])
        try await collector.shutdown()
    }

    @Test func theDatafilePlanCanChangeWhileRunning() async throws {
        let collector = try await Collector.start(port: 0)
        await collector.setDatafile(datafile, sdkKey: "KEY")
        #expect(try await get(collector).status == 200)
        await collector.setDatafilePlan(try DatafileFaultPlan(parsing: "502,200"))
        #expect(try await get(collector).status == 502)
        #expect(try await get(collector).status == 200)
        try await collector.shutdown()
    }

    @Test func anUnknownKeyIs404() async throws {
        let collector = try await Collector.start(port: 0)
        await collector.setDatafile(datafile, sdkKey: "KEY")
        let missing = try response(try await get(collector, "/datafiles/OTHER.json"))
        #expect(missing.status == 404)
        #expect(missing.body == #"{"error": "no datafile for SDK key OTHER"}"#)
        #expect(await collector.removeDatafile(sdkKey: "KEY"))
        #expect(try await get(collector).status == 404)
        try await collector.shutdown()
    }

    @Test func datafileRequestsLeaveTheEventsRouteAsItIs() async throws {
        let folder = TemporaryFolder()
        let record = folder.file("record.jsonl")
        let collector = try await Collector.start(port: 0, plan: try FaultPlan(parsing: "503,200"), recordPath: record)
        await collector.setDatafile(datafile, sdkKey: "KEY")
        #expect(try await get(collector).status == 200)
        let body = CollectorFixtures.bytes(uuids: [CollectorFixtures.uuid1])
        let port = collector.port
        let statuses = try await offThread {
            try (0..<2).map { _ in
                let socket = try LoopbackSocket.connect(port: port)
                defer { socket.close() }
                return try socket.exchange(body: body).status
            }
        }
        #expect(statuses == [503, 200], "the events plan starts at its first step")
        #expect(await collector.requests.map(\.seq) == [1, 2])
        #expect(await collector.datafileRequests.map(\.seq) == [1])
        let lines = try String(contentsOfFile: record, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2, "datafile requests are not written to the record file")
        #expect(lines.allSatisfy { $0.hasPrefix(#"{"seq": "#) })
        try await collector.shutdown()
    }
}
