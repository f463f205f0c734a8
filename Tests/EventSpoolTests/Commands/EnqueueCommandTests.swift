import Foundation
import Testing
@testable import EventSpool

/// `eventspool enqueue` (cli.md), run as the built binary on temporary files.
@Suite("eventspool enqueue")
struct EnqueueCommandTests {
    let folder = TemporaryFolder()
    var db: String { folder.file("events.sqlite") }
    var datafile: String { ConformanceFixtures.directory.appendingPathComponent("datafile.json").path }

    func enqueue(_ lines: [String], extra: [String] = []) async throws -> (status: Int32, stdout: String, stderr: String) {
        let input = folder.file("input-\(UUID().uuidString.prefix(6)).jsonl")
        try lines.joined(separator: "\n").write(toFile: input, atomically: true, encoding: .utf8)
        return try await ChildProcess("eventspool", ["enqueue", "--db", db, "--datafile", datafile, "--input", input] + extra).finish()
    }

    static let impression = #"{"op": "impression", "user_id": "alice", "experiment_key": "checkout_button_test", "variation_key": "control", "attributes": {"browser": "chrome", "age": 30.0}, "uuid": "aaaaaaaa-0000-4000-8000-000000000001", "timestamp": 1700000001000}"#
    static let conversion = #"{"op": "conversion", "user_id": "alice", "event_key": "purchase", "attributes": {"age": 31}, "tags": {"revenue": 1999, "value": 19.99}, "uuid": "aaaaaaaa-0000-4000-8000-000000000002", "timestamp": 1700000002000}"#

    @Test func goodLinesAreQueuedWithTheirTypesKept() async throws {
        let result = try await enqueue([Self.impression, Self.conversion])
        #expect(result.status == 0)
        #expect(result.stdout == "enqueued 2, rejected 0\n")
        #expect(result.stderr.isEmpty)
        let queue = try QueueFixtures.open(db)
        let batch = try #require(try queue.claimNextBatch(limits: BatchLimits(), includeOpenBatch: true))
        #expect(batch.uuids == ["aaaaaaaa-0000-4000-8000-000000000001", "aaaaaaaa-0000-4000-8000-000000000002"])
        #expect(batch.visitors[0].contains(#""value": 30.0"#), "a float stays a float")
        #expect(batch.visitors[1].contains(#""value": 31"#), "an integer stays an integer")
        #expect(batch.visitors[1].contains(#""revenue": 1999, "value": 19.99"#))
    }

    @Test func badLinesAreReportedByNumberAndTheRestWritten() async throws {
        let result = try await enqueue([
            Self.impression,
            "not json",
            #"{"op": "conversion", "user_id": "bob", "event_key": "no_such_event"}"#,
            "",
            Self.conversion,
            #"{"op": "impression", "user_id": "carol", "experiment_key": "no_such_experiment", "variation_key": "control"}"#,
        ])
        #expect(result.status == 1)
        #expect(result.stdout == "enqueued 2, rejected 3\n")
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("eventspool enqueue: line 2: "))
        #expect(lines[1].hasPrefix("eventspool enqueue: line 3: ") && lines[1].contains("no_such_event"))
        #expect(lines[2].hasPrefix("eventspool enqueue: line 6: ") && lines[2].contains("no_such_experiment"))
        #expect(try QueueFixtures.open(db).stats().pending == 2)
    }

    @Test func enqueueingTheSameEventTwiceNeverQueuesItTwice() async throws {
        _ = try await enqueue([Self.conversion])
        let again = try await enqueue([Self.conversion, Self.conversion])
        #expect(again.status == 1)
        #expect(again.stdout == "enqueued 0, rejected 2\n")
        #expect(again.stderr.contains("already queued"))
        #expect(try QueueFixtures.open(db).stats().pending == 1)
    }

    @Test func rejectionsAcrossManyGroupsAreReportedInLineOrder() async throws {
        // Groups of two, written while the next group is decoded: a duplicate is only found when
        // its group is committed, and still reported in line order among the others.
        func conversion(_ number: Int) -> String {
            #"{"op": "conversion", "user_id": "user-\#(number)", "event_key": "purchase", "uuid": "bbbbbbbb-0000-4000-8000-00000000000\#(number)"}"#
        }
        let result = try await enqueue([
            conversion(1),
            "not json",
            conversion(3),
            conversion(1),
            conversion(5),
            #"{"op": "conversion", "user_id": "bob", "event_key": "no_such_event"}"#,
            conversion(7),
        ], extra: ["--group-size", "2"])
        #expect(result.status == 1)
        #expect(result.stdout == "enqueued 4, rejected 3\n")
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines.first?.hasPrefix("eventspool enqueue: line 2: ") == true)
        #expect(lines.dropFirst().first?.hasPrefix("eventspool enqueue: line 4: event bbbbbbbb-0000-4000-8000-000000000001 is already queued") == true)
        #expect(lines.last?.hasPrefix("eventspool enqueue: line 6: ") == true)
        #expect(try QueueFixtures.open(db).stats().pending == 4)
    }

    @Test func emptyInputQueuesNothing() async throws {
        let result = try await enqueue([])
        #expect(result.status == 0)
        #expect(result.stdout == "enqueued 0, rejected 0\n")
    }

    @Test func standardInputIsReadWhenNoInputIsGiven() async throws {
        let input = Data((Self.impression + "\n" + Self.conversion + "\n").utf8)
        let result = try await ChildProcess("eventspool", ["enqueue", "--db", db, "--datafile", datafile], input: input).finish()
        #expect(result.stdout == "enqueued 2, rejected 0\n")
    }

    /// A writer that keeps the input open (a producer piping events as they happen) has its
    /// lines queued as they come: `enqueue` commits what it has whenever no more input is ready,
    /// not only at a full group or at the end.
    @Test func linesFromAWriterThatKeepsTheInputOpenAreQueuedAsTheyCome() async throws {
        let child = try ChildProcess("eventspool", ["enqueue", "--db", db, "--datafile", datafile], keepingInputOpen: true)
        let writer = try #require(child.inputWriter)
        writer.write(Data((Self.impression + "\n" + Self.conversion + "\n").utf8))
        // Another process's commit can only be seen in the file; the bound only stops a hang.
        let queued = await CollectorFixtures.eventually(within: 60) {
            (try? QueueFixtures.open(db) { $0.readOnly = true }.stats().pending) == 2
        }
        #expect(queued, "both lines were queued while the input was still open")
        // A rejected line is reported as it comes too.
        writer.write(Data("not json\n".utf8))
        let report = await child.readErrorLine(within: 60)
        #expect(report?.hasPrefix("eventspool enqueue: line 3:") == true, "reported while the input was still open: \(report ?? "nothing")")
        try writer.close()
        let result = await child.finish()
        #expect(result.stdout == "enqueued 2, rejected 1\n")
    }

    @Test func aHundredThousandLinesAreAllQueued() async throws {
        let lines = (0..<100_000).map { index in
            #"{"op": "conversion", "user_id": "user-\#(index)", "event_key": "purchase", "attributes": {"browser": "firefox", "age": \#(index % 90), "ltv": 12.5}, "tags": {"revenue": \#(index), "category": "books"}}"#
        }
        let result = try await enqueue(lines)
        #expect(result.status == 0)
        #expect(result.stdout == "enqueued 100000, rejected 0\n")
        let stats = try QueueFixtures.open(db).stats()
        #expect(stats.pending == 100_000)
    }

    @Test func unreadableDatafileOrInputIsOneLine() async throws {
        let missing = try await ChildProcess("eventspool", ["enqueue", "--db", db, "--datafile", folder.file("none.json"), "--input", "-"], input: Data()).finish()
        #expect(missing.status == 1)
        #expect(missing.stderr.split(separator: "\n").count == 1 && missing.stderr.contains("datafile"))
        try "{\"version\": \"4\"}".write(toFile: folder.file("bad.json"), atomically: true, encoding: .utf8)
        let invalid = try await ChildProcess("eventspool", ["enqueue", "--db", db, "--datafile", folder.file("bad.json"), "--input", "-"], input: Data()).finish()
        #expect(invalid.status == 1)
        #expect(invalid.stderr.split(separator: "\n").count == 1 && invalid.stderr.contains("not valid"))
        let noInput = try await ChildProcess("eventspool", ["enqueue", "--db", db, "--datafile", datafile, "--input", folder.file("none.jsonl")]).finish()
        #expect(noInput.status == 1 && noInput.stderr.contains("cannot read the input"))
        let folderInput = try await ChildProcess("eventspool", ["enqueue", "--db", db, "--datafile", datafile, "--input", folder.path]).finish()
        #expect(folderInput.status == 1)
        #expect(folderInput.stderr.split(separator: "\n").count == 1 && folderInput.stderr.contains("is a folder"))
        #expect(!FileManager.default.fileExists(atPath: db), "no queue file is made for an input that cannot be read")
    }
}
