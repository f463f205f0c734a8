import struct Foundation.URL
import struct Foundation.URLComponents
import EventSpool
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// A local stand-in for the Optimizely Events API: an HTTP server on loopback that validates
/// event batches, records them, and answers as a ``FaultPlan`` says.
///
/// Start one in a test, point the dispatcher at ``url``, then look at what arrived:
///
/// ```swift
/// let collector = try await Collector.start(plan: try FaultPlan(parsing: "503,200"))
/// // … send batches to collector.url …
/// let received = await collector.requests
/// #expect(received.map(\.status) == [503, 200])
/// #expect(await collector.acceptedUUIDs == expectedUUIDs)
/// try await collector.shutdown()
/// ```
///
/// Each request is validated first (see ``RequestValidation``); a valid one is answered by
/// the plan's next step, an invalid one with 400, 404 or 405 without using a step. With a
/// record path, one JSON line per request is appended before its response is sent.
///
/// It also serves datafiles by SDK key, as the Optimizely CDN does, for trying live datafile
/// updates: `GET /datafiles/{sdk_key}.json`, or `GET /datafiles/auth/{sdk_key}.json` with
/// `Authorization: Bearer TOKEN` for a datafile set with an access token. A 200 carries
/// `Last-Modified`; a request whose `If-Modified-Since` is not older gets 304. Replace the
/// datafile at any time with ``setDatafile(_:sdkKey:accessToken:)`` (each replacement gets a
/// newer `Last-Modified`), inject faults with a ``DatafileFaultPlan``, and read what was asked
/// in ``datafileRequests``:
///
/// ```swift
/// let collector = try await Collector.start()
/// await collector.setDatafile(datafileText, sdkKey: "KEY")
/// var settings = DatafilePollingSettings(sdkKey: "KEY", urlTemplate: collector.datafileURLTemplate())
/// // … poll …
/// await collector.setDatafile(nextRevisionText, sdkKey: "KEY")
/// #expect(await collector.datafileRequests.last?.ifModifiedSince != nil)
/// ```
///
/// Datafile requests do not use the events plan, are not written to the record file, and are
/// numbered apart from event batches.
///
/// Call ``shutdown()`` when done: it releases the port and any held connection.
///
/// The collector runs on one event loop of `MultiThreadedEventLoopGroup.singleton`, where
/// all of its state lives; it never needs Swift concurrency's threads to answer, so a test
/// that blocks a task while waiting for a response does not stall it.
public final class Collector: Sendable {
    /// How long a `timeout` step holds the connection before closing it (unless the collector
    /// shuts down first).
    public static let holdDuration: Duration = .seconds(60)

    /// The host it listens on, as given.
    public let host: String
    /// The port it listens on (the one picked when started with port 0).
    public let port: Int
    /// The events endpoint: `http://HOST:PORT/v1/events` (`127.0.0.1` when listening on all
    /// addresses).
    public let url: URL

    private let loop: any EventLoop
    private let serverChannel: any Channel
    private let core: NIOLoopBoundBox<CollectorCore>

    private init(host: String, port: Int, url: URL, loop: any EventLoop, serverChannel: any Channel, core: NIOLoopBoundBox<CollectorCore>) {
        self.host = host
        self.port = port
        self.url = url
        self.loop = loop
        self.serverChannel = serverChannel
        self.core = core
    }

    /// Starts a collector.
    ///
    /// - Parameters:
    ///   - host: the address to listen on.
    ///   - port: the port; 0 picks a free one (read it from ``port``).
    ///   - plan: how valid event batches are answered; by default all with 204.
    ///   - datafilePlan: how datafile requests for a served SDK key are answered; by default
    ///     each is served.
    ///   - recordPath: a file to append one JSON line per request to (created if missing).
    ///   - logger: where requests are logged (at debug level) and record-file failures (at
    ///     error level); by default nowhere.
    ///   - retainsRequests: whether ``requests`` keeps every request with its body; pass
    ///     `false` for a long-running collector whose record file is enough.
    /// - Throws: ``CollectorError`` when the record file cannot be opened or the address
    ///   cannot be bound.
    public static func start(
        host: String = "127.0.0.1",
        port: Int = 0,
        plan: FaultPlan = .alwaysNoContent,
        datafilePlan: DatafileFaultPlan = .alwaysServe,
        recordPath: String? = nil,
        logger: Logger = Logger(label: "eventspool.collector", factory: { _ in SwiftLogNoOpLogHandler() }),
        retainsRequests: Bool = true
    ) async throws -> Collector {
        try await start(
            host: host, port: port, plan: plan, datafilePlan: datafilePlan, recordPath: recordPath, logger: logger,
            retainsRequests: retainsRequests, holdDuration: holdDuration
        )
    }

    /// ``start(host:port:plan:recordPath:logger:)`` with a shorter hold, for tests of its end.
    static func start(
        host: String, port: Int, plan: FaultPlan, datafilePlan: DatafileFaultPlan = .alwaysServe, recordPath: String?, logger: Logger,
        retainsRequests: Bool = true, holdDuration: Duration
    ) async throws -> Collector {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let core = try await loop.submit {
            let record = try recordPath.map { path throws(CollectorError) in try RecordFile(path: path) }
            return NIOLoopBoundBox(
                CollectorCore(plan: plan, datafilePlan: datafilePlan, record: record, logger: logger, retainsRequests: retainsRequests),
                eventLoop: loop
            )
        }.get()
        let hold = TimeAmount.nanoseconds(Int64(holdDuration.components.seconds) * 1_000_000_000 + holdDuration.components.attoseconds / 1_000_000_000)
        // The group is this one loop, so every connection's handler runs where the core lives.
        let bootstrap = ServerBootstrap(group: loop)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let state = core.value
                    guard state.register(channel) else { throw ChannelError.ioOnClosedChannel }
                    channel.closeFuture.whenComplete { _ in core.value.unregister(channel) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(CollectorHandler(core: state, holdDuration: hold))
                }
            }
        let serverChannel: any Channel
        do {
            serverChannel = try await bootstrap.bind(host: host, port: port).get()
        } catch {
            try? await loop.submit { core.value.finishShutdown() }.get()
            throw CollectorError.cannotListen(host: host, port: port, reason: "\(error)")
        }
        let actualPort = serverChannel.localAddress?.port ?? port
        let urlHost = switch host {
        case "0.0.0.0", "::", "": "127.0.0.1"
        case _ where host.contains(":"): "[\(host)]"
        default: host
        }
        guard let url = URL(string: "http://\(urlHost):\(actualPort)/v1/events") else {
            try? await serverChannel.close()
            throw CollectorError.cannotListen(host: host, port: port, reason: "the host does not form a URL")
        }
        return Collector(host: host, port: actualPort, url: url, loop: loop, serverChannel: serverChannel, core: core)
    }

    /// Every request received so far, in order (valid or not, answered or not); empty when
    /// started with `retainsRequests: false`.
    public var requests: [ReceivedRequest] {
        get async {
            let core = core
            // The singleton group never shuts down, so the submit cannot fail.
            return (try? await loop.submit { core.value.ledger.requests }.get()) ?? []
        }
    }

    /// The `uuid` of every event in the batches answered with a 2xx status, in order: what a
    /// client was told was delivered (a batch may appear twice if the client sent it twice).
    public var acceptedUUIDs: [String] {
        get async {
            await requests.filter(\.isAccepted).flatMap { $0.batch?.uuids ?? [] }
        }
    }

    /// Replaces the fault plan for the requests that follow; the new plan starts at its first step.
    public func setPlan(_ plan: FaultPlan) async {
        let core = core
        try? await loop.submit { core.value.setPlan(plan) }.get()
    }

    /// The base of this collector's URLs: `http://HOST:PORT` (`127.0.0.1` when listening on
    /// all addresses).
    public var baseURL: String {
        var components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        components?.path = ""
        return components?.string ?? "http://127.0.0.1:\(port)"
    }

    /// The URL template of the datafile route, for ``DatafilePollingSettings/urlTemplate``:
    /// `http://HOST:PORT/datafiles/{sdk_key}.json`, or `…/datafiles/auth/{sdk_key}.json` when
    /// `authenticated`.
    public func datafileURLTemplate(authenticated: Bool = false) -> String {
        baseURL + (authenticated ? DatafileRoute.authenticatedPathTemplate : DatafileRoute.pathTemplate)
    }

    /// Serves `datafile` for `sdkKey` from now on, replacing any earlier one: at
    /// `/datafiles/{sdk_key}.json`, or only at `/datafiles/auth/{sdk_key}.json` with
    /// `Authorization: Bearer accessToken` when a token is given. The text is served as it is,
    /// valid datafile or not.
    ///
    /// - Returns: its `Last-Modified`: the current second, or one second after the key's
    ///   previous one when that is not older, so a replacement is always newer.
    @discardableResult
    public func setDatafile(_ datafile: String, sdkKey: String, accessToken: String? = nil) async -> String {
        let core = core
        let now = SystemEventClock().nowMillis()
        return (try? await loop.submit { core.value.setDatafile(datafile, sdkKey: sdkKey, accessToken: accessToken, nowMillis: now) }.get()) ?? ""
    }

    /// Stops serving the datafile of `sdkKey` (its requests get 404); `false` when none was served.
    @discardableResult
    public func removeDatafile(sdkKey: String) async -> Bool {
        let core = core
        return (try? await loop.submit { core.value.removeDatafile(sdkKey: sdkKey) }.get()) ?? false
    }

    /// Replaces the fault plan for the datafile requests that follow; the new plan starts at
    /// its first step.
    public func setDatafilePlan(_ plan: DatafileFaultPlan) async {
        let core = core
        try? await loop.submit { core.value.setDatafilePlan(plan) }.get()
    }

    /// Every datafile request received so far, in order (answered or not); empty when started
    /// with `retainsRequests: false`.
    public var datafileRequests: [ReceivedDatafileRequest] {
        get async {
            let core = core
            return (try? await loop.submit { core.value.datafiles.requests }.get()) ?? []
        }
    }

    /// Stops listening, closes every connection (held ones included) and the record file.
    /// Calling it again, or concurrently, waits for the same shutdown.
    ///
    /// - Throws: an error from closing the listening socket, if any.
    public func shutdown() async throws {
        let core = core
        let loop = loop
        let serverChannel = serverChannel
        let ticket = try await loop.submit { core.value.beginShutdown(server: serverChannel, on: loop) }.get()
        switch ticket {
        case .already(let done):
            try await done.get()
        case .first(let channels, let done):
            var failure: (any Error)?
            for channel in channels {
                do {
                    try await channel.close()
                } catch ChannelError.alreadyClosed {
                    continue
                } catch {
                    if channel === serverChannel, failure == nil { failure = error }
                }
            }
            try await loop.submit { core.value.finishShutdown() }.get()
            if let failure {
                done.fail(failure)
                throw failure
            }
            done.succeed()
        }
    }
}
