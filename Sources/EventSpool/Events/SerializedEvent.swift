/// A user event as the queue stores it: everything needed to send it later, without the
/// objects it was built from.
///
/// `visitorJSON` is the event's visitor object exactly as it goes on the wire (spec §4). A batch
/// body is the header of the batch's context followed by the stored visitors joined with commas,
/// so a batch resent after a crash is byte-identical and nothing is re-encoded.
public struct SerializedEvent: Hashable, Sendable {
    /// The kind of a user event.
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        /// A decision was made for the user (`campaign_activated`).
        case impression
        /// The user did something tracked (a datafile event).
        case conversion
    }

    /// The event's UUID, fixed at creation (lower-case, version 7, when the library made it); how a
    /// duplicate is recognised.
    public var uuid: String
    /// Impression or conversion.
    public var kind: Kind
    /// The visitor id.
    public var userId: String
    /// The account, project, revision, region and client the event belongs to.
    public var context: EventContext
    /// The visitor object as UTF-8 JSON text, exactly as it will be sent.
    public var visitorJSON: String
    /// When the event happened, in milliseconds since the Unix epoch (the payload's `timestamp`).
    public var timestampMillis: Int64

    /// Creates a serialized event from its parts.
    public init(uuid: String, kind: Kind, userId: String, context: EventContext, visitorJSON: String, timestampMillis: Int64) {
        self.uuid = uuid
        self.kind = kind
        self.userId = userId
        self.context = context
        self.visitorJSON = visitorJSON
        self.timestampMillis = timestampMillis
    }

    /// The size of the visitor JSON in bytes, which is what it adds to a batch body
    /// (plus one byte for the separating comma).
    public var byteCount: Int { visitorJSON.utf8.count }
}
