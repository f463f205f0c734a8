/// An event processor that keeps every event it is given, in order, and passes each on to
/// another processor when there is one: for tests, and for `eventspool decide`, which prints
/// each call's events.
///
/// ```swift
/// let recorder = RecordingEventProcessor()
/// let client = try OptimizelyClient(datafile: datafile, eventProcessor: recorder)
/// _ = client.createUserContext(userId: "alice").decide(key: "new_nav")
/// recorder.takeEvents()     // the impression
/// ```
public final class RecordingEventProcessor: EventProcessor {
    private let events = LockedValue<[UserEvent]>([])
    private let next: (any EventProcessor)?

    /// Creates a recorder that passes events on to `next` (none by default).
    public init(forwardingTo next: (any EventProcessor)? = nil) {
        self.next = next
    }

    /// Keeps the event, then passes it on; a failure of the next processor is thrown after the
    /// event was kept.
    public func process(_ event: UserEvent) throws(ProcessorError) {
        events.withLock { $0.append(event) }
        try next?.process(event)
    }

    /// Keeps the events, then passes them on together.
    public func process(contentsOf events: [UserEvent]) throws(ProcessorError) {
        self.events.withLock { $0.append(contentsOf: events) }
        try next?.process(contentsOf: events)
    }

    /// The events kept since the last call, in order; the recorder is empty afterwards.
    public func takeEvents() -> [UserEvent] {
        events.withLock { events in
            defer { events.removeAll(keepingCapacity: true) }
            return events
        }
    }
}
