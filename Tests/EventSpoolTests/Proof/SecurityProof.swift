import EventSpoolCollector
import Foundation
import Testing
@testable import EventSpool

extension ProofSuite {
    /// Issue 6, part 8: the queue's files are private, plain HTTP leaves the machine only when
    /// allowed, and event payloads stay out of logs above debug level.
    @Suite("Proof: security")
    struct SecurityProof {
        let folder = TemporaryFolder()
        var db: String { folder.file("events.sqlite") }

        static func mode(_ path: String) -> Int? {
            (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]) as? Int
        }

        @Test func theQueueFileAndItsWalAndShmStayOwnerOnlyThroughCheckpointsAndReopening() async throws {
            let previous = umask(0o022)
            defer { umask(previous) }
            let queue = try QueueFixtures.open(db)
            _ = try queue.append(contentsOf: QueueFixtures.events(0..<500))
            for suffix in ["", "-wal", "-shm"] {
                #expect(Self.mode(db + suffix) == 0o600, "\(suffix.isEmpty ? "file" : suffix) is 0600 while open")
            }
            // A truncating checkpoint from another connection (as the sqlite3 tool would do).
            let raw = try RawDatabase(db)
            _ = try raw.strings("PRAGMA wal_checkpoint(TRUNCATE)")
            _ = try queue.append(contentsOf: QueueFixtures.events(500..<600))
            for suffix in ["", "-wal", "-shm"] {
                #expect(Self.mode(db + suffix) == 0o600, "\(suffix) after a checkpoint")
            }
            raw.connection.close()
            queue.close()
            let reopened = try QueueFixtures.open(db)
            try reopened.append(QueueFixtures.event(1_000))
            for suffix in ["", "-wal", "-shm"] {
                #expect(Self.mode(db + suffix) == 0o600, "\(suffix) after reopening")
            }
            reopened.close()

            // The command creates its files the same way.
            let cli = folder.file("cli.sqlite")
            let input = folder.file("one.jsonl")
            try Proof.conversionLine(uuid: Proof.uuid(1, 1), index: 1).write(toFile: input, atomically: true, encoding: .utf8)
            #expect(try await Proof.eventspool(["enqueue", "--db", cli, "--datafile", Proof.datafilePath, "--input", input]).status == 0)
            #expect(Self.mode(cli) == 0o600)
        }

        @Test func aQueueInAFileMadeBeforehandWithALooseModeBecomesOwnerOnly() throws {
            let previous = umask(0o022)
            defer { umask(previous) }
            // An empty file made beforehand (touch, a provisioning script): a new queue goes in it.
            #expect(FileManager.default.createFile(atPath: db, contents: nil, attributes: [.posixPermissions: 0o644]))
            let capture = LogCapture()
            var configuration = QueueConfiguration()
            configuration.logger = capture.logger
            let queue = try EventQueue(path: db, configuration: configuration)
            _ = try queue.append(contentsOf: QueueFixtures.events(0..<100))
            for suffix in ["", "-wal", "-shm"] {
                #expect(Self.mode(db + suffix) == 0o600, "\(suffix.isEmpty ? "file" : suffix) is owner-only")
            }
            #expect(capture.messages.contains { $0.hasPrefix("warning") && $0.contains("owner-only") })
            queue.close()

            // An existing queue whose mode was loosened (a restored backup) is tightened on opening.
            _ = chmod(db, 0o664)
            let reopened = try EventQueue(path: db)
            try reopened.append(QueueFixtures.event(1_000))
            for suffix in ["", "-wal", "-shm"] {
                #expect(Self.mode(db + suffix) == 0o600, "\(suffix) after reopening")
            }
            reopened.close()

            // Another application's database is refused and left as it was, mode included.
            let foreign = folder.file("foreign.sqlite")
            let connection = try SQLiteConnection(path: foreign, readOnly: false, create: true)
            try connection.execute("CREATE TABLE notes (body TEXT)")
            connection.close()
            _ = chmod(foreign, 0o644)
            #expect(throws: QueueError.notAQueue(path: foreign)) { try EventQueue(path: foreign) }
            #expect(Self.mode(foreign) == 0o644)
        }

        @Test func runRefusesAPlainHTTPEndpointInOneLine() async throws {
            let refused = try await Proof.eventspool(["run", "--db", db, "--until-empty", "--endpoint", "http://example.com/v1/events"])
            #expect(refused.status != 0)
            let lines = refused.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(refused.stderr)")
            #expect(lines.first?.hasPrefix("eventspool: error: ") == true && lines.first?.contains("http://example.com/v1/events") == true)
            #expect(!FileManager.default.fileExists(atPath: db), "a refused endpoint leaves no queue file behind")
            // Explicitly allowed, it runs (an empty queue sends nothing).
            let allowed = try await Proof.eventspool(["run", "--db", db, "--until-empty", "--allow-insecure-http", "--endpoint", "http://example.com/v1/events"])
            #expect(allowed.status == 0, "\(allowed.stderr)")
        }

        @Test(.timeLimit(.minutes(1)))
        func eventPayloadsNeverReachLogsAboveDebug() async throws {
            let collector = try await Collector.start(plan: try FaultPlan(parsing: "503,reset,413,200"))
            let capture = LogCapture()
            var queueConfiguration = QueueConfiguration()
            queueConfiguration.maxEvents = 60
            queueConfiguration.overflowPolicy = .dropOldest
            let (processor, dispatcher) = try Proof.httpProcessor(
                path: db, endpoint: collector.url, logger: capture.logger, queueConfiguration: queueConfiguration
            )
            var events = FaultProof.events(0..<70, group: 42)
            // A poison event: dead-lettered with the server's answer.
            let poisonUUID = Proof.uuid(43, 1)
            events.insert(SerializedEvent(
                uuid: poisonUUID, kind: .conversion, userId: "secret-poison-user", context: QueueFixtures.context,
                visitorJSON: #"{"snapshots": [{"events": [{"entity_id": "10428540015", "uuid": "\#(poisonUUID)", "key": "purchase", "timestamp": 1}]}], "attributes": [], "secret": "secret-poison-user"}"#,
                timestampMillis: 1
            ), at: 65)
            for event in events { try await processor.process(event) }
            _ = try? await processor.process(events[0])  // a duplicate
            processor.start()
            #expect(try await FaultProof.settle(processor))
            await Proof.stop(processor, dispatcher)
            try await collector.shutdown()
            let stats = try processor.queue.stats()
            #expect(stats.dead == 1 && stats.retries >= 2 && stats.splits >= 1 && stats.droppedOldest > 0, "the run had failures of every kind")

            let messages = capture.messages
            let loud = messages.filter { !$0.hasPrefix("trace ") && !$0.hasPrefix("debug ") }
            #expect(loud.count >= 4, "failures were logged: \(messages.count) messages")
            let secrets = events.flatMap { [$0.uuid, $0.userId] } + ["secret-poison-user"]
            for message in loud {
                for secret in secrets where message.contains(secret) {
                    Issue.record("a log line above debug carries event data (\(secret)): \(message)")
                }
            }
        }

        @Test(.timeLimit(.minutes(1)))
        func aServerThatEchoesTheRequestDoesNotPutEventDataInLogsAboveDebug() async throws {
            // A proxy or server that answers errors with the request it got, as some do.
            let echo = EchoingDispatcher(statuses: [503, 400, 400, 400])
            let capture = LogCapture()
            var settings = ProcessorConfiguration()
            settings.retry = RetryPolicy(baseDelay: 0.01, maxDelay: 0.02, maxAttempts: 5, maxAge: 3_600)
            let processor = try BatchEventProcessor(queuePath: db, configuration: settings, dispatcher: echo, logger: capture.logger)
            let events = FaultProof.events(0..<2, group: 44)
            for event in events { try await processor.process(event) }
            processor.start()
            #expect(try await FaultProof.settle(processor))
            await processor.stop()
            #expect(try processor.queue.stats().dead == 2)
            #expect(try processor.queue.list(state: .dead, limit: nil).allSatisfy { $0.lastError?.contains($0.uuid) == true }, "the dead letters keep the full answer")

            let loud = capture.messages.filter { !$0.hasPrefix("trace ") && !$0.hasPrefix("debug ") }
            #expect(loud.count >= 3, "the failures were logged")
            for message in loud {
                for event in events where message.contains(event.uuid) || message.contains("user-") {
                    Issue.record("a log line above debug carries event data: \(message)")
                }
            }
            #expect(capture.messages.contains { $0.hasPrefix("debug response body") && $0.contains(events[0].uuid) }, "the body is there at debug level")
        }
    }
}

/// Answers each request with the next status of a list (then 204), its body an echo of the request.
final class EchoingDispatcher: EventDispatcher {
    private let statuses: LockedValue<[Int]>

    init(statuses: [Int]) { self.statuses = LockedValue(statuses) }

    func dispatch(_ logEvent: EventSpool.LogEvent) async throws -> DispatchResponse {
        let status = statuses.withLock { $0.isEmpty ? 204 : $0.removeFirst() }
        return DispatchResponse(status: status, headers: [], body: status == 204 ? [] : Array("you sent: ".utf8) + logEvent.body)
    }
}
