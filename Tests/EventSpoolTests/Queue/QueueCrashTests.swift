import Foundation
import Testing
@testable import EventSpool

/// Crash safety of the queue itself: a child process is killed with SIGKILL mid-work.
///
/// `EVENTSPOOL_CRASH_ROUNDS` sets how many kills the torture test makes (default 8 for CI).
@Suite("Crash safety of the queue", .serialized)
struct QueueCrashTests {
    static var rounds: Int {
        ProcessInfo.processInfo.environment["EVENTSPOOL_CRASH_ROUNDS"].flatMap(Int.init) ?? 8
    }

    @Test func appendsThatReturnedSurviveSigkill() async throws {
        let folder = TemporaryFolder()
        let path = folder.file("events.sqlite")
        let acknowledged = try await KilledWriters.acknowledged(rounds: Self.rounds, lines: 50...2_000) { round in
            ["append", path, "100000", round % 2 == 0 ? "1" : "50"]
        }
        #expect(acknowledged.count > Self.rounds * 40)

        let raw = try RawDatabase(path)
        #expect(try raw.strings("PRAGMA integrity_check") == ["ok"])
        let stored = Set(try raw.strings("SELECT uuid FROM events"))
        let missing = acknowledged.subtracting(stored)
        #expect(missing.isEmpty, "\(missing.count) acknowledged events were lost")
        #expect(try raw.int("SELECT count(*) FROM events LEFT JOIN event_bodies ON event_id = id WHERE visitor_json IS NULL OR bytes <> length(CAST(visitor_json AS BLOB)) OR NOT json_valid(visitor_json) OR instr(visitor_json, uuid) = 0") == 0, "no torn row")
        #expect(try raw.int("SELECT events FROM totals WHERE state = 'pending'") == stored.count, "the totals agree with the rows")
    }

    @Test func batchOfAKilledWorkerIsClaimedAgainWithTheSameBytes() async throws {
        let folder = TemporaryFolder()
        let path = folder.file("events.sqlite")
        let clock = ManualEventClock(nowMillis: SystemEventClock().nowMillis())
        let queue = try QueueFixtures.open(path, clock: clock)
        _ = try queue.append(contentsOf: QueueFixtures.events(0..<25))

        let child = try ChildProcess("EventSpoolTestHelper", ["claim", path, "10", "30000"])
        let line = try #require(await child.readLine())
        let parts = line.split(separator: " ").map(String.init)
        #expect(parts.first == "claimed")
        let (batchId, bytes, uuids) = (Int64(parts[1]), Int(parts[2]), Array(parts[3...]))
        child.kill()

        // A queue on another host would have to wait for the lease...
        let stranger = try QueueFixtures.open(path, clock: clock)
        try RawDatabase(path).connection.run("UPDATE batches SET lease_owner = replace(lease_owner, ?, 'other-host') WHERE id = ?", [.text(queue.owner.host), .integer(batchId ?? 0)])
        let next = try #require(try stranger.claimNextBatch(limits: BatchLimits(maxEvents: 10), includeOpenBatch: true))
        #expect(next.id != batchId, "a live lease elsewhere is respected")
        try stranger.markSent(batchId: next.id, status: 204)
        // ...and once it expires, the batch comes back whole.
        // (The child stamped its lease with its own clock, a moment after ours started.)
        clock.advance(byMillis: 60_000)
        let again = try #require(try stranger.claimNextBatch(limits: BatchLimits(maxEvents: 10), includeOpenBatch: true))
        #expect(again.id == batchId)
        #expect(again.uuids == uuids)
        #expect(again.visitors.joined(separator: ",").utf8.count == bytes)
    }

    @Test func batchOfAKilledWorkerOnThisHostIsReclaimedWithoutWaiting() async throws {
        let folder = TemporaryFolder()
        let path = folder.file("events.sqlite")
        let queue = try QueueFixtures.open(path)
        _ = try queue.append(contentsOf: QueueFixtures.events(0..<5))
        let child = try ChildProcess("EventSpoolTestHelper", ["claim", path, "10", "600000"])
        let line = try #require(await child.readLine())
        let uuids = Array(line.split(separator: " ").dropFirst(3).map(String.init))
        #expect(uuids.count == 5)
        child.kill()
        let again = try #require(try queue.claimNextBatch(limits: BatchLimits(maxEvents: 10), includeOpenBatch: true))
        #expect(again.uuids == uuids)
    }
}
