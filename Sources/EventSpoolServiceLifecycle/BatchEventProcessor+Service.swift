public import EventSpool
public import ServiceLifecycle

/// A ``EventSpool/BatchEventProcessor`` is a swift-service-lifecycle `Service`: in a
/// `ServiceGroup`, SIGTERM and SIGINT stop it gracefully (spec §7).
///
/// ```swift
/// import EventSpool
/// import EventSpoolServiceLifecycle
/// import ServiceLifecycle
///
/// let processor = try BatchEventProcessor(queuePath: "events.sqlite")
/// let group = ServiceGroup(services: [processor], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
/// try await group.run()
/// ```
extension BatchEventProcessor: Service {
    /// Runs the processor as a `Service`: starts it, and on graceful shutdown (SIGTERM, SIGINT
    /// in a `ServiceGroup`) or cancellation stops it as `stop()` does: what is pending is sent,
    /// waiting at most `timeoutInterval`.
    public func run() async throws {
        start()
        try? await gracefulShutdown()
        await stop()
    }
}
