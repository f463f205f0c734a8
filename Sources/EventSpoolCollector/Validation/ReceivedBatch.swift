import EventSpool

/// A payload the collector accepted, decoded: the batch header and its visitors, snapshots,
/// events and decisions (spec §4). The shape-free parts stay loosely typed as EventSpool's
/// `JSONValue`, read by EventSpool's JSON parser: `1999` is `.int`, `19.99` and `30.0` are
/// `.double`, and object keys keep their order.
///
/// `Codable` with the wire format's snake-case keys, so a test can decode a recorded body too.
/// A `Decoder` keeps less than the parser (`JSONValue`'s `Codable` conformance: a whole float
/// such as `30.0` decodes as an integer, object keys come back sorted); the batches the
/// collector hands out (``Collector``, ``RequestValidation``) are built from the parser's values.
public struct ReceivedBatch: Codable, Sendable, Hashable {
    /// `account_id`.
    public var accountId: String
    /// `project_id`.
    public var projectId: String
    /// `revision`.
    public var revision: String
    /// `client_name`.
    public var clientName: String
    /// `client_version`.
    public var clientVersion: String
    /// `anonymize_ip`.
    public var anonymizeIP: Bool
    /// `enrich_decisions`.
    public var enrichDecisions: Bool
    /// `visitors`, in order.
    public var visitors: [Visitor]

    /// The `uuid` of every event in the batch, in order.
    public var uuids: [String] {
        visitors.flatMap { $0.snapshots.flatMap { $0.events.map(\.uuid) } }
    }

    /// Every event in the batch, in order.
    public var events: [Event] {
        visitors.flatMap { $0.snapshots.flatMap(\.events) }
    }

    /// One visitor: one user event (the pipeline never merges visitors).
    public struct Visitor: Codable, Sendable, Hashable {
        /// `visitor_id`.
        public var visitorId: String
        /// `attributes`, as sent.
        public var attributes: [JSONValue]
        /// `snapshots`, in order.
        public var snapshots: [Snapshot]

        enum CodingKeys: String, CodingKey {
            case visitorId = "visitor_id", attributes, snapshots
        }
    }

    /// One snapshot: its events and, for an impression, its decisions.
    public struct Snapshot: Codable, Sendable, Hashable {
        /// `events`, in order.
        public var events: [Event]
        /// `decisions`, or `nil` when the key is absent (a conversion).
        public var decisions: [Decision]?
    }

    /// One event of a snapshot.
    public struct Event: Codable, Sendable, Hashable {
        /// `entity_id`.
        public var entityId: String
        /// `uuid`.
        public var uuid: String
        /// `key`.
        public var key: String
        /// `timestamp`, milliseconds since the epoch.
        public var timestamp: Int64
        /// `revenue`, when present.
        public var revenue: JSONValue?
        /// `value`, when present.
        public var value: JSONValue?
        /// `tags`, when present.
        public var tags: JSONValue?

        enum CodingKeys: String, CodingKey {
            case entityId = "entity_id", uuid, key, timestamp, revenue, value, tags
        }
    }

    /// One decision of an impression's snapshot; every field as sent, loosely checked.
    public struct Decision: Codable, Sendable, Hashable {
        /// `campaign_id`.
        public var campaignId: String?
        /// `experiment_id`.
        public var experimentId: String?
        /// `variation_id` (`null` on the wire when the variation has no numeric id).
        public var variationId: String?
        /// `metadata` (`flag_key`, `rule_key`, `rule_type`, `variation_key`, `enabled`, …).
        public var metadata: JSONValue?

        enum CodingKeys: String, CodingKey {
            case campaignId = "campaign_id", experimentId = "experiment_id", variationId = "variation_id", metadata
        }
    }

    enum CodingKeys: String, CodingKey {
        case accountId = "account_id", projectId = "project_id", revision
        case clientName = "client_name", clientVersion = "client_version"
        case anonymizeIP = "anonymize_ip", enrichDecisions = "enrich_decisions", visitors
    }
}
