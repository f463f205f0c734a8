import Foundation
import Testing
@testable import EventSpool

/// The async face of `process` (issue 13): the same durable write, run off Swift's cooperative
/// pool.
@Suite("BatchEventProcessor's async process")
struct ProcessorAsyncTests {
    let folder = TemporaryFolder()
    var path: String { folder.file("events.sqlite") }

    @Test func anAwaitedEventIsInTheFileWhenTheCallReturns() async throws {
        let processor = BatchEventProcessor(queue: try QueueFixtures.open(path), dispatcher: ScriptedDispatcher())
        let reader = try QueueFixtures.open(path)  // another connection: it sees only what was committed
        for index in 0..<5 {
            try await processor.process(QueueFixtures.event(index))
            #expect(try reader.list(state: .pending).map(\.uuid).last == QueueFixtures.event(index).uuid)
        }
        let outcomes = try await processor.process(contentsOf: [QueueFixtures.event(4)] + QueueFixtures.events(5..<8))
        #expect(outcomes.first == .duplicate)
        #expect(outcomes.dropFirst().allSatisfy { if case .appended = $0 { true } else { false } })
        #expect(try reader.stats().pending == 8)
    }

    @Test func aUserEventAndACallsEventsGoInAwaitedToo() async throws {
        let config = try ConformanceFixtures.config
        let factory = UserEventFactory(config: config)
        let processor = BatchEventProcessor(queue: try QueueFixtures.open(path), dispatcher: ScriptedDispatcher())
        try await processor.process(try factory.makeConversion(eventKey: "purchase", userId: "alice"))
        try await processor.process(contentsOf: [
            try factory.makeConversion(eventKey: "purchase", userId: "bob"),
            try factory.makeConversion(eventKey: "purchase", userId: "carol"),
        ])
        #expect(try QueueFixtures.open(path).list().map(\.userId) == ["alice", "bob", "carol"])
    }

    @Test func awaitedProcessAfterStopIsRefused() async throws {
        let processor = BatchEventProcessor(queue: try QueueFixtures.open(path), dispatcher: ScriptedDispatcher())
        await processor.stop()
        await #expect(throws: ProcessorError.stopped) { try await processor.process(QueueFixtures.event(1)) }
        #expect(try QueueFixtures.open(path).stats().pending == 0)
    }

    @Test func aTaskCancelledBeforeItsWriteWritesNothing() async throws {
        let processor = BatchEventProcessor(queue: try QueueFixtures.open(path), dispatcher: ScriptedDispatcher())
        let outcome = await Task { () -> ProcessorError? in
            withUnsafeCurrentTask { $0?.cancel() }
            do {
                try await processor.process(QueueFixtures.event(1))
                return nil
            } catch {
                return error as? ProcessorError
            }
        }.value
        #expect(outcome == .cancelled)
        #expect(try QueueFixtures.open(path).stats().pending == 0)
    }

    /// The proof that the writes leave the pool: another connection holds the file's write lock,
    /// so every write waits (a busy file). More callers than the cooperative pool has threads
    /// all get to call `process` and wait suspended; had each blocked its thread, the later ones
    /// could not even start, nor could this test's own task go on. Then the lock goes, and every
    /// event is written.
    @Test(.timeLimit(.minutes(2)))
    func writesWaitingForABusyFileLeaveThePoolFree() async throws {
        let queue = try QueueFixtures.open(path)
        let processor = BatchEventProcessor(queue: queue, dispatcher: ScriptedDispatcher())
        let lock = try SQLiteConnection(path: path, readOnly: false, create: false)
        try lock.execute("BEGIN IMMEDIATE")
        let callers = ProcessInfo.processInfo.activeProcessorCount * 2 + 2
        let started = StartedCallers(expected: callers)
        let writes = (0..<callers).map { index in
            Task {
                started.arrive()
                try await processor.process(QueueFixtures.event(index))
            }
        }
        await started.all()
        #expect(try RawDatabase(path).int("SELECT count(*) FROM events") == 0, "nothing can be written while the lock is held")
        try lock.execute("ROLLBACK")
        for write in writes { try await write.value }
        #expect(try queue.stats().pending == callers)
        lock.close()
    }

    /// The worker's own SQLite calls wait for a busy file off the pool too. More processors
    /// than the cooperative pool has threads each start a worker on a file whose write lock
    /// another connection holds, so each worker's first claim waits for it; had each waited on
    /// a thread of the pool, the callers started after them could not all run. Then the lock
    /// goes, and the queued events are sent, each once.
    @Test(.timeLimit(.minutes(2)))
    func workersWaitingForABusyFileLeaveThePoolFree() async throws {
        let seeded = try QueueFixtures.open(path)
        _ = try seeded.append(contentsOf: QueueFixtures.events(0..<3))
        let dispatcher = ScriptedDispatcher()
        let width = ProcessInfo.processInfo.activeProcessorCount * 2 + 2
        // Opened before the lock is taken: opening a queue writes too (its migrations).
        let processors = try (0..<width).map { _ in BatchEventProcessor(queue: try QueueFixtures.open(path), dispatcher: dispatcher) }
        let lock = try SQLiteConnection(path: path, readOnly: false, create: false)
        try lock.execute("BEGIN IMMEDIATE")
        for processor in processors { processor.start() }
        let started = StartedCallers(expected: width)
        let callers = (0..<width).map { _ in Task { started.arrive() } }
        await started.all()
        for caller in callers { await caller.value }
        try lock.execute("ROLLBACK")
        lock.close()
        for processor in processors { await processor.stop() }
        #expect(dispatcher.batches.flatMap { $0 }.sorted() == QueueFixtures.events(0..<3).map(\.uuid).sorted())
        #expect(try seeded.stats().sent == 3)
    }

    @Test func awaitedWritesThatReturnedSurviveSigkill() async throws {
        let acknowledged = try await KilledWriters.acknowledged(rounds: max(2, QueueCrashTests.rounds / 2), lines: 50...1_000) { _ in
            ["process-async", path, "100000"]
        }
        #expect(acknowledged.count >= 100)
        let stored = Set(try RawDatabase(path).strings("SELECT uuid FROM events"))
        let missing = acknowledged.subtracting(stored)
        #expect(missing.isEmpty, "\(missing.count) events whose awaited process had returned were lost")
    }
}

/// Counts callers that have started, and lets a test wait until all of them have.
final class StartedCallers: Sendable {
    private let state: LockedValue<(count: Int, waiter: CheckedContinuation<Void, Never>?)>
    private let expected: Int

    init(expected: Int) {
        self.expected = expected
        state = LockedValue((0, nil))
    }

    func arrive() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.count += 1
            guard state.count == expected else { return nil }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func all() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state in
                if state.count >= expected { return true }
                state.waiter = continuation
                return false
            }
            if done { continuation.resume() }
        }
    }
}
