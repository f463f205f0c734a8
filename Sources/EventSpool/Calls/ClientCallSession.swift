import Logging

/// Runs ``ClientCall``s on one client, as `eventspool decide` does: state lives for the whole
/// session (forced variations, forced decisions kept per user id and applied to that user's
/// later calls, user profiles), and each call's events and DECISION notifications are
/// collected with its result.
///
/// ```swift
/// let session = ClientCallSession(config: config)
/// let outcome = session.run(try ClientCall(line: #"{"op": "decide", "user_id": "alice", "flag_key": "new_nav"}"#))
/// print(outcome.jsonLine(call: 0))
/// ```
///
/// Not `Sendable`, and not thread-safe: it keeps the session's forced decisions in plain stored
/// properties, so one session is driven by one caller, one call at a time (as `eventspool
/// decide` reads one line after another). Give each concurrent caller a session of its own.
public final class ClientCallSession {
    /// The client the calls run on.
    public let client: OptimizelyClient
    private let recorder: RecordingEventProcessor
    private let notifications = LockedValue<[DecisionNotification]>([])
    private var forcedDecisions: [String: [OptimizelyDecisionContext: OptimizelyForcedDecision]] = [:]

    /// Creates a session on a datafile.
    ///
    /// - Parameters:
    ///   - config: the datafile.
    ///   - eventProcessor: where the calls' events go besides the outcome (a queue, say); none
    ///     by default.
    ///   - userProfileService: the user profile service; none by default.
    ///   - defaultDecideOptions: options added to every decide call.
    ///   - clientName: the SDK name in the events' header.
    ///   - clientVersion: the SDK version in the events' header.
    ///   - logger: where the client logs.
    ///   - collectsNotifications: whether outcomes carry the DECISION notifications (a session
    ///     that does not read them saves building them).
    public init(config: ProjectConfig, eventProcessor: (any EventProcessor)? = nil,
                userProfileService: (any UserProfileService)? = nil, defaultDecideOptions: [OptimizelyDecideOption] = [],
                clientName: String = EventContext.defaultClientName, clientVersion: String = EventContext.defaultClientVersion,
                logger: Logger = UserEventFactory.silentLogger, collectsNotifications: Bool = true) {
        recorder = RecordingEventProcessor(forwardingTo: eventProcessor)
        client = OptimizelyClient(config: config, eventProcessor: recorder, userProfileService: userProfileService, logger: logger,
                                  defaultDecideOptions: defaultDecideOptions, notificationCenter: EventNotificationCenter(logger: logger),
                                  clientName: clientName, clientVersion: clientVersion)
        guard collectsNotifications else { return }
        client.notificationCenter.addListener(for: .decision) { [notifications] notification in
            if case .decision(let decision) = notification { notifications.withLock { $0.append(decision) } }
        }
    }

    /// Runs one call and returns its result, events and notifications.
    public func run(_ call: ClientCall) -> ClientCallOutcome {
        ClientCallOutcome(op: call.op, result: result(of: call), events: recorder.takeEvents(),
                          notifications: notifications.withLock { taken in
                              defer { taken.removeAll(keepingCapacity: true) }
                              return taken
                          })
    }

    private func result(of call: ClientCall) -> EventValue {
        switch call {
        case .decide(let userId, let attributes, let flagKey, let options):
            return Self.json(user(userId, attributes).decide(key: flagKey, options: options))
        case .decideForKeys(let userId, let attributes, let flagKeys, let options):
            return Self.json(user(userId, attributes).decideInOrder(keys: flagKeys, options: options))
        case .decideAll(let userId, let attributes, let options):
            return Self.json(user(userId, attributes).decideAllInOrder(options: options))
        case .activate(let experimentKey, let userId, let attributes):
            return ["variation_key": Self.json(client.activate(experimentKey: experimentKey, userId: userId, attributes: attributes))]
        case .getVariation(let experimentKey, let userId, let attributes):
            return ["variation_key": Self.json(client.getVariation(experimentKey: experimentKey, userId: userId, attributes: attributes))]
        case .track(let eventKey, let userId, let attributes, let eventTags):
            client.track(eventKey: eventKey, userId: userId, attributes: attributes, eventTags: eventTags)
            return ["returned": .null]
        case .isFeatureEnabled(let featureKey, let userId, let attributes):
            return ["enabled": .bool(client.isFeatureEnabled(featureKey: featureKey, userId: userId, attributes: attributes))]
        case .getEnabledFeatures(let userId, let attributes):
            return ["features": .array(client.getEnabledFeatures(userId: userId, attributes: attributes).map(EventValue.string))]
        case .getAllFeatureVariables(let featureKey, let userId, let attributes):
            return ["values": client.getAllFeatureVariables(featureKey: featureKey, userId: userId, attributes: attributes).map(EventValue.object) ?? .null]
        case .setForcedVariation(let experimentKey, let userId, let variationKey):
            return ["returned": .bool(client.setForcedVariation(experimentKey: experimentKey, userId: userId, variationKey: variationKey))]
        case .getForcedVariation(let experimentKey, let userId):
            return ["variation_key": Self.json(client.getForcedVariation(experimentKey: experimentKey, userId: userId))]
        case .setForcedDecision(let userId, let flagKey, let ruleKey, let variationKey):
            forcedDecisions[userId, default: [:]][OptimizelyDecisionContext(flagKey: flagKey, ruleKey: ruleKey)] =
                OptimizelyForcedDecision(variationKey: variationKey)
            return ["returned": true]
        case .removeForcedDecision(let userId, let flagKey, let ruleKey):
            let removed = forcedDecisions[userId]?.removeValue(forKey: OptimizelyDecisionContext(flagKey: flagKey, ruleKey: ruleKey))
            return ["returned": .bool(removed != nil)]
        case .removeAllForcedDecisions(let userId):
            forcedDecisions[userId] = nil
            return ["returned": true]
        }
    }

    /// A context for the user with their forced decisions so far.
    private func user(_ userId: String, _ attributes: UserAttributes) -> OptimizelyUserContext {
        var user = client.createUserContext(userId: userId, attributes: attributes)
        for (context, decision) in forcedDecisions[userId] ?? [:] {
            user.setForcedDecision(context: context, decision: decision)
        }
        return user
    }

    private static func json(_ text: String?) -> EventValue {
        text.map(EventValue.string) ?? .null
    }

    /// A decision as cli.md writes it.
    static func json(_ decision: OptimizelyDecision) -> EventValue {
        [
            "flag_key": .string(decision.flagKey),
            "enabled": .bool(decision.enabled),
            "variation_key": json(decision.variationKey),
            "rule_key": json(decision.ruleKey),
            "variables": .object(decision.variables),
            "reasons": .array(decision.reasons.map(EventValue.string)),
        ]
    }

    /// Decisions in order as cli.md writes them: their keys, and each by key.
    private static func json(_ decisions: [OptimizelyDecision]) -> EventValue {
        [
            "keys": .array(decisions.map { .string($0.flagKey) }),
            "decisions": .object(EventDictionary(members: decisions.map { .init(key: $0.flagKey, value: json($0)) })),
        ]
    }
}
