import Foundation
import Synchronization
import Testing
@testable import EventSpool

/// A running processor and another process on the same file (spec §7): the other process's
/// appends are seen, and a lease holds for as long as its request is out. The other process is
/// the test helper executable, a real child process.
@Suite("A processor and another process on one file")
struct ProcessorTwoProcessTests {
    let folder = TemporaryFolder()
    var path: String { folder.file("events.sqlite") }

    func makeProcessor(
        _ dispatcher: any EventDispatcher, batchSize: Int = 10, flushInterval: Double = 3_600, maxInFlight: Int = 4,
        lease: Double = 15, center: EventNotificationCenter
    ) throws -> BatchEventProcessor {
        var settings = ProcessorConfiguration()
        settings.batchSize = batchSize
        settings.flushInterval = flushInterval
        settings.maxRequestsInFlight = maxInFlight
        settings.leaseInterval = lease
        return try BatchEventProcessor(queuePath: path, configuration: settings, dispatcher: dispatcher, notificationCenter: center)
    }

    /// `EventSpoolTestHelper append DB COUNT COUNT`: COUNT events appended in one group by
    /// another process; returns their uuids.
    func appendFromAnotherProcess(_ count: Int) async throws -> [String] {
        let result = await (try ChildProcess("EventSpoolTestHelper", ["append", path, "\(count)", "\(count)"])).finish()
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout.split(separator: "\n").compactMap { $0.hasPrefix("ok ") ? String($0.dropFirst(3)) : nil }
    }

    @Test func fullBatchesAppendedByAnotherProcessAreSentAtOnce() async throws {
        let center = EventNotificationCenter()
        let posted = PostedNotifications(center)
        let processor = try makeProcessor(ScriptedDispatcher(), center: center)
        processor.start()
        await processor.worker.idle()
        let uuids = try await appendFromAnotherProcess(100)
        let appended = Date()
        // Ten full batches: sent without waiting for the flush interval (an hour). The bound only
        // ends a test that would otherwise wait that hour.
        #expect(await posted.waitForOutcomes(10, within: 30))
        print("another process's 100 events sent \(String(format: "%.3f", Date().timeIntervalSince(appended))) s after its append returned")
        #expect(Set(posted.batches.flatMap { $0 }) == Set(uuids))
        await processor.stop()
    }

    @Test func partialBatchAppendedByAnotherProcessIsSentByTheFlushInterval() async throws {
        let center = EventNotificationCenter()
        let posted = PostedNotifications(center)
        let sentAt = LockedValue<[Date]>([])
        center.addListener(for: .logEvent) { _ in sentAt.withLock { $0.append(Date()) } }
        let processor = try makeProcessor(ScriptedDispatcher(), flushInterval: 0.5, center: center)
        processor.start()
        await processor.worker.idle()
        let uuids = try await appendFromAnotherProcess(3)
        #expect(await posted.waitForOutcomes(1, within: 30))
        #expect(posted.batches == [uuids])
        // Never before the interval (a loaded machine only makes it later).
        let enqueued = try #require(try processor.queue.list().map(\.enqueuedAtMillis).min())
        let waited = try #require(sentAt.withLock { $0.first }).timeIntervalSince1970 * 1000 - Double(enqueued)
        #expect(waited >= 490, "sent \(waited) ms after it was queued, with a 500 ms flush interval")
        await processor.stop()
    }

    @Test func requestSlowerThanTheLeaseKeepsItsBatchFromASecondProcess() async throws {
        // The lease is 3 s; this process's dispatcher takes 7 s a request. Its worker renews the
        // lease every second while the request is out, so the other process, sending everything
        // it can, never takes that batch: each event is sent once. (The lease is not shorter so
        // that a loaded machine, which may keep the worker from running for a moment, still
        // renews in time: a renewal has 2 s to come.)
        let events = 40
        let writer = try EventQueue(path: path)
        _ = try writer.append(contentsOf: (0..<events).map { QueueFixtures.event($0, uuid: Proof.uuid(7, $0)) })
        writer.close()

        let center = EventNotificationCenter()
        let posted = PostedNotifications(center)
        let slow = SlowDispatcher(delayNanoseconds: 7_000_000_000)
        let processor = try makeProcessor(slow, batchSize: 5, maxInFlight: 1, lease: 3, center: center)
        processor.start()
        #expect(await posted.waitForLogEvents(1))

        let child = try ChildProcess("EventSpoolTestHelper", ["send", path, "5", "3000"])
        // The slow request ends (no sooner than its 7 s) once the other process has sent a batch.
        let first = await child.readLine()
        slow.open()
        let result = await child.finish()
        #expect(result.status == 0, "\(result.stderr)")
        let sentByChild = ([first].compactMap { $0 } + result.stdout.split(separator: "\n").map(String.init))
            .compactMap { $0.hasPrefix("sent ") ? String($0.dropFirst(5)) : nil }
        try await processor.flushAndWait()
        await processor.stop()

        let sentHere = slow.uuids
        let all = sentHere + sentByChild
        #expect(all.count == events, "each event once: \(sentHere.count) here, \(sentByChild.count) by the other process")
        #expect(Set(all) == Set((0..<events).map { Proof.uuid(7, $0) }))
        #expect(!sentHere.isEmpty && !sentByChild.isEmpty, "both processes sent")
        let stats = try processor.queue.stats()
        #expect(stats.sent == events && stats.leasesRecovered == 0)
    }
}

/// Answers 204 after a delay and once ``open()`` was called, keeping the uuids of every
/// request it answered.
final class SlowDispatcher: EventDispatcher {
    let delayNanoseconds: UInt64
    private let state = Mutex<(answered: [String], open: Bool, waiting: [CheckedContinuation<Void, Never>])>(([], false, []))

    init(delayNanoseconds: UInt64) {
        self.delayNanoseconds = delayNanoseconds
    }

    var uuids: [String] { state.withLock { $0.answered } }

    /// Lets requests end (each no sooner than its delay).
    func open() {
        let waiting = state.withLock { state in
            state.open = true
            defer { state.waiting.removeAll() }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    func dispatch(_ logEvent: EventSpool.LogEvent) async throws -> DispatchResponse {
        try await Task.sleep(nanoseconds: delayNanoseconds)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state in
                if state.open { return true }
                state.waiting.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
        state.withLock { $0.answered += logEvent.uuids }
        return DispatchResponse(status: 204)
    }
}
