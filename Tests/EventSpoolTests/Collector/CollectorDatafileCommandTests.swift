import EventSpool
import Foundation
import Testing

/// `eventspool collector --datafile … --sdk-key …` run as a child process, as a script would.
@Suite("Collector command serving a datafile")
struct CollectorDatafileCommandTests {
    /// The port in `listening on http://127.0.0.1:PORT`, or `nil` for another line.
    private func listeningPort(in line: String?) -> Int? {
        let prefix = "listening on http://127.0.0.1:"
        guard let line, line.hasPrefix(prefix) else { return nil }
        return Int(line.dropFirst(prefix.count))
    }

    private func get(port: Int, _ path: String, headers: [String] = []) async throws -> LoopbackSocket.Response {
        let reading = try await offThread {
            let socket = try LoopbackSocket.connect(port: port)
            defer { socket.close() }
            try socket.sendRequest(method: "GET", path: path, headers: headers)
            return socket.readResponse(timeout: 5)
        }
        guard case .response(let response) = reading else { throw LoopbackSocket.Failure(description: "no response: \(reading)") }
        return response
    }

    private func writeDatafile(_ folder: TemporaryFolder, revision: String) throws -> (path: String, text: String) {
        let original = String(decoding: try ConformanceFixtures.data("datafile.json"), as: UTF8.self)
        let text = original.replacingOccurrences(of: #""revision": "241""#, with: #""revision": "\#(revision)""#)
        let path = folder.file("datafile.json")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return (path, text)
    }

    @Test func itServesTheDatafileBySDKKeyAndReReadsItOnSIGHUP() async throws {
        let folder = TemporaryFolder()
        let (path, text) = try writeDatafile(folder, revision: "241")
        let child = try ChildProcess("eventspool", ["collector", "--port", "0", "--datafile", path, "--sdk-key", "KEY"])
        let port = try #require(listeningPort(in: await child.readLine()))
        #expect(await child.readLine() == "serving the datafile \(path) at http://127.0.0.1:\(port)/datafiles/KEY.json")
        let first = try await get(port: port, "/datafiles/KEY.json")
        #expect(first.status == 200)
        #expect(first.body == text)
        let firstModified = try #require(first.headers["last-modified"])
        #expect(try await get(port: port, "/datafiles/KEY.json", headers: ["If-Modified-Since: \(firstModified)"]).status == 304)

        let (_, changed) = try writeDatafile(folder, revision: "242")
        kill(child.process.processIdentifier, SIGHUP)
        let reloaded = try #require(await child.readLine())
        #expect(reloaded.hasPrefix("reloaded the datafile \(path), Last-Modified "))
        let second = try await get(port: port, "/datafiles/KEY.json", headers: ["If-Modified-Since: \(firstModified)"])
        #expect(second.status == 200)
        #expect(second.body == changed)
        let secondModified = try #require(second.headers["last-modified"].flatMap(HTTPDate.millis))
        #expect(try secondModified > #require(HTTPDate.millis(firstModified)))

        kill(child.process.processIdentifier, SIGTERM)
        let result = await child.finish()
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
    }

    @Test func aBrokenFileOnSIGHUPKeepsThePreviousDatafile() async throws {
        let folder = TemporaryFolder()
        let (path, text) = try writeDatafile(folder, revision: "241")
        let child = try ChildProcess("eventspool", ["collector", "--port", "0", "--datafile", path, "--sdk-key", "KEY"])
        let port = try #require(listeningPort(in: await child.readLine()))
        _ = await child.readLine()
        try "{not json".write(toFile: path, atomically: true, encoding: .utf8)
        kill(child.process.processIdentifier, SIGHUP)
        let warning = try #require(await child.readErrorLine())
        #expect(warning.hasPrefix("eventspool collector: warning: \(path) is not a usable datafile: "))
        #expect(warning.hasSuffix("still serving the previous datafile"))
        #expect(try await get(port: port, "/datafiles/KEY.json").body == text)
        kill(child.process.processIdentifier, SIGTERM)
        let result = await child.finish()
        #expect(result.status == 0)
        #expect(result.stdout.isEmpty)
    }

    @Test func withATokenOnlyTheAuthenticatedRouteServesAndFaultsApplyToDatafiles() async throws {
        let folder = TemporaryFolder()
        let (path, text) = try writeDatafile(folder, revision: "241")
        let child = try ChildProcess("eventspool", [
            "collector", "--port", "0", "--datafile", path, "--sdk-key", "KEY",
            "--datafile-access-token", "s3cret", "--datafile-fail", "503,invalid,200",
        ])
        let port = try #require(listeningPort(in: await child.readLine()))
        #expect(await child.readLine() == "serving the datafile \(path) at http://127.0.0.1:\(port)/datafiles/auth/KEY.json")
        let auth = ["Authorization: Bearer s3cret"]
        #expect(try await get(port: port, "/datafiles/auth/KEY.json").status == 401)
        #expect(try await get(port: port, "/datafiles/KEY.json", headers: auth).status == 403)
        #expect(try await get(port: port, "/datafiles/auth/KEY.json", headers: auth).status == 503)
        let invalid = try await get(port: port, "/datafiles/auth/KEY.json", headers: auth)
        #expect(invalid.status == 200 && invalid.body != text)
        #expect(try await get(port: port, "/datafiles/auth/KEY.json", headers: auth).body == text)
        kill(child.process.processIdentifier, SIGTERM)
        #expect(await child.finish().status == 0)
    }

    @Test func withoutADatafileSIGHUPDoesNotStopTheCollector() async throws {
        let child = try ChildProcess("eventspool", ["collector", "--port", "0"])
        let port = try #require(listeningPort(in: await child.readLine()))
        kill(child.process.processIdentifier, SIGHUP)
        kill(child.process.processIdentifier, SIGTERM)
        let result = await child.finish()
        #expect(result.status == 0)
        #expect(result.stdout.isEmpty)
        #expect(throws: LoopbackSocket.Failure.self) { try LoopbackSocket.connect(port: port) }
    }

    @Test(arguments: [
        (["--sdk-key", "KEY"], "eventspool: error: --sdk-key, --datafile-access-token and --datafile-fail need --datafile PATH"),
        (["--datafile-fail", "503"], "eventspool: error: --sdk-key, --datafile-access-token and --datafile-fail need --datafile PATH"),
        (["--datafile", "DATAFILE"], "eventspool: error: --datafile needs --sdk-key KEY"),
        (["--datafile", "DATAFILE", "--sdk-key", "a/b"], "eventspool: error: --sdk-key a/b cannot be part of a URL path"),
        (["--datafile", "DATAFILE", "--sdk-key", "KEY", "--datafile-access-token", ""], "eventspool: error: --datafile-access-token is empty"),
        (["--datafile", "DATAFILE", "--sdk-key", "KEY", "--datafile-fail", "503,418"], #"eventspool: error: --datafile-fail: fault plan step 2 "418" is not a known step; steps are comma-separated: 200, 500"#),
        (["--datafile", "/nonexistent/datafile.json", "--sdk-key", "KEY"], "eventspool: error: cannot read the datafile /nonexistent/datafile.json"),
        (["--datafile", "BROKEN", "--sdk-key", "KEY"], "eventspool: error: BROKEN is not a usable datafile: "),
    ])
    func aBadDatafileArgumentIsOneLineOnStandardError(arguments: [String], expected: String) async throws {
        let folder = TemporaryFolder()
        let (path, _) = try writeDatafile(folder, revision: "241")
        let broken = folder.file("broken.json")
        try #"{"version": "4"}"#.write(toFile: broken, atomically: true, encoding: .utf8)
        let substituted = arguments.map { $0 == "DATAFILE" ? path : $0 == "BROKEN" ? broken : $0 }
        let child = try ChildProcess("eventspool", ["collector", "--port", "0"] + substituted)
        let result = await child.finish()
        #expect(result.status != 0)
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        let want = expected.replacingOccurrences(of: "BROKEN", with: broken)
        #expect(lines.first?.hasPrefix(want) == true, "stderr: \(result.stderr)")
    }
}
