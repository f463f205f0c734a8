/// Where the client hands its user events: the durable ``BatchEventProcessor`` in production,
/// anything else (a recorder in a test, a queue without a worker) where that fits.
///
/// ```swift
/// let processor = try BatchEventProcessor(queuePath: "events.sqlite")
/// let client = try OptimizelyClient(datafile: datafile, eventProcessor: processor)
/// ```
public protocol EventProcessor: Sendable {
    /// Takes one impression or conversion. A throw is logged by the client and does not change
    /// the decision (the reference's processor never fails a call either).
    func process(_ event: UserEvent) throws(ProcessorError)

    /// Takes the events of one call (the impressions of `decide(keys:)` or `decideAll`), in
    /// order. By default each is processed alone; a processor that can take them together (in
    /// one transaction, say) does.
    func process(contentsOf events: [UserEvent]) throws(ProcessorError)
}

extension EventProcessor {
    /// Processes each event in turn; the first failure is thrown after all were tried.
    public func process(contentsOf events: [UserEvent]) throws(ProcessorError) {
        var failure: ProcessorError?
        for event in events {
            do { try process(event) } catch { failure = failure ?? error }
        }
        if let failure { throw failure }
    }
}

/// The durable processor: each event is in SQLite when `process` returns, and the events of one
/// call are written in one transaction.
extension BatchEventProcessor: EventProcessor {
    /// Writes the events in one transaction; an event the queue refused (at its bound, or a
    /// repeated uuid) is thrown after the others were written.
    public func process(contentsOf events: [UserEvent]) throws(ProcessorError) {
        let outcomes = try process(contentsOf: events.map { $0.serialized() })
        for (event, outcome) in zip(events, outcomes) {
            switch outcome {
            case .appended: continue
            case .duplicate: throw .queue(.duplicateEvent(uuid: event.uuid))
            case .rejectedFull: throw .queue(.full(maxEvents: queue.configuration.maxEvents, maxBytes: queue.configuration.maxBytes))
            }
        }
    }
}
