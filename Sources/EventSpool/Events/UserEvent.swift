/// One impression or conversion, fixed at creation (spec §3).
///
/// A `UserEvent` is made by ``UserEventFactory`` (or ``EventLineDecoder``), which applies every
/// rule of spec §3, so its parts are always valid on the wire: the attributes are already
/// filtered, the tags hold only JSON, `revenue` and `value` are extracted. Its ``uuid`` and
/// ``timestampMillis`` never change afterwards: they are how a duplicate is recognised.
///
/// ```swift
/// let factory = UserEventFactory(config: config)
/// let event = try factory.makeConversion(eventKey: "purchase", userId: "alice",
///                                        attributes: ["browser": "chrome"],
///                                        tags: ["revenue": 1999, "value": 19.99])
/// try processor.process(event)            // serialised and durable in the queue
/// LogEvent.single(event).bodyText         // or its wire form, as a one-event request
/// ```
public struct UserEvent: Sendable, Hashable {
    /// Account, project, revision, anonymize-IP flag, region and client of the event.
    public let context: EventContext
    /// The event's UUID (lower-case, version 7, when generated; as given otherwise).
    public let uuid: String
    /// When the event happened, in milliseconds since the Unix epoch.
    public let timestampMillis: Int64
    /// The visitor id.
    public let userId: String
    /// The visitor attributes that passed spec §3's filter, in the caller's order, followed by
    /// the bot-filtering attribute when the datafile has one.
    public let attributes: [VisitorAttribute]
    /// What kind of event this is, with its kind-specific data.
    public let payload: Payload

    /// The kind-specific data of a user event.
    public enum Payload: Sendable, Hashable {
        /// A decision was made (`campaign_activated`).
        case impression(Impression)
        /// A datafile event was tracked.
        case conversion(Conversion)
    }

    /// Impression or conversion.
    public var kind: SerializedEvent.Kind {
        switch payload {
        case .impression: .impression
        case .conversion: .conversion
        }
    }

    /// Creates a user event from parts already checked; ``UserEventFactory`` is the usual way.
    init(context: EventContext, uuid: String, timestampMillis: Int64, userId: String, attributes: [VisitorAttribute], payload: Payload) {
        self.context = context
        self.uuid = uuid
        self.timestampMillis = timestampMillis
        self.userId = userId
        self.attributes = attributes
        self.payload = payload
    }
}

/// One kept visitor attribute: `{"entity_id", "key", "type": "custom", "value"}` on the wire.
public struct VisitorAttribute: Sendable, Hashable {
    /// The datafile attribute's id, or the key itself for a `$opt_` key.
    public let entityId: String
    /// The attribute key as the caller gave it.
    public let key: String
    /// A string, bool, integer or float, its type kept (`|value| ≤ 2^53` for numbers).
    public let value: JSONValue

    /// The `entity_id` and `key` of the bot-filtering attribute.
    public static let botFilteringKey = "$opt_bot_filtering"

    init(entityId: String, key: String, value: JSONValue) {
        self.entityId = entityId
        self.key = key
        self.value = value
    }
}

/// The rule a decision came from (`metadata.rule_type`).
public enum RuleType: String, Sendable, Hashable, CaseIterable {
    /// An A/B test decided with `activate` (legacy).
    case experiment
    /// An A/B test rule of a flag.
    case featureTest = "feature-test"
    /// A targeted delivery or the "everyone else" rule of a flag.
    case rollout
    /// A holdout.
    case holdout
}

/// The decision data of an impression (the `decisions` entry of its snapshot).
public struct Impression: Sendable, Hashable {
    /// The experiment's `layerId`, else its id, else `""` (spec §3); also the event's
    /// `entity_id`.
    public let campaignId: String
    /// The experiment's id, or `""` when there is no experiment.
    public let experimentId: String
    /// The variation's id when it is a non-empty string of ASCII digits; `nil` (JSON `null`)
    /// otherwise.
    public let variationId: String?
    /// The variation's key, or `""` when there is no variation.
    public let variationKey: String
    /// The flag's key (`""` for a legacy experiment).
    public let flagKey: String
    /// The rule's key.
    public let ruleKey: String
    /// The rule's type.
    public let ruleType: RuleType
    /// Whether the flag is enabled for the user.
    public let enabled: Bool
    /// The CMAB decision's UUID, when there was one (never empty).
    public let cmabUUID: String?

    /// The event `key` of every impression.
    public static let eventKey = "campaign_activated"
}

/// The tracked event of a conversion (its snapshot event).
public struct Conversion: Sendable, Hashable {
    /// The datafile event's id (the snapshot event's `entity_id`).
    public let eventId: String
    /// The datafile event's key.
    public let eventKey: String
    /// `tags["revenue"]` when it is an integer (not a bool).
    public let revenue: Int64?
    /// `tags["value"]` as a float, when it is a number or a numeric string (spec §3).
    public let value: FiniteDouble?
    /// The tags as sent: JSON only, non-finite numbers and null `revenue`/`value`/`tags`/
    /// `decisions` keys removed; `nil` when the caller gave none (then no `tags` key is sent).
    public let tags: [JSONValue.Member]?
}
