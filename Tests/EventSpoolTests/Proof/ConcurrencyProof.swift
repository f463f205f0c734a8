import EventSpoolCollector
import Foundation
import Testing
@testable import EventSpool

extension ProofSuite {
    /// Issue 6, parts 5 and 6: two worker processes on one file, and many threads calling
    /// `process` while the worker runs.
    ///
    /// Knobs: `EVENTSPOOL_TWO_PROCESS_EVENTS` (CI 20,000, long 200,000) and
    /// `EVENTSPOOL_THREAD_CALLS` (calls per task, 8 tasks; CI 10,000, long 50,000).
    ///
    /// Under ThreadSanitizer: `swift test --disable-xctest --sanitize=thread --filter ConcurrencyProof`.
    @Suite("Proof: concurrency")
    struct ConcurrencyProof {
        let folder = TemporaryFolder()
        var db: String { folder.file("events.sqlite") }

        @Test(.timeLimit(.minutes(10)))
        func twoWorkerProcessesOnOneFileSendEachEventOnceAndNeverSeeLocked() async throws {
            let total = ProofKnob.twoProcessEvents
            let queue = try EventQueue(path: db)
            var index = 0
            while index < total {
                let range = index..<min(total, index + 5_000)
                _ = try queue.append(contentsOf: range.map { QueueFixtures.event($0, uuid: Proof.uuid(7, $0)) })
                index = range.upperBound
            }
            queue.close()

            let collector = try await Collector.start()
            let arguments = ["run", "--db", db, "--until-empty", "--endpoint", collector.url.absoluteString, "--batch-size", "50", "--verbose"]
            let started = Date()
            // Both at once, each read to its end on its own thread, so neither blocks on a full pipe.
            async let firstResult = Proof.eventspool(arguments)
            async let secondResult = Proof.eventspool(arguments)
            let results = try await [firstResult, secondResult]
            let seconds = Date().timeIntervalSince(started)
            for result in results {
                #expect(result.status == 0, "\(result.stderr.suffix(500))")
                #expect(!result.stderr.lowercased().contains("locked"), "database is locked never surfaces")
                #expect(!result.stderr.lowercased().contains("busy"))
                #expect(!result.stderr.contains("error"), "\(result.stderr.suffix(500))")
            }

            let accepted = await collector.acceptedUUIDs
            #expect(accepted.count == total, "none sent by both: \(accepted.count - Set(accepted).count) duplicates")
            #expect(Set(accepted) == Set((0..<total).map { Proof.uuid(7, $0) }), "each event delivered")
            let stats = try await Proof.statsJSON(db)
            #expect(stats["sent"] == total && stats["pending"] == 0 && stats["inflight"] == 0)
            print("two processes: \(total) events in \(String(format: "%.1f", seconds)) s, \(await collector.requests.count) requests")
            try await collector.shutdown()
        }

        @Test(.timeLimit(.minutes(10)))
        func eightTasksProcessingWhileTheWorkerRunsGiveExactCounts() async throws {
            let calls = ProofKnob.threadCalls
            let tasks = 8
            let dispatcher = ScriptedDispatcher()
            var settings = ProcessorConfiguration()
            settings.batchSize = 100
            settings.flushInterval = 0.05
            let processor = try BatchEventProcessor(queuePath: db, configuration: settings, dispatcher: dispatcher)
            processor.start()
            let started = Date()
            let refused = try await withThrowingTaskGroup(of: Int.self) { group in
                for task in 0..<tasks {
                    // `process` is synchronous (a SQLite commit): each caller gets a thread of its
                    // own, as an application's request handlers would, and the few threads of
                    // Swift concurrency stay free for the worker and the other tests.
                    group.addTask {
                        await offThePool {
                            var refused = 0
                            for call in 0..<calls {
                                do {
                                    try processor.process(QueueFixtures.event(call, uuid: Proof.uuid(100 + task, call)))
                                } catch {
                                    refused += 1
                                }
                            }
                            return refused
                        }
                    }
                }
                // A reader alongside: stats and listings while everything is being written.
                group.addTask {
                    var reads = 0
                    while (try processor.queue.stats().sent) < tasks * calls && reads < 100_000 {
                        _ = try processor.queue.list(state: .pending, limit: 10)
                        reads += 1
                        try await Task.sleep(nanoseconds: 5_000_000)
                    }
                    return 0
                }
                return try await group.reduce(0, +)
            }
            #expect(refused == 0)
            try await processor.flushAndWait()
            #expect(try processor.queue.stats().sent == tasks * calls)
            await processor.stop()
            let seconds = Date().timeIntervalSince(started)

            let sent = dispatcher.batches.flatMap { $0 }
            #expect(sent.count == tasks * calls, "every event delivered once")
            #expect(Set(sent).count == tasks * calls)
            let stats = try processor.queue.stats()
            #expect(stats.sent == tasks * calls && stats.eventsSent == tasks * calls)
            #expect(stats.batchesSent == dispatcher.requests.count)
            #expect(stats.pending == 0 && stats.inflight == 0 && stats.dead == 0)
            print("threads: \(tasks) × \(calls) process calls in \(String(format: "%.1f", seconds)) s, \(dispatcher.requests.count) requests")
        }
    }
}
