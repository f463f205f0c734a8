/// What a ``BatchEventProcessor`` and an ``OptimizelyClient`` tell their listeners (spec §8,
/// `decisions.md` §15).
public enum ProcessorNotification: Sendable {
    /// A batch is about to be dispatched. Fired before every attempt, resends included, so a
    /// listener sees each request that goes out.
    case logEvent(LogEvent)
    /// A dispatch finished and its outcome was recorded.
    case dispatchOutcome(DispatchOutcome)
    /// A datafile with a new revision became active.
    case configUpdate(revision: String)
    /// The client made a decision (the reference's DECISION notification).
    case decision(DecisionNotification)
    /// The client sent an impression (the reference's deprecated ACTIVATE notification).
    case activate(ActivateNotification)
    /// The client sent a conversion (the reference's TRACK notification).
    case track(TrackNotification)

    /// The notification's type, for subscribing.
    public var type: NotificationType {
        switch self {
        case .logEvent: .logEvent
        case .dispatchOutcome: .dispatchOutcome
        case .configUpdate: .configUpdate
        case .decision: .decision
        case .activate: .activate
        case .track: .track
        }
    }
}

/// The types of ``ProcessorNotification``.
public enum NotificationType: String, Sendable, Hashable, CaseIterable {
    /// ``ProcessorNotification/logEvent(_:)``
    case logEvent
    /// ``ProcessorNotification/dispatchOutcome(_:)``
    case dispatchOutcome
    /// ``ProcessorNotification/configUpdate(revision:)``
    case configUpdate
    /// ``ProcessorNotification/decision(_:)``
    case decision
    /// ``ProcessorNotification/activate(_:)``
    case activate
    /// ``ProcessorNotification/track(_:)``
    case track
}

/// The outcome of one dispatch of one batch.
public struct DispatchOutcome: Sendable, Equatable {
    /// What happened to the batch.
    public enum Result: Sendable, Equatable {
        /// A 2xx: every event is sent.
        case sent
        /// It will be tried again at this time (milliseconds since the epoch).
        case retryScheduled(atMillis: Int64)
        /// It was split in two halves.
        case split
        /// Its events were dead-lettered.
        case deadLettered
        /// The processor stopped before the response; the batch stays queued.
        case abandoned
    }

    /// The batch's id in the queue.
    public var batchId: Int64
    /// The uuids of its events, in order.
    public var uuids: [String]
    /// The attempt this was (1 for the first).
    public var attempt: Int
    /// The HTTP status, or `nil` when there was no response.
    public var status: Int?
    /// What happened.
    public var result: Result
    /// Why, for anything but `sent`: the status and body, or the network error.
    public var reason: String?
}
