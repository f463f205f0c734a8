import CoreMetrics
import Foundation
import Logging

/// Batches user events from a durable queue and sends them to the Events API: the reference
/// SDK's `BatchEventProcessor`, on SQLite (spec §5–§8).
///
/// `process` writes the event to the queue before it returns, so a crash loses nothing it
/// accepted. A worker sends batches by size, by age (`flushInterval`), on a context change or a
/// new datafile revision, on `flush()` and on `stop()`, up to `maxRequestsInFlight` at once;
/// rows are marked sent only after a 2xx. It also sees what other processes append to the file.
///
/// Notifications, in order: for each batch, `logEvent` just before its request starts, then
/// `dispatchOutcome` once its outcome is committed to the file. Batches start in the order they
/// are claimed (oldest events first); with several requests out, outcomes come in the order the
/// responses arrive. An awaited flush returns after the outcomes of the batches it covered were
/// posted. Listeners run on the worker: a slow one holds up the worker's next step.
///
/// ```swift
/// let config = try ProjectConfig(datafile: datafileText)
/// let factory = UserEventFactory(config: config)
/// let processor = try BatchEventProcessor(queuePath: "events.sqlite")
/// processor.start()
/// try processor.process(factory.makeConversion(eventKey: "purchase", userId: "alice", tags: ["revenue": 1999]))
/// await processor.stop()     // sends what is pending, waits at most timeoutInterval
/// ```
///
/// In a server, add the `EventSpoolServiceLifecycle` product: it makes the processor a
/// swift-service-lifecycle `Service`, so a `ServiceGroup` stops it on SIGTERM and SIGINT.
public final class BatchEventProcessor: Sendable {
    /// The durable queue.
    public let queue: EventQueue
    /// The effective settings (invalid values replaced by defaults).
    public let settings: ProcessorConfiguration
    /// Where the processor's notifications go (spec §8).
    public let notificationCenter: EventNotificationCenter
    private let dispatcher: any EventDispatcher
    private let ownedDispatcher: HTTPEventDispatcher?
    let worker: BatchWorker
    /// The center's listener that flushes on a new datafile revision.
    private let configUpdateListener: Int
    private let logger: Logger
    private let clock: any EventClock
    private let lifecycle = LockedValue(Lifecycle())
    private let metrics: ProcessorMetrics
    /// Where the async `process` calls run their writes, off the cooperative pool.
    let writes = BlockingWorkQueue(label: "eventspool.processor.writes")

    private struct Lifecycle {
        var accepting = true
        var stopped = false
        var stopWaiters: [CheckedContinuation<Void, Never>] = []
        var stopping = false
        /// The project and revision of the datafile last given to ``configDidChange(to:)``.
        var datafile: DatafileIdentity?
    }

    /// Creates a processor over an open queue.
    ///
    /// - Parameters:
    ///   - queue: the queue; its clock is the processor's clock.
    ///   - configuration: the settings; invalid values fall back to defaults with a warning.
    ///   - dispatcher: sends the requests; `nil` for an ``HTTPEventDispatcher`` with default
    ///     settings on a ``URLSessionTransport``, which the processor shuts down in `stop()`.
    ///   - notificationCenter: listeners of `logEvent`, dispatch outcomes and `configUpdate`.
    ///   - logger: where the processor logs (silent by default). Event payloads are logged at
    ///     debug level at most.
    ///   - metricsFactory: where the processor reports its metrics (``EventSpoolMetrics``); by
    ///     default the factory the application bootstrapped (`MetricsSystem.factory`, read
    ///     here). The library never bootstraps the metrics system.
    public init(
        queue: EventQueue,
        configuration: ProcessorConfiguration = ProcessorConfiguration(),
        dispatcher: (any EventDispatcher)? = nil,
        notificationCenter: EventNotificationCenter = EventNotificationCenter(),
        logger: Logger = UserEventFactory.silentLogger,
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) {
        self.queue = queue
        let metrics = ProcessorMetrics(factory: metricsFactory)
        self.metrics = metrics
        self.settings = configuration.validated(logger: logger)
        self.notificationCenter = notificationCenter
        self.logger = logger
        self.clock = queue.configuration.clock
        if let dispatcher {
            self.dispatcher = dispatcher
            self.ownedDispatcher = nil
        } else {
            let owned = HTTPEventDispatcher.makeDefault()
            self.dispatcher = owned
            self.ownedDispatcher = owned
        }
        let worker = BatchWorker(
            queue: queue, settings: settings, dispatcher: self.dispatcher,
            notificationCenter: notificationCenter, logger: logger, clock: clock, metrics: metrics
        )
        self.worker = worker
        // A new datafile revision, posted by `configDidChange(to:)` or by the application to the
        // center, sends the old revision's pending events at once (spec §5).
        // Weakly: the worker holds the center, so a strong capture would keep both, and the
        // queue with its open file and page cache, alive after the processor is gone.
        configUpdateListener = notificationCenter.addListener(for: .configUpdate) { [weak worker] _ in worker?.requestFlush() }
        if settings.startOnInit { start() }
    }

    deinit {
        // A center the application shares outlives this processor: leave nothing in it.
        notificationCenter.removeListener(id: configUpdateListener)
    }

    /// Opens (or creates) the queue at `queuePath` and creates a processor over it.
    public convenience init(
        queuePath: String,
        queueConfiguration: QueueConfiguration = QueueConfiguration(),
        configuration: ProcessorConfiguration = ProcessorConfiguration(),
        dispatcher: (any EventDispatcher)? = nil,
        notificationCenter: EventNotificationCenter = EventNotificationCenter(),
        logger: Logger = UserEventFactory.silentLogger,
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) throws {
        self.init(
            queue: try EventQueue(path: queuePath, configuration: queueConfiguration),
            configuration: configuration, dispatcher: dispatcher,
            notificationCenter: notificationCenter, logger: logger, metricsFactory: metricsFactory
        )
    }

    // MARK: - Events

    /// Writes `event` to the queue; it is durable when this returns, and will be sent.
    ///
    /// Works before `start()` too: the event waits in the file. The write runs on the calling
    /// thread; in async code use `try await process(event)` instead, which runs it off Swift's
    /// cooperative pool (the async ``process(_:)-1el13``).
    ///
    /// - Throws: ``ProcessorError/stopped`` after `stop()`; ``ProcessorError/eventTooLarge(uuid:bodyBytes:maxBatchBytes:)``;
    ///   ``ProcessorError/queue(_:)`` for a duplicate uuid, a full queue or a full disk.
    public func process(_ event: UserEvent) throws(ProcessorError) {
        try process(event.serialized())
    }

    /// Writes an already serialized event to the queue.
    public func process(_ event: SerializedEvent) throws(ProcessorError) {
        guard lifecycle.withLock({ $0.accepting }) else { throw .stopped }
        try requireSendable(CollectionOfOne(event))
        switch try append([event])[0] {
        case .appended: return
        case .duplicate: throw .queue(.duplicateEvent(uuid: event.uuid))
        case .rejectedFull: throw .queue(.full(maxEvents: queue.configuration.maxEvents, maxBytes: queue.configuration.maxBytes))
        }
    }

    /// Writes many serialized events to the queue in one transaction; all of them are durable
    /// when this returns, and will be sent. Cheaper per event than ``process(_:)-66yy1``
    /// when events come in groups (an import, a relay, a client that batches).
    ///
    /// - Returns: what happened to each event, in order: appended, or not written because its
    ///   uuid is already queued or the queue is at its bound.
    /// - Throws: ``ProcessorError/stopped`` after `stop()`; ``ProcessorError/eventTooLarge(uuid:bodyBytes:maxBatchBytes:)``
    ///   for the first event that can never be sent, and then nothing is written;
    ///   ``ProcessorError/queue(_:)`` when the transaction fails (a full disk, say), and then
    ///   nothing is written either.
    @discardableResult
    public func process(contentsOf events: [SerializedEvent]) throws(ProcessorError) -> [AppendOutcome] {
        guard lifecycle.withLock({ $0.accepting }) else { throw .stopped }
        try requireSendable(events)
        return try append(events)
    }

    /// Appends `events` in one transaction, counts what happened, and wakes the worker.
    private func append(_ events: [SerializedEvent]) throws(ProcessorError) -> [AppendOutcome] {
        let appended: (outcomes: [AppendOutcome], droppedOldest: Int)
        do {
            appended = try queue.appendReportingDrops(contentsOf: events)
        } catch {
            throw .queue(error)
        }
        metrics.appended(appended.outcomes, droppedOldest: appended.droppedOldest)
        worker.poke()
        return appended.outcomes
    }

    /// Spec §5: an event whose own request would pass `maxBatchBytes` can never be sent. The
    /// request's envelope is measured once for each run of events that share a context.
    private func requireSendable(_ events: some Collection<SerializedEvent>) throws(ProcessorError) {
        var envelope: (context: EventContext, bytes: Int)?
        for event in events {
            if envelope?.context != event.context {
                envelope = (event.context, LogEvent.overheadByteCount(for: event.context))
            }
            let bodyBytes = (envelope?.bytes ?? 0) + event.byteCount
            guard bodyBytes <= settings.maxBatchBytes else {
                throw .eventTooLarge(uuid: event.uuid, bodyBytes: bodyBytes, maxBatchBytes: settings.maxBatchBytes)
            }
        }
    }

    // MARK: - Lifecycle

    /// Starts the worker. Expired leases of crashed workers are recovered first (the first
    /// claim does it), then the backlog is sent. Calling it again does nothing.
    public func start() {
        guard lifecycle.withLock({ !$0.stopping }) else { return }
        worker.start()
    }

    /// Whether the worker has been started and the processor not yet stopped.
    public var isRunning: Bool {
        worker.isStarted && lifecycle.withLock { !$0.stopping }
    }

    /// Asks the worker to send everything pending now, without waiting for `flushInterval`.
    public func flush() {
        worker.requestFlush()
    }

    /// Sends everything pending now and returns once the events pending at the call have been
    /// tried (sent, or failed and scheduled for a retry or dead-lettered).
    ///
    /// - Throws: ``ProcessorError/notStarted`` when the worker is not running;
    ///   ``ProcessorError/cancelled`` when the awaiting task is cancelled first (the flush goes on).
    public func flushAndWait() async throws(ProcessorError) {
        guard worker.isStarted else { throw .notStarted }
        let mark: Int64
        do { mark = try queue.lastEventId() } catch { throw .queue(error) }
        await worker.flushAndWait(lastEventId: mark)
        if Task.isCancelled { throw .cancelled }
    }

    /// Tells the processor a datafile became active. A new revision (or another project, as
    /// live updates compare them, `decisions.md` §19) posts `configUpdate` to the notification
    /// center, which sends the old revision's pending events at once. The first datafile given
    /// and the same one again post nothing.
    public func configDidChange(to config: ProjectConfig) {
        let identity = DatafileIdentity(config)
        let changed = lifecycle.withLock { state in
            defer { state.datafile = identity }
            return state.datafile != nil && state.datafile != identity
        }
        if changed { notificationCenter.post(.configUpdate(revision: config.revision)) }
    }

    /// Stops accepting events, sends what is pending, and waits at most `timeoutInterval` for
    /// it; what did not go out stays in the queue for the next processor on the file. Safe to
    /// call twice (the second call waits for the first).
    public func stop() async {
        let first = lifecycle.withLock { state in
            state.accepting = false
            defer { state.stopping = true }
            return !state.stopping
        }
        guard first else {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let done = lifecycle.withLock { state in
                    if state.stopped { return true }
                    state.stopWaiters.append(continuation)
                    return false
                }
                if done { continuation.resume() }
            }
            return
        }
        await worker.stop(deadlineMillis: clock.nowMillis() + Int64(settings.timeoutInterval * 1000))
        if let ownedDispatcher {
            do { try await ownedDispatcher.shutdown() } catch { logger.debug("HTTP client shutdown failed", metadata: ["error": "\(error)"]) }
        }
        let waiters = lifecycle.withLock { state in
            state.stopped = true
            defer { state.stopWaiters.removeAll() }
            return state.stopWaiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
