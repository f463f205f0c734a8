import EventSpoolCollector
import Foundation
import Logging
import Testing
@testable import EventSpool

/// The proof suite of issue 6. Its suites run one at a time (beside the rest of the tests):
/// several of them load both cores for seconds, and timing tests nearby would suffer.
@Suite("Proof", .serialized) enum ProofSuite {}

/// The knobs of the proof suite (issue 6): each test runs a short default in CI and a long run
/// when its environment variable is set, e.g. `EVENTSPOOL_TORTURE_KILLS=200 swift test --filter Proof`.
///
/// | variable | CI default | long run |
/// | --- | --- | --- |
/// | `EVENTSPOOL_TORTURE_KILLS` | 10 | 200 |
/// | `EVENTSPOOL_OUTAGE_SECONDS` | 3 | 30 |
/// | `EVENTSPOOL_TWO_PROCESS_EVENTS` | 20,000 | 200,000 |
/// | `EVENTSPOOL_THREAD_CALLS` (per task, 8 tasks) | 10,000 | 50,000 |
/// | `EVENTSPOOL_FUZZ_CASES` (per input kind) | 3,000 | 200,000 |
/// | `EVENTSPOOL_CORRUPTION_ROUNDS` | 6 | 200 |
/// | `EVENTSPOOL_PROOF_SEED` (seed of the torture, fuzz and corruption choices) | 0x5EED0006 | any |
enum ProofKnob {
    static func int(_ name: String, ci: Int) -> Int {
        ProcessInfo.processInfo.environment[name].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }.map { max(1, $0) } ?? ci
    }

    static var tortureKills: Int { int("EVENTSPOOL_TORTURE_KILLS", ci: 10) }
    static var outageSeconds: Int { int("EVENTSPOOL_OUTAGE_SECONDS", ci: 3) }
    static var twoProcessEvents: Int { int("EVENTSPOOL_TWO_PROCESS_EVENTS", ci: 20_000) }
    static var threadCalls: Int { int("EVENTSPOOL_THREAD_CALLS", ci: 10_000) }
    static var fuzzCases: Int { int("EVENTSPOOL_FUZZ_CASES", ci: 3_000) }
    static var corruptionRounds: Int { int("EVENTSPOOL_CORRUPTION_ROUNDS", ci: 6) }
    static var seed: UInt64 {
        ProcessInfo.processInfo.environment["EVENTSPOOL_PROOF_SEED"].flatMap { UInt64($0) } ?? 0x5EED_0006
    }
}

/// Shared pieces of the proof tests: the conformance datafile, JSON Lines for `enqueue`, the
/// `eventspool` binary, and a processor wired to a real HTTP dispatcher.
enum Proof {
    static var datafilePath: String { ConformanceFixtures.directory.appendingPathComponent("datafile.json").path }

    /// A uuid (v4 shape, lower case) that names a test-controlled event.
    static func uuid(_ group: Int, _ index: Int) -> String {
        String(format: "%08x-0000-4000-8000-%012x", group, index)
    }

    /// One `enqueue` input line: a conversion of the datafile's `purchase` event.
    static func conversionLine(uuid: String, index: Int) -> String {
        #"{"op": "conversion", "user_id": "proof-user-\#(index)", "event_key": "purchase", "attributes": {"age": \#(index % 90)}, "tags": {"revenue": \#(index)}, "uuid": "\#(uuid)", "timestamp": \#(1_700_000_000_000 + index)}"#
    }

    /// `eventspool ARGUMENTS` to its end, waited for off the pool.
    static func eventspool(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
        await (try ChildProcess("eventspool", arguments)).finish()
    }

    /// `eventspool stats --db DB --json`, its integer members.
    static func statsJSON(_ db: String) async throws -> [String: Int] {
        let result = try await eventspool(["stats", "--db", db, "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
        return object.compactMapValues { $0 as? Int }
    }

    /// A processor over `path` whose dispatcher is a real ``HTTPEventDispatcher`` aimed at `endpoint`.
    static func httpProcessor(
        path: String, endpoint: URL, batchSize: Int = 10, flushInterval: Double = 3_600, requestTimeout: Double = 5,
        retry: RetryPolicy = RetryPolicy(baseDelay: 0.02, maxDelay: 0.1, maxAttempts: 8, maxAge: 3_600),
        center: EventNotificationCenter = EventNotificationCenter(), logger: Logger = UserEventFactory.silentLogger,
        queueConfiguration: QueueConfiguration = QueueConfiguration()
    ) throws -> (BatchEventProcessor, HTTPEventDispatcher) {
        var dispatch = HTTPEventDispatcher.Configuration()
        dispatch.endpoint = endpoint.absoluteString
        dispatch.requestTimeout = requestTimeout
        dispatch.connectTimeout = min(1, requestTimeout)
        let dispatcher = try HTTPEventDispatcher(configuration: dispatch)
        var settings = ProcessorConfiguration()
        settings.batchSize = batchSize
        settings.flushInterval = flushInterval
        settings.retry = retry
        settings.timeoutInterval = 3
        settings.leaseInterval = requestTimeout + 5
        var queueConfiguration = queueConfiguration
        queueConfiguration.logger = logger
        let queue = try EventQueue(path: path, configuration: queueConfiguration)
        let processor = BatchEventProcessor(queue: queue, configuration: settings, dispatcher: dispatcher, notificationCenter: center, logger: logger)
        return (processor, dispatcher)
    }

    /// Stops the processor, then its dispatcher (which the processor does not own).
    static func stop(_ processor: BatchEventProcessor, _ dispatcher: HTTPEventDispatcher) async {
        await processor.stop()
        try? await dispatcher.shutdown()
    }

    /// A port on loopback with nothing listening (a collector started and shut down).
    static func deadPort() async throws -> Int {
        let collector = try await Collector.start()
        let port = collector.port
        try await collector.shutdown()
        return port
    }
}

/// The notifications a processor posted, with the time each was posted.
final class NotificationLog: Sendable {
    private let store = LockedValue<[(at: Date, notification: ProcessorNotification)]>([])

    init(_ center: EventNotificationCenter) {
        for type in [NotificationType.logEvent, .dispatchOutcome] {
            center.addListener(for: type) { [store] notification in
                store.withLock { $0.append((Date(), notification)) }
            }
        }
    }

    /// When each request was about to go out.
    var dispatchTimes: [Date] {
        store.withLock { $0.compactMap { if case .logEvent = $0.notification { $0.at } else { nil } } }
    }

    /// Every dispatch outcome, with when it was recorded.
    var outcomes: [(at: Date, outcome: DispatchOutcome)] {
        store.withLock { $0.compactMap { if case .dispatchOutcome(let outcome) = $0.notification { ($0.at, outcome) } else { nil } } }
    }
}
