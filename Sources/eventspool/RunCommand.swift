import ArgumentParser
import EventSpool
import EventSpoolAsyncHTTPClient
import EventSpoolServiceLifecycle
import Foundation
import Logging
import ServiceLifecycle

/// `eventspool run`: the batch worker over a queue (cli.md).
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the batch worker: send the queue's events to the Events API.",
        discussion: """
            Without --until-empty it runs until SIGINT or SIGTERM, then sends what is pending (waiting at \
            most the timeout interval) and exits 0. An invalid setting falls back to its default with a warning.

            With --sdk-key it also watches the project's datafile (live datafile updates): fetched now and \
            every --poll-interval seconds, with If-Modified-Since; when its revision changes, the pending \
            events of the older revision are sent at once. A datafile that cannot be fetched or is not valid \
            is a warning on standard error; the worker goes on sending.
            """
    )

    @OptionGroup var queue: QueueOptions

    @Option(help: ArgumentHelp("Send every batch to this URL instead of the Events API.", valueName: "url"))
    var endpoint: String?

    // The numbers are read as text, `parsing: .unconditional` so that a negative one (`-5`) is a
    // value, which falls back to its default with a warning (cli.md), not a missing value.
    @Option(name: .customLong("batch-size"), parsing: .unconditional, help: ArgumentHelp("Events per request (default 10).", valueName: "n"))
    var batchSize: String?

    @Option(name: .customLong("flush-interval"), parsing: .unconditional, help: ArgumentHelp("Longest wait of the oldest pending event (default 30).", valueName: "seconds"))
    var flushInterval: String?

    @Option(name: .customLong("timeout-interval"), parsing: .unconditional, help: ArgumentHelp("How long stopping waits for in-flight work (default 5).", valueName: "seconds"))
    var timeoutInterval: String?

    @Option(name: .customLong("max-batch-bytes"), parsing: .unconditional, help: ArgumentHelp("Largest request body (default 3500000).", valueName: "n"))
    var maxBatchBytes: String?

    @Option(name: .customLong("request-timeout"), parsing: .unconditional, help: ArgumentHelp("The dispatcher's request timeout (default 10).", valueName: "seconds"))
    var requestTimeout: String?

    @Option(name: .customLong("max-in-flight"), parsing: .unconditional, help: ArgumentHelp("How many requests may be out at once (default 4); 1 sends one at a time, as the reference SDKs do.", valueName: "n"))
    var maxInFlight: String?

    @Option(name: .customLong("sdk-key"), help: ArgumentHelp("Watch the datafile of the environment with this SDK key, and send the older revision's pending events at once when it changes.", valueName: "key"))
    var sdkKey: String?

    @Option(name: .customLong("datafile-url-template"), help: ArgumentHelp("Where to fetch the datafile, {sdk_key} replaced by the key (default https://cdn.optimizely.com/datafiles/{sdk_key}.json, or the authenticated URL with a token); plain http:// only on loopback.", valueName: "template"))
    var datafileURLTemplate: String?

    @Option(name: .customLong("datafile-access-token"), help: ArgumentHelp("Sent as Authorization: Bearer TOKEN (authenticated datafiles).", valueName: "token"))
    var datafileAccessToken: String?

    @Option(name: .customLong("poll-interval"), parsing: .unconditional, help: ArgumentHelp("Seconds between datafile fetches (default 300; below 30 is allowed with a warning).", valueName: "seconds"))
    var pollInterval: String?

    @Flag(name: .customLong("until-empty"), help: "Send everything pending now, keep retrying per the retry policy, and exit 0 once nothing is pending or in flight.")
    var untilEmpty = false

    @Flag(name: .customLong("allow-insecure-http"), help: "Allow a plain http:// endpoint on a host other than loopback.")
    var allowInsecureHTTP = false

    @Flag(help: "Log each batch's outcome on standard error.")
    var verbose = false

    /// A number flag takes a leading `-` (a negative number, which falls back to its default),
    /// but not another flag: `--poll-interval --until-empty` is a missing value, not an invalid
    /// one that would silently swallow `--until-empty`.
    func validate() throws {
        let numbers = [("--batch-size", batchSize), ("--flush-interval", flushInterval), ("--timeout-interval", timeoutInterval),
                       ("--max-batch-bytes", maxBatchBytes), ("--request-timeout", requestTimeout), ("--max-in-flight", maxInFlight),
                       ("--poll-interval", pollInterval)]
        for case let (flag, text?) in numbers where text.hasPrefix("-") && Double(text) == nil {
            throw ValidationError("\(flag) needs a value (a number); \(text) is a flag, not a number")
        }
    }

    func run() async throws {
        var settings = ProcessorConfiguration()
        settings.batchSize = Self.setting(batchSize, flag: "--batch-size", default: settings.batchSize)
        settings.flushInterval = Self.setting(flushInterval, flag: "--flush-interval", default: settings.flushInterval)
        settings.timeoutInterval = Self.setting(timeoutInterval, flag: "--timeout-interval", default: settings.timeoutInterval)
        settings.maxBatchBytes = Self.setting(maxBatchBytes, flag: "--max-batch-bytes", default: settings.maxBatchBytes)
        settings.maxRequestsInFlight = Self.setting(maxInFlight, flag: "--max-in-flight", default: settings.maxRequestsInFlight)
        var dispatch = HTTPEventDispatcher.Configuration()
        dispatch.requestTimeout = Self.setting(requestTimeout, flag: "--request-timeout", default: dispatch.requestTimeout)
        dispatch.endpoint = endpoint
        dispatch.allowInsecureHTTP = allowInsecureHTTP

        var logger = Logger(label: "eventspool") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = verbose ? .info : .warning

        // The datafile settings and the endpoint are checked before the queue is opened, so a
        // refused one leaves no new queue file behind.
        let polling = try pollingSettings()
        // A server's transport: AsyncHTTPClient.
        let transport = AsyncHTTPClientTransport(configuration: .init(connectTimeout: .seconds(dispatch.connectTimeout)))
        let dispatcher: HTTPEventDispatcher
        let eventQueue: EventQueue
        do {
            dispatcher = try CommandFailure.guarding { () throws(HTTPEventDispatcher.ConfigurationError) in
                try HTTPEventDispatcher(configuration: dispatch, transport: transport)
            }
            eventQueue = try queue.openForWriting()
        } catch {
            try? await transport.shutdown()
            throw error
        }
        let processor = BatchEventProcessor(queue: eventQueue, configuration: settings, dispatcher: dispatcher, logger: logger)
        var services = [ServiceGroupConfiguration.ServiceConfiguration(service: processor)]
        if let polling {
            // The client owns the worker and the polling: it starts both and, on SIGINT or
            // SIGTERM, stops polling, then the worker.
            let client = try CommandFailure.guarding { () throws(OptimizelyClientError) in
                try OptimizelyClient(source: .polling(polling), eventProcessor: processor, transport: transport, logger: logger)
            }
            processor.notificationCenter.addListener(for: .configUpdate) { [logger] notification in
                if case .configUpdate(let revision) = notification { logger.info("datafile revision \(revision) is in use", metadata: ["sdk_key": "\(polling.sdkKey)"]) }
            }
            services = [ServiceGroupConfiguration.ServiceConfiguration(service: client)]
        }
        if untilEmpty {
            services.append(.init(service: Drain(processor: processor), successTerminationBehavior: .gracefullyShutdownGroup))
        }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger
        ))
        do {
            try await group.run()
        } catch {
            try? await transport.shutdown()
            throw CommandFailure.report("the worker failed: \(error)")
        }
        try? await transport.shutdown()
        if let stats = try? eventQueue.stats() {
            print("sent \(stats.eventsSent) events in \(stats.batchesSent) batches; pending \(stats.pending), in flight \(stats.inflight), dead \(stats.dead)")
        }
    }

    /// The live datafile settings of `--sdk-key` and its companions, checked; `nil` without
    /// `--sdk-key`. Invalid numbers fall back to their defaults with a warning (logged by the
    /// client); a URL that cannot be used is a one-line error.
    func pollingSettings() throws -> DatafilePollingSettings? {
        guard let sdkKey else {
            let orphans = [("--datafile-url-template", datafileURLTemplate), ("--datafile-access-token", datafileAccessToken),
                           ("--poll-interval", pollInterval)].filter { $0.1 != nil }.map(\.0)
            if let first = orphans.first { throw CommandFailure.report("\(first) needs --sdk-key KEY (live datafile updates)") }
            return nil
        }
        var settings = DatafilePollingSettings(sdkKey: sdkKey, accessToken: datafileAccessToken, urlTemplate: datafileURLTemplate)
        settings.allowInsecureHTTP = allowInsecureHTTP
        if let pollInterval {
            if let seconds = Double(pollInterval.trimmingCharacters(in: .whitespaces)) {
                settings.pollingInterval = seconds  // zero, negative, NaN: the library warns and uses 300
            } else {
                settings.pollingInterval = Self.warnInvalid("--poll-interval", pollInterval, DatafilePollingSettings.Defaults.pollingInterval)
            }
        }
        _ = try CommandFailure.guarding { () throws(DatafileSettingsError) in try settings.resolved() }
        return settings
    }

    /// A setting's value, or its default with a warning on standard error when the text is not
    /// a positive whole number (cli.md: as the library does).
    static func setting(_ text: String?, flag: String, default fallback: Int) -> Int {
        guard let text else { return fallback }
        if let value = Int(text.trimmingCharacters(in: .whitespaces)), value > 0 { return value }
        return warnInvalid(flag, text, fallback)
    }

    /// A setting's value in seconds, or its default with a warning when the text is not a
    /// positive, finite number.
    static func setting(_ text: String?, flag: String, default fallback: Double) -> Double {
        guard let text else { return fallback }
        if let value = Double(text.trimmingCharacters(in: .whitespaces)), value > 0, value.isFinite { return value }
        return warnInvalid(flag, text, fallback)
    }

    private static func warnInvalid<T>(_ flag: String, _ text: String, _ fallback: T) -> T {
        CommandFailure.standardError("eventspool run: warning: \(flag) \(text) is not a valid value (a positive number); using the default \(fallback)")
        return fallback
    }
}

/// Drives `--until-empty`: flushes, and returns once nothing is pending or in flight (dead
/// letters do not count), which shuts the service group down gracefully.
struct Drain: Service {
    let processor: BatchEventProcessor

    func run() async throws {
        // SIGINT/SIGTERM end the drain too: the processor then stops as spec §7 says.
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            processor.flush()
            let stats = try processor.queue.stats()
            if stats.pending == 0 && stats.inflight == 0 { return }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
    }
}
