import EventSpoolCollector
import Foundation
import Testing
@testable import EventSpool

/// What every transport does alike for the datafile poller (issue 15) and any other caller: a
/// GET with headers and a timeout, redirects followed when asked, a body cap, cancellation,
/// shutdown. Real loopback servers: the collector's datafile route, and a scripted server for
/// redirects.
@Suite("HTTP transports")
struct HTTPTransportTests {
    static let datafile = String(decoding: (try? ConformanceFixtures.data("datafile.json")) ?? [], as: UTF8.self)

    @Test(arguments: TransportKind.allCases)
    func aDatafileGETWithIfModifiedSinceAndATokenIsAnsweredThen304(kind: TransportKind) async throws {
        let collector = try await Collector.start()
        let lastModified = await collector.setDatafile(Self.datafile, sdkKey: "KEY", accessToken: "TOKEN")
        let url = collector.datafileURLTemplate(authenticated: true).replacingOccurrences(of: "{sdk_key}", with: "KEY")
        let made = kind.make()
        let authorization = HTTPHeader(name: "Authorization", value: "Bearer TOKEN")
        let first = try await made.transport.send(HTTPRequest(url: url, headers: [authorization], timeout: .seconds(10), redirects: .follow(), maxResponseBytes: 32 << 20))
        #expect(first.status == 200)
        #expect(first.header("last-modified") == lastModified)
        #expect(String(decoding: first.body, as: UTF8.self) == Self.datafile)
        #expect(!first.isBodyTruncated)
        #expect(first.url == url)
        let again = try await made.transport.send(HTTPRequest(
            url: url, headers: [HTTPHeader(name: "If-Modified-Since", value: lastModified), authorization], redirects: .follow()
        ))
        #expect(again.status == 304 && again.body.isEmpty)
        let seen = await collector.datafileRequests
        #expect(seen.map(\.ifModifiedSince) == [nil, lastModified])
        #expect(seen.map(\.authorization) == ["Bearer TOKEN", "Bearer TOKEN"])
        await made.shutdown()
        try await collector.shutdown()
    }

    @Test(arguments: TransportKind.allCases)
    func aDatafileOverTheCapIsCutAndSaysSo(kind: TransportKind) async throws {
        let collector = try await Collector.start()
        _ = await collector.setDatafile(Self.datafile, sdkKey: "KEY")
        let url = collector.datafileURLTemplate().replacingOccurrences(of: "{sdk_key}", with: "KEY")
        let made = kind.make()
        let response = try await made.transport.send(HTTPRequest(url: url, maxResponseBytes: 100))
        #expect(response.status == 200)
        #expect(response.body == Array(Self.datafile.utf8.prefix(100)))
        #expect(response.isBodyTruncated, "the poller rejects a datafile that was cut")
        await made.shutdown()
        try await collector.shutdown()
    }

    @Test(arguments: TransportKind.allCases)
    func redirectsAreFollowedWhenAskedWithTheHeadersAndTheFinalURL(kind: TransportKind) async throws {
        let server = try ScriptedHTTPServer { request in
            switch request.path {
            case "/first": .respond(status: 301, headers: [("Location", "/second")])
            case "/second": .respond(status: 302, headers: [("Location", "third?x=1")])
            default: .respond(status: 200, headers: [("Last-Modified", "Wed, 01 Jan 2025 00:00:00 GMT")], body: Array("datafile".utf8))
            }
        }
        defer { server.shutdown() }
        let made = kind.make()
        let request = HTTPRequest(
            url: "\(server.url)/first", headers: [HTTPHeader(name: "If-Modified-Since", value: "Tue"), HTTPHeader(name: "Authorization", value: "Bearer T")],
            redirects: .follow()
        )
        let response = try await made.transport.send(request)
        #expect(response.status == 200)
        #expect(response.body == Array("datafile".utf8))
        #expect(response.header("Last-Modified") == "Wed, 01 Jan 2025 00:00:00 GMT")
        #expect(response.url == "\(server.url)/third?x=1")
        #expect(server.requests.map(\.path) == ["/first", "/second", "/third?x=1"])
        #expect(server.requests.allSatisfy { $0.headers["authorization"] == "Bearer T" && $0.headers["if-modified-since"] == "Tue" },
                "the same host keeps the headers")
        await made.shutdown()
    }

    @Test(arguments: TransportKind.allCases)
    func aRedirectToAnotherHostDoesNotCarryTheToken(kind: TransportKind) async throws {
        let target = try ScriptedHTTPServer { _ in .respond(status: 200, body: Array("ok".utf8)) }
        let origin = try ScriptedHTTPServer { _ in .respond(status: 307, headers: [("Location", "http://localhost:\(target.port)/file")]) }
        defer { origin.shutdown(); target.shutdown() }
        let made = kind.make()
        let response = try await made.transport.send(HTTPRequest(
            url: "\(origin.url)/file", headers: [HTTPHeader(name: "Authorization", value: "Bearer T")], redirects: .follow()
        ))
        #expect(response.status == 200)
        #expect(target.requests.count == 1)
        #expect(target.requests.first?.headers["authorization"] == nil)
        await made.shutdown()
    }

    @Test(arguments: TransportKind.allCases)
    func redirectsStopAtTheLimitAndTheLast3xxIsTheAnswer(kind: TransportKind) async throws {
        let server = try ScriptedHTTPServer { request in .respond(status: 302, headers: [("Location", request.path + "x")]) }
        defer { server.shutdown() }
        let made = kind.make()
        let response = try await made.transport.send(HTTPRequest(url: "\(server.url)/a", redirects: .follow(maxRedirects: 3)))
        #expect(response.status == 302)
        #expect(server.requests.map(\.path) == ["/a", "/ax", "/axx", "/axxx"])
        let refused = try await made.transport.send(HTTPRequest(url: "\(server.url)/b"))
        #expect(refused.status == 302 && refused.header("location") == "/bx", "refused by default")
        await made.shutdown()
    }

    @Test(arguments: TransportKind.allCases)
    func aCancelledRequestThrowsCancellationAndStops(kind: TransportKind) async throws {
        let server = try ScriptedHTTPServer { _ in .hang }
        defer { server.shutdown() }
        let made = kind.make()
        let transport = made.transport
        let sending = Task { try await transport.send(HTTPRequest(url: "\(server.url)/datafile", timeout: .seconds(60))) }
        await server.received(1)
        let started = ContinuousClock.now
        sending.cancel()
        await #expect(throws: CancellationError.self) { try await sending.value }
        #expect(ContinuousClock.now - started < .seconds(30))
        await made.shutdown()
    }

    @Test(arguments: TransportKind.allCases)
    func afterShutdownASendIsRefused(kind: TransportKind) async throws {
        let made = kind.make()
        await made.shutdown()
        await #expect(throws: HTTPTransportError.shutDown) { _ = try await made.transport.send(HTTPRequest(url: "http://127.0.0.1:9/")) }
    }

    @Test(arguments: TransportKind.allCases)
    func anInvalidURLIsRefused(kind: TransportKind) async throws {
        let made = kind.make()
        await #expect(throws: HTTPTransportError.invalidURL("not a url")) { _ = try await made.transport.send(HTTPRequest(url: "not a url")) }
        await made.shutdown()
    }
}
