import Foundation
import Testing
@testable import EventSpool

@Suite("Several connections on one file")
struct QueueConcurrencyTests {
    @Test func concurrentWorkersNeverClaimTheSameEventAndNeverSeeLocked() async throws {
        let folder = TemporaryFolder()
        let path = folder.file("events.sqlite")
        let producer = try QueueFixtures.open(path)
        let total = 2_000
        _ = try producer.append(contentsOf: QueueFixtures.events(0..<total))

        // Separate connections contend for the write lock exactly as separate processes do.
        let workers = try (0..<3).map { _ in try QueueFixtures.open(path) { $0.busyTimeoutMillis = 10 } }
        let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
            for worker in workers {
                group.addTask {
                    var mine: [String] = []
                    while let batch = try worker.claimNextBatch(limits: BatchLimits(maxEvents: 7), includeOpenBatch: true) {
                        mine += batch.uuids
                        try worker.markSent(batchId: batch.id, status: 204)
                    }
                    return mine
                }
            }
            // Keep appending meanwhile, so claims race with writes too.
            group.addTask {
                _ = try producer.append(contentsOf: QueueFixtures.events(total..<(total + 500)))
                return []
            }
            var all: [String] = []
            for try await part in group { all += part }
            return all
        }
        // The producer's late events may land after every worker stopped; drain them.
        var rest: [String] = []
        while let batch = try workers[0].claimNextBatch(limits: BatchLimits(maxEvents: 7), includeOpenBatch: true) {
            rest += batch.uuids
            try workers[0].markSent(batchId: batch.id, status: 204)
        }
        let everything = claimed + rest
        #expect(everything.count == total + 500)
        #expect(Set(everything).count == everything.count, "no event was claimed twice")
        #expect(try producer.stats().sent == total + 500)
    }
}
