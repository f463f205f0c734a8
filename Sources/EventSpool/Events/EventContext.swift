/// Where an event is sent and what the header of its batch says.
///
/// Every user event captures its context when it is created (spec §3). Events are batched only
/// with events of an equal context (spec §5), so a batch never mixes revisions, projects or
/// regions, and the batch header is the context of any of its events.
public struct EventContext: Hashable, Sendable {
    /// The Optimizely account id (`accountId` of the datafile).
    public var accountId: String
    /// The Optimizely project id (`projectId` of the datafile).
    public var projectId: String
    /// The datafile revision the event was decided with.
    public var revision: String
    /// Whether the Events API should anonymize the visitor's IP address.
    public var anonymizeIP: Bool
    /// The data region, which chooses the endpoint.
    public var region: EventRegion
    /// The SDK name reported in the batch header.
    public var clientName: String
    /// The SDK version reported in the batch header.
    public var clientVersion: String

    /// Creates a context from its parts.
    public init(
        accountId: String,
        projectId: String,
        revision: String,
        anonymizeIP: Bool,
        region: EventRegion,
        clientName: String = EventContext.defaultClientName,
        clientVersion: String = EventContext.defaultClientVersion
    ) {
        self.accountId = accountId
        self.projectId = projectId
        self.revision = revision
        self.anonymizeIP = anonymizeIP
        self.region = region
        self.clientName = clientName
        self.clientVersion = clientVersion
    }

    /// The client name EventSpool reports unless told otherwise.
    public static let defaultClientName = "swift-eventspool"
    /// The client version EventSpool reports unless told otherwise: this library's version.
    public static let defaultClientVersion = "0.1.0"

    /// The Events API endpoint for this context's region.
    public var endpoint: String { region.endpoint }
}

/// The Optimizely data region of a project (spec §2): `"EU"` in any letter case means the EU
/// endpoint; anything else, or no region, means the US endpoint.
public enum EventRegion: String, Hashable, Sendable, CaseIterable {
    /// `https://logx.optimizely.com/v1/events`
    case us = "US"
    /// `https://eu.logx.optimizely.com/v1/events`
    case eu = "EU"

    /// Reads a datafile's `region` value by the reference's rule.
    public init(datafileValue: String?) {
        self = datafileValue?.uppercased() == "EU" ? .eu : .us
    }

    /// The Events API URL of this region.
    public var endpoint: String {
        switch self {
        case .us: "https://logx.optimizely.com/v1/events"
        case .eu: "https://eu.logx.optimizely.com/v1/events"
        }
    }
}
