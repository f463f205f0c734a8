import Logging

/// The Optimizely client: decides flags and experiments for users exactly as the official SDK
/// does (Python SDK 5.7.0, spec `decisions.md`), and sends their impressions and conversions
/// through an ``EventProcessor``, the durable ``BatchEventProcessor`` in production.
///
/// ```swift
/// let client = try OptimizelyClient(source: .sdkKey("VivZyCGPHY369D4z8T9yG"), queuePath: "events.sqlite")
/// await client.start()                            // waits at most 10 s for the first datafile
/// let user = client.createUserContext(userId: "alice", attributes: ["browser": "chrome"])
/// let decision = user.decide(key: "new_nav")      // impression queued durably
/// user.trackEvent(eventKey: "purchase", eventTags: ["revenue": 1999])
/// await client.close()                            // stops polling, then the processor
/// ```
///
/// The datafile comes from a ``DatafileSource``: given once, polled by SDK key (live datafile
/// updates, `decisions.md` §16), or both. Each accepted new revision becomes the client's
/// config, posts ``ProcessorNotification/configUpdate(revision:)``, and makes the processor
/// send the older revision's pending events at once; the next call decides on it. Until a
/// client has a datafile, every call returns the reference's "no config" failure value
/// (`nil`, `false`, `[]`, an error decision) and logs why.
///
/// The legacy calls (``activate(experimentKey:userId:attributes:)``,
/// ``getVariation(experimentKey:userId:attributes:)``, ``isFeatureEnabled(featureKey:userId:attributes:)``,
/// ``track(eventKey:userId:attributes:eventTags:)``, …) are here too. No call throws or traps on
/// bad input: it returns the reference's failure value (`nil`, `false`, an error decision) and
/// logs why. Thread-safe: forced variations and user profiles may be used from any thread.
///
/// Its notification center carries DECISION, ACTIVATE and TRACK notifications; given a
/// ``BatchEventProcessor``, the client uses the processor's center by default, so LOG_EVENT is
/// beside them, as in the reference.
public final class OptimizelyClient: Sendable {
    /// Where DECISION, ACTIVATE and TRACK notifications go.
    public let notificationCenter: EventNotificationCenter
    /// The options every `decide` call adds to its own.
    public let defaultDecideOptions: Set<OptimizelyDecideOption>
    /// The user profile service, when there is one.
    public let userProfileService: (any UserProfileService)?
    let eventProcessor: any EventProcessor
    let logger: Logger
    let clientName: String
    let clientVersion: String
    /// Live datafile updates, when the client polls; ``start()`` starts them.
    let polling: Polling?
    /// Where the client is in its life: ``start()`` and ``close()``.
    let lifecycle = LockedValue(Lifecycle())
    /// user id → experiment id → variation id, set by ``setForcedVariation(experimentKey:userId:variationKey:)``.
    let forcedVariations = LockedValue<[String: [String: String]]>([:])
    /// The datafile in use, `nil` until the client has one. Every call reads it once, here, so
    /// a new revision only has to replace this value (``use(_:)``).
    private let active: LockedValue<ActiveConfig?>

    /// A datafile with what every call needs of it, built once per datafile.
    final class ActiveConfig: Sendable {
        let config: ProjectConfig
        let factory: UserEventFactory
        let decisions: DecisionService

        init(config: ProjectConfig, clientName: String, clientVersion: String, logger: Logger) {
            self.config = config
            self.factory = UserEventFactory(config: config, clientName: clientName, clientVersion: clientVersion, logger: logger)
            self.decisions = DecisionService(config: config, logger: logger)
        }
    }

    /// Creates a client on a datafile's text.
    ///
    /// - Parameters:
    ///   - datafile: the project's datafile (JSON).
    ///   - eventProcessor: where impressions and conversions go.
    ///   - userProfileService: sticky bucketing; none by default.
    ///   - logger: where the client logs (silent by default).
    ///   - defaultDecideOptions: options added to every `decide`.
    ///   - notificationCenter: the center for DECISION, ACTIVATE and TRACK; by default the
    ///     processor's when it is a ``BatchEventProcessor``, else a new one.
    ///   - clientName: the SDK name in the events' header (EventSpool's by default).
    ///   - clientVersion: the SDK version in the events' header.
    /// - Throws: ``DatafileError`` naming what is wrong when the reference would reject the datafile.
    public convenience init(
        datafile: String,
        eventProcessor: any EventProcessor,
        userProfileService: (any UserProfileService)? = nil,
        logger: Logger = UserEventFactory.silentLogger,
        defaultDecideOptions: [OptimizelyDecideOption] = [],
        notificationCenter: EventNotificationCenter? = nil,
        clientName: String = EventContext.defaultClientName,
        clientVersion: String = EventContext.defaultClientVersion
    ) throws(DatafileError) {
        self.init(config: try ProjectConfig(datafile: datafile), eventProcessor: eventProcessor,
                  userProfileService: userProfileService, logger: logger, defaultDecideOptions: defaultDecideOptions,
                  notificationCenter: notificationCenter, clientName: clientName, clientVersion: clientVersion)
    }

    /// Creates a client on a datafile already read. The parameters are those of
    /// ``init(datafile:eventProcessor:userProfileService:logger:defaultDecideOptions:notificationCenter:clientName:clientVersion:)``.
    public convenience init(
        config: ProjectConfig,
        eventProcessor: any EventProcessor,
        userProfileService: (any UserProfileService)? = nil,
        logger: Logger = UserEventFactory.silentLogger,
        defaultDecideOptions: [OptimizelyDecideOption] = [],
        notificationCenter: EventNotificationCenter? = nil,
        clientName: String = EventContext.defaultClientName,
        clientVersion: String = EventContext.defaultClientVersion
    ) {
        self.init(initial: config, polling: nil, eventProcessor: eventProcessor, userProfileService: userProfileService,
                  logger: logger, defaultDecideOptions: defaultDecideOptions, notificationCenter: notificationCenter,
                  clientName: clientName, clientVersion: clientVersion)
    }

    /// The one initialiser: every other one comes here.
    init(
        initial config: ProjectConfig?,
        polling: Polling?,
        eventProcessor: any EventProcessor,
        userProfileService: (any UserProfileService)? = nil,
        logger: Logger = UserEventFactory.silentLogger,
        defaultDecideOptions: [OptimizelyDecideOption] = [],
        notificationCenter: EventNotificationCenter? = nil,
        clientName: String = EventContext.defaultClientName,
        clientVersion: String = EventContext.defaultClientVersion
    ) {
        self.eventProcessor = eventProcessor
        self.userProfileService = userProfileService
        self.logger = logger
        self.clientName = clientName
        self.clientVersion = clientVersion
        self.polling = polling
        self.defaultDecideOptions = Set(defaultDecideOptions)
        self.notificationCenter = notificationCenter
            ?? (eventProcessor as? BatchEventProcessor)?.notificationCenter
            ?? EventNotificationCenter(logger: logger)
        self.active = LockedValue(nil)
        if let config { use(config) }
    }

    deinit {
        // Dropped without close(): polling would go on for nobody, and so would the worker of a
        // processor the client made (its loop keeps it alive). That one is stopped as `close()`
        // would: what is pending is sent, and what is not stays in the file.
        let (poller, stopsProcessor) = lifecycle.withLock { ($0.poller, $0.ownsProcessor && $0.closing == nil) }
        poller?.cancel()
        if stopsProcessor, let processor = eventProcessor as? BatchEventProcessor {
            Task { await processor.stop() }
        }
    }

    /// The datafile in use; `nil` until the client has one (a client polling by SDK key
    /// without a bundled datafile, before the first fetch succeeds).
    public var config: ProjectConfig? { current?.config }

    /// The datafile in use with what every call needs of it.
    var current: ActiveConfig? { active.withLock { $0 } }

    /// The datafile in use, or `nil` with the reference's error for a call made without one
    /// (`decisions.md` §16.2, §17): `Invalid config. Optimizely instance is not valid. Failing "api".`
    func current(failing api: String) -> ActiveConfig? {
        if let active = current { return active }
        logger.error("Invalid config. Optimizely instance is not valid. Failing \"\(api)\".")
        return nil
    }

    /// Makes `config` the datafile in use, from the next call on: the reference's
    /// `_set_config`. Posts ``ProcessorNotification/configUpdate(revision:)`` (the first
    /// datafile included), so that a ``BatchEventProcessor`` on the same center sends the older
    /// revision's pending events at once; a processor with a center of its own is told through
    /// ``BatchEventProcessor/configDidChange(to:)``.
    func use(_ config: ProjectConfig) {
        let next = ActiveConfig(config: config, clientName: clientName, clientVersion: clientVersion, logger: logger)
        let previous = active.withLock { active in
            defer { active = next }
            return active?.config.revision
        }
        if config.holdoutCount > 0 {
            logger.warning("the datafile has holdouts, which EventSpool does not evaluate: decisions ignore them",
                           metadata: ["holdouts": "\(config.holdoutCount)", "revision": "\(config.revision)"])
        }
        logger.debug("Received new datafile and updated config. Old revision number: \(previous ?? "None"). New revision number: \(config.revision).")
        notificationCenter.post(.configUpdate(revision: config.revision))
        if let processor = eventProcessor as? BatchEventProcessor, processor.notificationCenter !== notificationCenter {
            processor.configDidChange(to: config)
        }
    }

    /// Creates a context for a user, to decide flags for them.
    public func createUserContext(userId: String, attributes: UserAttributes = [:]) -> OptimizelyUserContext {
        OptimizelyUserContext(client: self, userId: userId, attributes: attributes)
    }

    // MARK: Shared by the calls

    /// The forced variations of a user: experiment id → variation id.
    func forcedVariations(of userId: String) -> [String: String] {
        forcedVariations.withLock { $0[userId] ?? [:] }
    }

    /// A profile tracker for a call, when there is a user profile service.
    func profileTracker(for userId: String) -> UserProfileTracker? {
        userProfileService.map { UserProfileTracker(userId: userId, service: $0, logger: logger) }
    }

    /// Saves what a call's decisions added to the user's profile.
    func save(_ tracker: UserProfileTracker?) {
        if let tracker, let userProfileService { tracker.saveIfUpdated(to: userProfileService, logger: logger) }
    }

    /// Sends the impression of a decision to the event processor (and the ACTIVATE notification
    /// when someone listens). With `gathered`, the impression is kept there instead, for the call
    /// to hand over all its impressions together when it ends (never when someone listens to
    /// ACTIVATE, whose notifications then come one by one, each after its event, as in the
    /// reference).
    func sendImpression(_ active: ActiveConfig, experiment: ProjectConfig.Experiment?, variation: ProjectConfig.Variation?,
                        flagKey: String, ruleKey: String, ruleType: RuleType, enabled: Bool, userId: String,
                        attributes: UserAttributes, gathered: inout [UserEvent]?) {
        let event: UserEvent
        do {
            event = try active.factory.makeImpression(
                experiment: experiment, variationId: variation?.id, flagKey: flagKey, ruleKey: ruleKey,
                ruleType: ruleType, enabled: enabled, userId: userId, attributes: attributes)
        } catch {
            logger.error("Cannot build the impression", metadata: ["flag": "\(flagKey)", "rule": "\(ruleKey)", "error": "\(error)"])
            return
        }
        if gathered != nil {
            gathered?.append(event)
            return
        }
        send(event)
        if notificationCenter.hasListeners(for: .activate) {
            notificationCenter.post(.activate(ActivateNotification(
                experiment: experiment ?? .empty, userId: userId, attributes: attributes, variation: variation,
                logEvent: LogEvent.single(event))))
        }
    }

    /// Sends the impression of a decision at once: ``sendImpression(_:experiment:variation:flagKey:ruleKey:ruleType:enabled:userId:attributes:gathered:)``
    /// without gathering.
    func sendImpression(_ active: ActiveConfig, experiment: ProjectConfig.Experiment?, variation: ProjectConfig.Variation?,
                        flagKey: String, ruleKey: String, ruleType: RuleType, enabled: Bool, userId: String,
                        attributes: UserAttributes) {
        var none: [UserEvent]?
        sendImpression(active, experiment: experiment, variation: variation, flagKey: flagKey, ruleKey: ruleKey,
                       ruleType: ruleType, enabled: enabled, userId: userId, attributes: attributes, gathered: &none)
    }

    /// Hands an event to the processor; a failure is logged.
    func send(_ event: UserEvent) {
        do {
            try eventProcessor.process(event)
        } catch {
            logger.error("The event processor did not take the event", metadata: ["uuid": "\(event.uuid)", "error": "\(error)"])
        }
    }

    /// Hands the events of one call to the processor together; a failure is logged.
    func send(contentsOf events: [UserEvent]) {
        guard events.count > 1 else {
            if let event = events.first { send(event) }
            return
        }
        do {
            try eventProcessor.process(contentsOf: events)
        } catch {
            logger.error("The event processor did not take all the events", metadata: ["events": "\(events.count)", "error": "\(error)"])
        }
    }

    /// Posts a DECISION notification; its info is built only when someone listens.
    func notifyDecision(_ type: DecisionNotification.DecisionType, userId: String, attributes: UserAttributes,
                        info: @autoclosure () -> EventDictionary) {
        guard notificationCenter.hasListeners(for: .decision) else { return }
        notificationCenter.post(.decision(DecisionNotification(type: type, userId: userId, attributes: attributes, decisionInfo: info())))
    }
}

extension LogEvent {
    /// The request that would carry this one event alone.
    public static func single(_ event: UserEvent) -> LogEvent {
        batch(context: event.context, visitors: [PayloadEncoder.visitorJSON(event)])
    }
}
