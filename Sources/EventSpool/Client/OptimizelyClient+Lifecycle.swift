import Logging

/// The client's life (the reference's `Optimizely(sdk_key=…, datafile=…, event_processor=…)`
/// and `close()`): made from a ``DatafileSource`` and an event processor, ``start()``ed, and
/// ``close()``d.
extension OptimizelyClient {
    /// Live datafile updates: the settings, how to fetch, what to sleep on.
    struct Polling: Sendable {
        let settings: DatafilePollingSettings.Resolved
        let transport: any HTTPTransport
        /// The transport the client made (none was given), which ``close()`` shuts down.
        let ownedTransport: URLSessionTransport?
        let clock: any EventClock
    }

    /// Where the client is in its life.
    struct Lifecycle {
        var started = false
        var poller: DatafilePoller?
        /// The one close; later calls wait for it.
        var closing: Task<Void, Never>?
        /// Whether the client made its processor (on a queue file it was given), and so stops
        /// it when it is dropped without ``close()``.
        var ownsProcessor = false
    }

    /// Creates a client on a datafile source and an event processor.
    ///
    /// Nothing is fetched before ``start()``. With a datafile, calls decide on it at once;
    /// without one, every call returns the reference's "no config" failure value until the
    /// first datafile is fetched.
    ///
    /// - Parameters:
    ///   - source: a datafile, an SDK key to poll, or both.
    ///   - eventProcessor: where impressions and conversions go. A ``BatchEventProcessor`` is
    ///     started by ``start()`` and stopped by ``close()``.
    ///   - transport: fetches the datafile: ``URLSessionTransport`` by default (made here and shut
    ///     down by ``close()``); in a server, the `EventSpoolAsyncHTTPClient` product's. The
    ///     client does not shut down a transport it is given.
    ///   - clock: what polling sleeps on (a ``ManualEventClock`` in tests).
    ///   - userProfileService: sticky bucketing; none by default.
    ///   - logger: where the client and its polling log (silent by default).
    ///   - defaultDecideOptions: options added to every `decide`.
    ///   - notificationCenter: the center for DECISION, ACTIVATE, TRACK and `configUpdate`; by
    ///     default the processor's when it is a ``BatchEventProcessor``, else a new one.
    ///   - clientName: the SDK name in the events' header.
    ///   - clientVersion: the SDK version in the events' header.
    /// - Throws: ``OptimizelyClientError`` for a source with neither datafile nor SDK key, a
    ///   datafile that is not valid, or polling settings that cannot be used.
    public convenience init(
        source: DatafileSource,
        eventProcessor: any EventProcessor,
        transport: (any HTTPTransport)? = nil,
        clock: any EventClock = SystemEventClock(),
        userProfileService: (any UserProfileService)? = nil,
        logger: Logger = UserEventFactory.silentLogger,
        defaultDecideOptions: [OptimizelyDecideOption] = [],
        notificationCenter: EventNotificationCenter? = nil,
        clientName: String = EventContext.defaultClientName,
        clientVersion: String = EventContext.defaultClientVersion
    ) throws(OptimizelyClientError) {
        let (initial, polling) = try Self.prepare(source, transport: transport, clock: clock, logger: logger)
        self.init(initial: initial, polling: polling, eventProcessor: eventProcessor, userProfileService: userProfileService,
                  logger: logger, defaultDecideOptions: defaultDecideOptions, notificationCenter: notificationCenter,
                  clientName: clientName, clientVersion: clientVersion)
    }

    /// The source checked: its datafile parsed, its polling settings resolved (their warnings
    /// logged) with the transport to fetch with.
    private static func prepare(
        _ source: DatafileSource, transport: (any HTTPTransport)?, clock: any EventClock, logger: Logger
    ) throws(OptimizelyClientError) -> (initial: ProjectConfig?, polling: Polling?) {
        guard source.datafile != nil || source.polling != nil else { throw .noDatafileSource }
        var initial: ProjectConfig?
        if let datafile = source.datafile {
            do { initial = try ProjectConfig(datafile: datafile) } catch { throw .invalidDatafile(error) }
        }
        var polling: Polling?
        if let settings = source.polling {
            let resolved: DatafilePollingSettings.Resolved
            do { resolved = try settings.resolved() } catch { throw .invalidPollingSettings(error) }
            for warning in resolved.warnings { logger.warning("\(warning)", metadata: ["sdk_key": "\(settings.sdkKey)"]) }
            let owned = transport == nil ? URLSessionTransport() : nil
            polling = Polling(settings: resolved, transport: transport ?? owned ?? URLSessionTransport(), ownedTransport: owned, clock: clock)
        }
        return (initial, polling)
    }

    /// Creates a client on a datafile source with the durable ``BatchEventProcessor`` on the
    /// queue file at `queuePath` (created if missing), which ``start()`` starts and ``close()``
    /// stops (a client dropped without ``close()`` stops it too, without waiting). The other
    /// parameters are those of
    /// ``init(source:eventProcessor:transport:clock:userProfileService:logger:defaultDecideOptions:notificationCenter:clientName:clientVersion:)``.
    ///
    /// - Parameters:
    ///   - source: a datafile, an SDK key to poll, or both.
    ///   - queuePath: the queue's SQLite file; the user profiles of a
    ///     ``SQLiteUserProfileService`` can share it.
    ///   - queueConfiguration: the queue's settings (its clock, bounds, retention).
    ///   - processorConfiguration: the processor's settings (batch size, flush interval, …).
    ///   - dispatcher: sends the batches; by default an ``HTTPEventDispatcher`` on a
    ///     ``URLSessionTransport``, which the processor shuts down when it stops.
    ///   - transport: fetches the datafile (``URLSessionTransport`` by default, shut down by
    ///     ``close()``); a transport given here is not shut down by the client.
    ///   - clock: what polling sleeps on (a ``ManualEventClock`` in tests).
    ///   - userProfileService: sticky bucketing; none by default.
    ///   - logger: where the client, its processor and its polling log (silent by default).
    ///   - defaultDecideOptions: options added to every `decide`.
    /// - Throws: ``OptimizelyClientError``, ``OptimizelyClientError/queue(_:)`` when the queue
    ///   file cannot be opened.
    public convenience init(
        source: DatafileSource,
        queuePath: String,
        queueConfiguration: QueueConfiguration = QueueConfiguration(),
        processorConfiguration: ProcessorConfiguration = ProcessorConfiguration(),
        dispatcher: (any EventDispatcher)? = nil,
        transport: (any HTTPTransport)? = nil,
        clock: any EventClock = SystemEventClock(),
        userProfileService: (any UserProfileService)? = nil,
        logger: Logger = UserEventFactory.silentLogger,
        defaultDecideOptions: [OptimizelyDecideOption] = []
    ) throws(OptimizelyClientError) {
        // The whole source (its bundled datafile too) is checked before the file is opened, so a
        // bad one leaves no file behind.
        let (initial, polling) = try Self.prepare(source, transport: transport, clock: clock, logger: logger)
        let queue: EventQueue
        do { queue = try EventQueue(path: queuePath, configuration: queueConfiguration) } catch { throw .queue(error) }
        let processor = BatchEventProcessor(
            queue: queue, configuration: processorConfiguration, dispatcher: dispatcher,
            notificationCenter: EventNotificationCenter(logger: logger), logger: logger
        )
        self.init(initial: initial, polling: polling, eventProcessor: processor, userProfileService: userProfileService,
                  logger: logger, defaultDecideOptions: defaultDecideOptions)
        lifecycle.withLock { $0.ownsProcessor = true }
    }

    /// Starts the client: the event processor's worker (a ``BatchEventProcessor``), and live
    /// datafile updates, whose first fetch goes out at once. Then waits for the first datafile,
    /// at most the blocking timeout (``DatafilePollingSettings/blockingTimeout``, 10 s by
    /// default): it returns at once with a datafile given at construction, as soon as the
    /// first datafile is fetched, or as soon as the first poll fails (after its retries).
    ///
    /// Calls made before or during the wait work: on the bundled datafile if there is one, else
    /// with the "no config" failure values. Calling it again waits the same way; after
    /// ``close()`` it does nothing.
    ///
    /// - Returns: whether the client has a datafile now.
    @discardableResult
    public func start() async -> Bool {
        let poller: DatafilePoller? = lifecycle.withLock { state in
            guard state.closing == nil else { return nil }
            if !state.started, let polling {
                state.poller = DatafilePoller(
                    settings: polling.settings, bundled: current.map { DatafileIdentity($0.config) },
                    transport: polling.transport, clock: polling.clock, logger: logger
                ) { [weak self] config, _ in self?.use(config) }
            }
            state.started = true
            return state.poller
        }
        guard lifecycle.withLock({ $0.closing == nil }) else { return current != nil }
        (eventProcessor as? BatchEventProcessor)?.start()
        if let poller {
            poller.start()
            await poller.waitUntilReady()
        }
        let ready = current != nil
        // A close during the wait ended it: no datafile is coming, and nothing to warn about.
        if !ready, let polling, !isClosed {
            logger.warning("no datafile yet; polling goes on, and client calls return their no-config values until one is fetched",
                           metadata: ["url": "\(polling.settings.url)"])
        }
        return ready
    }

    /// Closes the client (the reference's `close()`): stops live datafile updates (a fetch in
    /// flight is cancelled, and no datafile replaces the config after this returns), then stops
    /// a ``BatchEventProcessor`` as spec §7 says (no new events; what is pending is sent,
    /// waiting at most its `timeoutInterval`; what did not go out stays in the file), then shuts
    /// down the transport the client made. Calls after it still decide on the last datafile,
    /// but their events are refused (and logged). Safe to call more than once: later calls wait
    /// for the first.
    public func close() async {
        let closing = lifecycle.withLock { state in
            if let closing = state.closing { return closing }
            let (poller, processor, owned) = (state.poller, eventProcessor as? BatchEventProcessor, polling?.ownedTransport)
            let closing = Task {
                await poller?.stop()
                await processor?.stop()
                owned?.shutdown()
            }
            state.closing = closing
            return closing
        }
        await closing.value
    }

    /// Whether ``close()`` was called.
    public var isClosed: Bool { lifecycle.withLock { $0.closing != nil } }
}
