/// A user, with their attributes and forced decisions, for whom the client decides flags.
///
/// ```swift
/// var user = client.createUserContext(userId: "alice", attributes: ["browser": "chrome", "age": 31])
/// let decision = user.decide(key: "new_nav")
/// user.setForcedDecision(context: OptimizelyDecisionContext(flagKey: "new_nav"),
///                        decision: OptimizelyForcedDecision(variationKey: "off"))
/// let all = user.decideAll(options: [.enabledFlagsOnly])
/// user.trackEvent(eventKey: "purchase", eventTags: ["revenue": 1999])
/// ```
///
/// A value: a copy is independent, so a decision in progress never sees a later change (the
/// reference clones its context for each call to the same effect). Deciding never throws.
public struct OptimizelyUserContext: Sendable, Equatable {
    /// The client that decides.
    public let client: OptimizelyClient
    /// The user id (used as is; the empty string is a valid id).
    public let userId: String
    /// The attributes, one value per key (a key given twice keeps its last value).
    public private(set) var attributes: UserAttributes
    /// The segments `qualified` audience conditions check; `nil` when none were set.
    public private(set) var qualifiedSegments: [String]?
    /// The forced decisions, by flag and rule.
    public private(set) var forcedDecisions: [OptimizelyDecisionContext: OptimizelyForcedDecision] = [:]

    init(client: OptimizelyClient, userId: String, attributes: UserAttributes) {
        self.client = client
        self.userId = userId
        self.attributes = EventDictionary(members: attributes.deduplicated)
    }

    /// Sets one attribute.
    public mutating func setAttribute(key: String, value: EventValue) {
        if let index = attributes.members.firstIndex(where: { $0.key == key }) {
            attributes.members[index].value = value
        } else {
            attributes.members.append(.init(key: key, value: value))
        }
    }

    /// Sets the segments `qualified` conditions check (`nil` for none).
    public mutating func setQualifiedSegments(_ segments: [String]?) {
        qualifiedSegments = segments
    }

    // MARK: Deciding

    /// Decides one flag. ``OptimizelyDecideOption/enabledFlagsOnly`` is ignored: the decision
    /// is always returned.
    public func decide(key: String, options: [OptimizelyDecideOption] = []) -> OptimizelyDecision {
        client.decide(self, key: key, options: options)
    }

    /// Decides these flags, in order (a key given twice is decided twice).
    public func decide(keys: [String], options: [OptimizelyDecideOption] = []) -> [String: OptimizelyDecision] {
        Dictionary(decideInOrder(keys: keys, options: options).map { ($0.flagKey, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Decides every flag of the datafile, in datafile order.
    public func decideAll(options: [OptimizelyDecideOption] = []) -> [String: OptimizelyDecision] {
        Dictionary(decideAllInOrder(options: options).map { ($0.flagKey, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// ``decide(keys:options:)`` with the decisions in the reference's order: unknown keys
    /// first, then the others in the order given, each key once.
    public func decideInOrder(keys: [String], options: [OptimizelyDecideOption] = []) -> [OptimizelyDecision] {
        client.decide(self, keys: keys, options: options)
    }

    /// ``decideAll(options:)`` with the decisions in datafile order.
    public func decideAllInOrder(options: [OptimizelyDecideOption] = []) -> [OptimizelyDecision] {
        client.decideAll(self, options: options)
    }

    /// Tracks a conversion for this user: ``OptimizelyClient/track(eventKey:userId:attributes:eventTags:)``.
    @discardableResult
    public func trackEvent(eventKey: String, eventTags: EventTags? = nil) -> Bool {
        client.track(eventKey: eventKey, userId: userId, attributes: attributes, eventTags: eventTags)
    }

    // MARK: Forced decisions

    /// Forces `decision` for `context` in this user's later decisions.
    @discardableResult
    public mutating func setForcedDecision(context: OptimizelyDecisionContext, decision: OptimizelyForcedDecision) -> Bool {
        forcedDecisions[context] = decision
        return true
    }

    /// The forced decision for `context`, if any.
    public func getForcedDecision(context: OptimizelyDecisionContext) -> OptimizelyForcedDecision? {
        forcedDecisions[context]
    }

    /// Removes the forced decision for `context`; `false` when there was none.
    @discardableResult
    public mutating func removeForcedDecision(context: OptimizelyDecisionContext) -> Bool {
        forcedDecisions.removeValue(forKey: context) != nil
    }

    /// Removes every forced decision.
    @discardableResult
    public mutating func removeAllForcedDecisions() -> Bool {
        forcedDecisions.removeAll()
        return true
    }

    /// Two contexts are equal when they are of the same client and hold the same user,
    /// attributes, segments and forced decisions.
    public static func == (lhs: OptimizelyUserContext, rhs: OptimizelyUserContext) -> Bool {
        lhs.client === rhs.client && lhs.userId == rhs.userId && lhs.attributes == rhs.attributes
            && lhs.qualifiedSegments == rhs.qualifiedSegments && lhs.forcedDecisions == rhs.forcedDecisions
    }

    /// What the decision engine reads of this user.
    func decisionUser(forcedVariations: [String: String]) -> DecisionUser {
        DecisionUser(userId: userId, attributes: attributes, forcedDecisions: forcedDecisions,
                     qualifiedSegments: qualifiedSegments, forcedVariations: forcedVariations)
    }
}
