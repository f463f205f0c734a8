import EventSpoolCollector
import Foundation
import Testing
@testable import EventSpool

/// The event dispatcher's rules, run against every transport alike: the loopback-only
/// `http://` rule, the connect and request timeouts, the response body cap, the endpoint
/// override, no redirects, and a real loopback server.
@Suite("HTTPEventDispatcher on each transport")
struct HTTPEventDispatcherTests {
    static let batch = LogEvent.batch(context: QueueFixtures.context, visitors: [QueueFixtures.event(1).visitorJSON])

    /// A collector answering by `plan` (204 to everything by default), and a dispatcher aimed at it on a new transport of
    /// `kind`; both are shut down after `body`.
    func withCollector(
        _ kind: TransportKind, plan: String? = nil, _ configure: (inout HTTPEventDispatcher.Configuration) -> Void = { _ in },
        _ body: (HTTPEventDispatcher, Collector) async throws -> Void
    ) async throws {
        let collector = try await Collector.start(plan: try plan.map { try FaultPlan(parsing: $0) } ?? .alwaysNoContent)
        let made = kind.make()
        do {
            let dispatcher = try made.dispatcher {
                $0.endpoint = collector.url.absoluteString
                configure(&$0)
            }
            try await body(dispatcher, collector)
        } catch {
            await made.shutdown()
            try await collector.shutdown()
            throw error
        }
        await made.shutdown()
        try await collector.shutdown()
    }

    @Test(arguments: TransportKind.allCases)
    func aBatchReachesTheCollectorAsSent(kind: TransportKind) async throws {
        try await withCollector(kind) { dispatcher, collector in
            let response = try await dispatcher.dispatch(Self.batch)
            #expect(response.status == 204 && response.isSuccess)
            let requests = await collector.requests
            #expect(requests.count == 1)
            #expect(requests.first?.method == "POST")
            #expect(requests.first?.body == Self.batch.body, "the body goes byte for byte")
            #expect(await collector.acceptedUUIDs == [QueueFixtures.event(1).uuid])
        }
    }

    @Test(arguments: TransportKind.allCases)
    func theEndpointOverrideSendsEveryBatchThere(kind: TransportKind) async throws {
        try await withCollector(kind) { dispatcher, collector in
            for region in [QueueFixtures.context, QueueFixtures.euContext] {
                let logEvent = LogEvent.batch(context: region, visitors: [QueueFixtures.event(2).visitorJSON])
                #expect(logEvent.url.hasPrefix("https://"), "the LogEvent's own URL is the Events API's")
                let status = try await dispatcher.dispatch(logEvent).status
                #expect(status == 204)
            }
            #expect(await collector.requests.count == 2)
        }
    }

    @Test(arguments: TransportKind.allCases)
    func theServersStatusHeadersAndBodyComeBack(kind: TransportKind) async throws {
        try await withCollector(kind, plan: "429:7,400") { dispatcher, _ in
            let tooMany = try await dispatcher.dispatch(Self.batch)
            #expect(tooMany.status == 429)
            #expect(tooMany.header("retry-after") == "7", "headers are found without regard to case")
            let refused = try await dispatcher.dispatch(Self.batch)
            #expect(refused.status == 400)
            #expect(!refused.body.isEmpty && !refused.isBodyTruncated)
        }
    }

    @Test(arguments: TransportKind.allCases, [
        ("http://example.com/v1/events", false),
        ("HTTP://EXAMPLE.COM/v1/events", false),
        ("http://127.0.0.1.example.com/v1/events", false),
        ("http://localhost.example.com/v1/events", false),
        ("http://127.0.0.1@example.com/v1/events", false),
        ("http://10.0.0.1/v1/events", false),
        ("http://0.0.0.0/v1/events", false),
        ("ftp://127.0.0.1/v1/events", false),
        ("http://127.0.0.1:8080/v1/events", true),
        ("http://127.1.2.3/v1/events", true),
        ("http://localhost/v1/events", true),
        ("http://[::1]:8080/v1/events", true),
        ("https://example.com/v1/events", true),
    ])
    func plainHTTPIsRefusedUnlessLoopback(kind: TransportKind, entry: (url: String, allowed: Bool)) async throws {
        let (url, allowed) = entry
        let made = kind.make()
        let made1 = Result { () throws(HTTPEventDispatcher.ConfigurationError) in
            try HTTPEventDispatcher(configuration: { var c = HTTPEventDispatcher.Configuration(); c.endpoint = url; return c }(), transport: made.transport)
        }
        switch made1 {
        case .success: #expect(allowed, "\(url) must be refused")
        case .failure(let error): #expect(!allowed, "\(url) must be allowed, not \(error)")
        }
        await made.shutdown()
    }

    @Test(arguments: TransportKind.allCases)
    func plainHTTPToAnotherHostIsAllowedOnlyExplicitly(kind: TransportKind) async throws {
        let made = kind.make()
        #expect(throws: HTTPEventDispatcher.ConfigurationError.insecureURL("http://example.com/v1/events")) {
            try made.dispatcher { $0.endpoint = "http://example.com/v1/events" }
        }
        _ = try made.dispatcher {
            $0.endpoint = "http://example.com/v1/events"
            $0.allowInsecureHTTP = true
        }
        // Without an endpoint, a LogEvent's own URL is checked at dispatch time, every time:
        // the dispatcher remembers only the last URL that passed.
        let dispatcher = try made.dispatcher()
        var plain = Self.batch
        plain.url = "http://logx.optimizely.com/v1/events"
        for _ in 0..<2 {
            await #expect(throws: HTTPEventDispatcher.ConfigurationError.insecureURL(plain.url)) { _ = try await dispatcher.dispatch(plain) }
        }
        let deadPort = try await Self.deadPort()
        var loopback = Self.batch
        loopback.url = "http://127.0.0.1:\(deadPort)/v1/events"
        await #expect(throws: HTTPTransportError.self) { _ = try await dispatcher.dispatch(loopback) }
        await #expect(throws: HTTPEventDispatcher.ConfigurationError.insecureURL(plain.url)) { _ = try await dispatcher.dispatch(plain) }
        await made.shutdown()
    }

    @Test(arguments: TransportKind.allCases)
    func aConnectionThatNeverOpensFailsAtTheConnectTimeout(kind: TransportKind) async throws {
        let stalled = try StalledListener()
        defer { stalled.close() }
        let made = kind.make(connectTimeout: .milliseconds(300))
        let dispatcher = try made.dispatcher {
            $0.endpoint = "\(stalled.url)/v1/events"
            $0.requestTimeout = 60
        }
        let started = ContinuousClock.now
        await #expect(throws: HTTPTransportError.connectTimeout(url: "\(stalled.url)/v1/events")) { _ = try await dispatcher.dispatch(Self.batch) }
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .milliseconds(290) && elapsed < .seconds(30), "gave up after \(elapsed), connect timeout 0.3 s, request timeout 60 s")
        await made.shutdown()
    }

    @Test(arguments: TransportKind.allCases)
    func aServerThatNeverAnswersFailsAtTheRequestTimeout(kind: TransportKind) async throws {
        try await withCollector(kind, plan: "timeout", { $0.requestTimeout = 0.5 }) { dispatcher, collector in
            let started = ContinuousClock.now
            await #expect(throws: HTTPTransportError.requestTimeout(url: collector.url.absoluteString, after: .seconds(0.5))) {
                _ = try await dispatcher.dispatch(Self.batch)
            }
            let elapsed = ContinuousClock.now - started
            #expect(elapsed >= .milliseconds(490) && elapsed < .seconds(30), "gave up after \(elapsed), request timeout 0.5 s; the collector holds for 60 s")
        }
    }

    @Test(arguments: TransportKind.allCases)
    func aLongAnswerIsCutAtTheBodyCap(kind: TransportKind) async throws {
        let long = [UInt8](repeating: UInt8(ascii: "x"), count: 300_000)
        let server = try ScriptedHTTPServer { _ in .respond(status: 400, body: long) }
        defer { server.shutdown() }
        let made = kind.make()
        let dispatcher = try made.dispatcher {
            $0.endpoint = "\(server.url)/v1/events"
            $0.maxResponseBytes = 1_000
        }
        let response = try await dispatcher.dispatch(Self.batch)
        #expect(response.status == 400)
        #expect(response.body == Array(long.prefix(1_000)))
        #expect(response.isBodyTruncated)
        await made.shutdown()
    }

    @Test(arguments: TransportKind.allCases)
    func aRedirectIsNotFollowed(kind: TransportKind) async throws {
        let server = try ScriptedHTTPServer { request in
            request.path == "/v1/events" ? .respond(status: 307, headers: [("Location", "/elsewhere")]) : .respond(status: 204)
        }
        defer { server.shutdown() }
        let made = kind.make()
        let dispatcher = try made.dispatcher { $0.endpoint = "\(server.url)/v1/events" }
        let response = try await dispatcher.dispatch(Self.batch)
        #expect(response.status == 307, "a redirect is an answer the worker retries, never a new destination for events")
        #expect(server.requests.map(\.path) == ["/v1/events"])
        await made.shutdown()
    }

    @Test(arguments: TransportKind.allCases)
    func aRefusedConnectionIsATransportError(kind: TransportKind) async throws {
        let port = try await Self.deadPort()
        let made = kind.make()
        let dispatcher = try made.dispatcher { $0.endpoint = "http://127.0.0.1:\(port)/v1/events" }
        await #expect {
            _ = try await dispatcher.dispatch(Self.batch)
        } throws: { error in
            guard case HTTPTransportError.connectionFailed(let url, _) = error else { return false }
            return url == "http://127.0.0.1:\(port)/v1/events"
        }
        await made.shutdown()
    }

    @Test func aDispatcherMadeWithoutATransportOwnsAURLSessionOneAndShutsItDown() async throws {
        let collector = try await Collector.start()
        let dispatcher = try HTTPEventDispatcher(configuration: { var c = HTTPEventDispatcher.Configuration(); c.endpoint = collector.url.absoluteString; return c }())
        let transport = try #require(dispatcher.transport as? URLSessionTransport)
        #expect(transport.configuration.connectTimeout == .seconds(2))
        #expect(try await dispatcher.dispatch(Self.batch).status == 204)
        try await dispatcher.shutdown()
        await #expect(throws: HTTPTransportError.shutDown) { _ = try await dispatcher.dispatch(Self.batch) }
        try await collector.shutdown()
    }

    @Test(arguments: TransportKind.allCases)
    func aDispatcherLeavesATransportItWasGivenRunning(kind: TransportKind) async throws {
        try await withCollector(kind) { dispatcher, _ in
            try await dispatcher.shutdown()
            #expect(try await dispatcher.dispatch(Self.batch).status == 204, "the transport is the caller's to shut down")
        }
    }

    /// A loopback port with nothing listening (a collector started and shut down).
    static func deadPort() async throws -> Int {
        let collector = try await Collector.start()
        let port = collector.port
        try await collector.shutdown()
        return port
    }
}
