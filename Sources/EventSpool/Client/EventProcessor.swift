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
}

/// The durable processor: each event is in SQLite when `process` returns.
extension BatchEventProcessor: EventProcessor {}
