public import EventSpool
public import ServiceLifecycle

/// An ``EventSpool/OptimizelyClient`` is a swift-service-lifecycle `Service`: in a
/// `ServiceGroup`, it starts (its processor's worker and live datafile updates), and SIGTERM or
/// SIGINT closes it gracefully (polling stops, then the processor as spec §7 says).
///
/// ```swift
/// import EventSpool
/// import EventSpoolServiceLifecycle
/// import ServiceLifecycle
///
/// let client = try OptimizelyClient(source: .sdkKey("VivZyCGPHY369D4z8T9yG"), queuePath: "events.sqlite", logger: logger)
/// let group = ServiceGroup(services: [client, httpServer], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
/// try await group.run()
/// ```
extension OptimizelyClient: Service {
    /// Runs the client as a `Service`: ``EventSpool/OptimizelyClient/start()`` (waiting at most
    /// the blocking timeout for the first datafile), then, on graceful shutdown or cancellation,
    /// ``EventSpool/OptimizelyClient/close()``. A graceful shutdown that comes while `start()`
    /// still waits for the first datafile closes the client at once, which ends the wait.
    public func run() async throws {
        _ = await withGracefulShutdownHandler {
            await start()
        } onGracefulShutdown: {
            // `close()` stops polling, which ends `start()`'s wait for the first datafile.
            Task { await self.close() }
        }
        try? await gracefulShutdown()
        await close()
    }
}
