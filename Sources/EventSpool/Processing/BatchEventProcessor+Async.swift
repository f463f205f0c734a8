/// The async face of `process`: the same writes, run off Swift's cooperative pool.
///
/// In async code (a server's request handler, an actor, a `Task`), `try await
/// processor.process(event)` is the one to call: the SQLite commit, and on a busy file the wait
/// for another process's lock, run on the processor's own serial queue while the task is
/// suspended, so the cooperative pool's threads (one per core) stay free for other tasks. The
/// synchronous `process` is for code that is not async (a callback, a thread of your own); called
/// on the pool it blocks a pool thread for the commit, which the compiler steers async code away
/// from: in an async context an un-awaited `process` call does not compile.
///
/// Both write the event before they return: durable when the call returns, whichever is used.
extension BatchEventProcessor {
    /// Writes `event` to the queue off the cooperative pool; it is durable when this returns,
    /// and will be sent.
    ///
    /// - Throws: ``ProcessorError/cancelled`` when the task was cancelled before the write
    ///   began (nothing was written); otherwise as ``process(_:)-60ovx``.
    public func process(_ event: UserEvent) async throws(ProcessorError) {
        try await process(event.serialized())
    }

    /// Writes an already serialized event to the queue off the cooperative pool; durable when
    /// this returns.
    ///
    /// - Throws: ``ProcessorError/cancelled`` when the task was cancelled before the write
    ///   began; otherwise as ``process(_:)-66yy1``.
    public func process(_ event: SerializedEvent) async throws(ProcessorError) {
        try await writes.run { () throws(ProcessorError) in try self.process(event) }
    }

    /// Writes many serialized events in one transaction off the cooperative pool; all are
    /// durable when this returns.
    ///
    /// - Returns: what happened to each event, in order (appended, a duplicate, or refused at
    ///   a bound).
    /// - Throws: ``ProcessorError/cancelled`` when the task was cancelled before the write
    ///   began; otherwise as ``process(contentsOf:)-67ofk``.
    @discardableResult
    public func process(contentsOf events: [SerializedEvent]) async throws(ProcessorError) -> [AppendOutcome] {
        try await writes.run { () throws(ProcessorError) in try self.process(contentsOf: events) }
    }

    /// Writes the events of one call (an OptimizelyClient's impressions, say) in one
    /// transaction off the cooperative pool; an event the queue refused is thrown after the
    /// others were written.
    public func process(contentsOf events: [UserEvent]) async throws(ProcessorError) {
        try await writes.run { () throws(ProcessorError) in try self.process(contentsOf: events) }
    }
}
