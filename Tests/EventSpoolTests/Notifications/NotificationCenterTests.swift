import Foundation
import Testing
@testable import EventSpool

/// Spec §8: listener ids, no duplicate listeners, a failing listener does not stop the worker.
@Suite("Notifications")
struct NotificationCenterTests {
    final class Recorder: ProcessorListener {
        let seen = LockedValue<[NotificationType]>([])
        func handle(_ notification: ProcessorNotification) throws { seen.withLock { $0.append(notification.type) } }
    }

    struct Boom: Error {}

    @Test func listenersGetIdsAndTheSameListenerTwiceIsRefused() throws {
        let center = EventNotificationCenter()
        let recorder = Recorder()
        let first = try center.addListener(recorder, for: .logEvent)
        #expect(throws: NotificationError.alreadyAdded(type: .logEvent, id: first)) { try center.addListener(recorder, for: .logEvent) }
        let second = try center.addListener(recorder, for: .configUpdate)
        let closure = center.addListener(for: .configUpdate) { _ in }
        #expect(Set([first, second, closure]).count == 3)
        center.post(.configUpdate(revision: "9"))
        #expect(recorder.seen.withLock { $0 } == [.configUpdate])
        #expect(center.removeListener(id: second))
        #expect(!center.removeListener(id: second))
        center.post(.configUpdate(revision: "10"))
        #expect(recorder.seen.withLock { $0 } == [.configUpdate])
    }

    @Test func throwingListenerIsLoggedAndTheOthersStillRun() {
        let log = LogCapture()
        let center = EventNotificationCenter(logger: log.logger)
        let calls = Counter()
        center.addListener(for: .configUpdate) { _ in throw Boom() }
        center.addListener(for: .configUpdate) { _ in calls.increment() }
        center.post(.configUpdate(revision: "2"))
        #expect(calls.value == 1)
        #expect(log.entries.contains { $0.level == .warning && $0.message.contains("listener failed") })
    }

    @Test func workerGoesOnWhenAListenerThrows() async throws {
        let folder = TemporaryFolder()
        let center = EventNotificationCenter()
        center.addListener(for: .logEvent) { _ in throw Boom() }
        center.addListener(for: .dispatchOutcome) { _ in throw Boom() }
        let outcomes = LockedValue<[DispatchOutcome]>([])
        center.addListener(for: .dispatchOutcome) { notification in
            if case .dispatchOutcome(let outcome) = notification { outcomes.withLock { $0.append(outcome) } }
        }
        var settings = ProcessorConfiguration()
        settings.batchSize = 2
        settings.retry = RetryPolicy(baseDelay: 0.01, maxDelay: 0.01, maxAttempts: 5, maxAge: 3_600)
        let dispatcher = ScriptedDispatcher([.status(503, body: "busy")])
        let processor = try BatchEventProcessor(
            queuePath: folder.file("events.sqlite"), configuration: settings, dispatcher: dispatcher, notificationCenter: center
        )
        let posted = PostedNotifications(center)
        processor.start()
        for index in 0..<4 { try await processor.process(QueueFixtures.event(index)) }
        #expect(await posted.waitForOutcomes(3), "a retry and two deliveries")
        #expect(try processor.queue.stats().sent == 4)
        let seen = outcomes.withLock { $0 }
        #expect(seen.count == 3, "a retry and two deliveries: \(seen)")
        // Both batches go out at once; whichever got the 503 was retried.
        let failed = try #require(seen.first { $0.status == 503 })
        if case .retryScheduled = failed.result {} else { Issue.record("the 503 is a scheduled retry: \(failed)") }
        #expect(failed.reason == "HTTP 503: busy")
        #expect(seen.filter { $0.result == .sent }.flatMap(\.uuids).count == 4)
        await processor.stop()
    }
}
