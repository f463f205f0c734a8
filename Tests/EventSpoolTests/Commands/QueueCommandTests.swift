import Foundation
import Testing
@testable import EventSpool

/// The queue commands of cli.md, run as the built `eventspool` binary.
@Suite("eventspool stats, list, requeue, purge")
struct QueueCommandTests {
    let folder = TemporaryFolder()
    var path: String { folder.file("events.sqlite") }

    func eventspool(_ arguments: String...) async throws -> (status: Int32, stdout: String, stderr: String) {
        try await ChildProcess("eventspool", arguments).finish()
    }

    /// 1 sent, 1 dead, 2 pending; closed so that a reader sees a quiet file.
    func populate() throws {
        let queue = try QueueFixtures.open(path)
        _ = try queue.append(contentsOf: QueueFixtures.events(0..<4))
        let sent = try #require(try queue.claimNextBatch(limits: BatchLimits(maxEvents: 1), includeOpenBatch: true))
        try queue.markSent(batchId: sent.id, status: 204)
        let dead = try #require(try queue.claimNextBatch(limits: BatchLimits(maxEvents: 1), includeOpenBatch: true))
        try queue.deadLetter(batchId: dead.id, status: 400, reason: "HTTP 400: bad event")
        queue.close()
    }

    @Test func statsJsonHasTheCountsByState() async throws {
        try populate()
        let result = try await eventspool("stats", "--db", path, "--json")
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["pending"] as? Int == 2)
        #expect(object["inflight"] as? Int == 0)
        #expect(object["sent"] as? Int == 1)
        #expect(object["dead"] as? Int == 1)
        #expect(result.stdout.split(separator: "\n").count == 1)
    }

    @Test func statsTextNamesEveryFigure() async throws {
        try populate()
        let result = try await eventspool("stats", "--db", path)
        #expect(result.status == 0)
        for name in ["pending", "inflight", "sent", "dead", "oldest pending age", "batches sent", "retries"] {
            #expect(result.stdout.contains(name))
        }
    }

    @Test func listJsonLinesCarryTheContractKeys() async throws {
        try populate()
        let result = try await eventspool("list", "--db", path, "--json")
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 4)
        let objects = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        for object in objects {
            for key in ["id", "uuid", "kind", "user_id", "state", "attempts", "last_error", "batch_id", "url"] {
                #expect(object.keys.contains(key), "missing \(key)")
            }
        }
        #expect(objects.map { $0["state"] as? String } == ["sent", "dead", "pending", "pending"])
        #expect(objects[1]["last_error"] as? String == "HTTP 400: bad event")
        #expect(objects[0]["url"] as? String == "https://logx.optimizely.com/v1/events")
    }

    @Test func listFiltersAndLimits() async throws {
        try populate()
        let pending = try await eventspool("list", "--db", path, "--state", "pending", "--json")
        #expect(pending.stdout.split(separator: "\n").count == 2)
        let limited = try await eventspool("list", "--db", path, "--limit", "1", "--json")
        #expect(limited.stdout.split(separator: "\n").count == 1)
        let unlimited = try await eventspool("list", "--db", path, "--limit", "0")
        #expect(unlimited.stdout.split(separator: "\n").count == 5, "a header line and 4 rows")
    }

    @Test func requeueThenPurge() async throws {
        try populate()
        let requeue = try await eventspool("requeue", "--db", path)
        #expect(requeue.status == 0 && requeue.stdout == "requeued 1\n")
        let purge = try await eventspool("purge", "--db", path, "--sent", "--dead")
        #expect(purge.status == 0 && purge.stdout == "purged 1\n")
        let old = try await eventspool("purge", "--db", path, "--sent", "--older-than", "3600")
        #expect(old.stdout == "purged 0\n")
        let stats = try QueueFixtures.open(path).stats()
        #expect((stats.pending, stats.sent, stats.dead) == (3, 0, 0))
    }

    @Test func readCommandsNeverChangeTheFile() async throws {
        try populate()
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        _ = try await eventspool("stats", "--db", path)
        _ = try await eventspool("list", "--db", path, "--json")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)

        let damaged = folder.file("damaged.sqlite")
        var bytes = before
        bytes.replaceSubrange(0..<16, with: Data(repeating: 0x42, count: 16))
        try bytes.write(to: URL(fileURLWithPath: damaged))
        let stats = try await eventspool("stats", "--db", damaged)
        #expect(stats.status != 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: damaged)) == bytes)
        #expect(!FileManager.default.fileExists(atPath: damaged + "-wal"))
    }

    @Test func errorsAreOneLineWithANonZeroStatus() async throws {
        let cases: [[String]] = [
            ["stats", "--db", folder.file("missing.sqlite")],
            ["list", "--db", folder.path],
            ["purge", "--db", path],
            ["list", "--db", path, "--state", "lost"],
            ["stats"],
        ]
        for arguments in cases {
            let result = try await ChildProcess("eventspool", arguments).finish()
            #expect(result.status != 0, "\(arguments)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(arguments): \(result.stderr)")
            #expect(lines.first?.hasPrefix("eventspool: error: ") == true)
            #expect(!result.stderr.contains("Fatal error"))
        }
    }
}
