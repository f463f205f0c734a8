import EventSpoolCollector
import Foundation
@testable import EventSpool

/// A processor sending over real HTTP to an in-process ``Collector`` on a free loopback port.
struct HTTPRig {
    let collector: Collector
    let dispatcher: HTTPEventDispatcher
    let processor: BatchEventProcessor

    /// Starts a collector with `plan` and a processor on the queue at `path` that sends to it.
    static func start(
        path: String, plan: String = "200", configure: (inout ProcessorConfiguration) -> Void = { _ in },
        requestTimeout: Double = 5, center: EventNotificationCenter = EventNotificationCenter()
    ) async throws -> HTTPRig {
        let collector = try await Collector.start(plan: try FaultPlan(parsing: plan))
        var settings = ProcessorConfiguration()
        settings.flushInterval = 3_600
        settings.retry = RetryPolicy(baseDelay: 0.01, maxDelay: 0.05, maxAttempts: 8, maxAge: 3_600)
        configure(&settings)
        var dispatch = HTTPEventDispatcher.Configuration()
        dispatch.endpoint = collector.url.absoluteString
        dispatch.requestTimeout = requestTimeout
        let dispatcher = try HTTPEventDispatcher(configuration: dispatch)
        let processor = try BatchEventProcessor(
            queuePath: path, configuration: settings, dispatcher: dispatcher, notificationCenter: center
        )
        return HTTPRig(collector: collector, dispatcher: dispatcher, processor: processor)
    }

    /// Stops the processor, the client and the collector.
    func shutdown() async throws {
        await processor.stop()
        try await dispatcher.shutdown()
        try await collector.shutdown()
    }

    /// The uuids of every request the collector received, request by request.
    var requestedBatches: [[String]] {
        get async { await collector.requests.map { $0.batch?.uuids ?? [] } }
    }
}
