import Foundation
import Testing
@testable import EventSpool

extension ProofSuite {
    /// Issue 6, part 4: a damaged queue file (garbage in the middle, truncated, a stray `-wal`) is a
    /// typed error or is moved aside; never a trap, never a hang.
    ///
    /// Knob: `EVENTSPOOL_CORRUPTION_ROUNDS` (CI 6, long run 200): how many randomly damaged copies
    /// are put through every queue operation.
    @Suite("Proof: corruption")
    struct CorruptionProof {
        let folder = TemporaryFolder()
        static let pageSize = 4_096

        /// A healthy queue of `count` events of 500 bytes, closed (checkpointed, no `-wal`).
        func healthyQueue(_ name: String, count: Int = 2_000) throws -> String {
            let path = folder.file(name)
            let queue = try QueueFixtures.open(path)
            _ = try queue.append(contentsOf: QueueFixtures.events(0..<count, size: 500))
            // Some history in every table: a sent batch, a retry, a dead letter.
            for _ in 0..<3 {
                if let batch = try queue.claimNextBatch(limits: BatchLimits(maxEvents: 10), includeOpenBatch: true) {
                    try queue.markSent(batchId: batch.id, status: 204)
                }
            }
            queue.close()
            return path
        }

        /// Overwrites `pages` pages of the file, from page `first` (0-based), with random bytes.
        static func damage(_ path: String, pages: Range<Int>, random: inout SplitMix64, fraction: Double = 1) throws {
            let handle = try #require(FileHandle(forUpdatingAtPath: path))
            defer { try? handle.close() }
            for page in pages {
                let length = max(16, Int(Double(pageSize) * fraction))
                let offset = page * pageSize + Int.random(in: 0...(pageSize - length), using: &random)
                try handle.seek(toOffset: UInt64(offset))
                try handle.write(contentsOf: Data((0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }))
            }
        }

        static func pageCount(_ path: String) throws -> Int {
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
            return size / pageSize
        }

        /// Runs every queue operation on `path`; returns the errors they threw. Each error must be
        /// typed: SQLite's corruption codes never leak as ``QueueError/sqlite(_:)``.
        static func exercise(_ path: String, configuration: QueueConfiguration = QueueConfiguration()) -> [QueueError] {
            exerciseReport(path, configuration: configuration).errors
        }

        /// ``exercise(_:configuration:)``, and whether the file opened.
        static func exerciseReport(_ path: String, configuration: QueueConfiguration = QueueConfiguration()) -> (opened: Bool, errors: [QueueError]) {
            var errors: [QueueError] = []
            func attempt(_ body: () throws -> Void) {
                do {
                    try body()
                } catch let error as QueueError {
                    errors.append(error)
                } catch {
                    Issue.record("an untyped error: \(error)")
                }
            }
            let queue: EventQueue
            do {
                queue = try EventQueue(path: path, configuration: configuration)
            } catch {
                return (false, [error])
            }
            defer { queue.close() }
            attempt { _ = try queue.schemaVersion() }
            attempt { _ = try queue.stats() }
            attempt { _ = try queue.list(state: nil, limit: nil) }
            attempt { _ = try queue.pendingSchedule() }
            attempt { _ = try queue.lastEventId() }
            attempt { try queue.recoverLeases() }
            for round in 0..<30 {
                attempt {
                    guard let batch = try queue.claimNextBatch(limits: BatchLimits(maxEvents: 50), includeOpenBatch: true) else { return }
                    switch round % 4 {
                    case 0: try queue.scheduleRetry(batchId: batch.id, notBeforeMillis: 0, status: 503, error: "test")
                    case 1 where batch.members.count > 1: try queue.split(batchId: batch.id)
                    case 2: try queue.deadLetter(batchId: batch.id, status: 400, reason: "test")
                    default: try queue.markSent(batchId: batch.id, status: 204)
                    }
                }
            }
            attempt { _ = try queue.append(contentsOf: QueueFixtures.events(10_000..<10_200, size: 500)) }
            attempt { _ = try queue.requeueDeadLetters() }
            attempt { _ = try queue.purge(sent: true, dead: false) }
            attempt { _ = try queue.pruneSent() }
            return (true, errors)
        }

        static func leaksCorruption(_ error: QueueError) -> Bool {
            if case .sqlite(let underlying) = error { return underlying.isCorruption }
            return false
        }

        @Test(.timeLimit(.minutes(5)))
        func garbageDeepInTheFileIsATypedErrorAtEveryOperation() async throws {
            let healthy = try healthyQueue("healthy.sqlite")
            let pages = try Self.pageCount(healthy)
            var random = SplitMix64(seed: ProofKnob.seed)
            var corruptSeen = 0
            var laterCorruption = 0
            for round in 0..<ProofKnob.corruptionRounds {
                await Task.yield()  // a long run must not hold Swift concurrency's threads from other tests
                let path = folder.file("damaged-\(round).sqlite")
                try FileManager.default.copyItem(atPath: healthy, toPath: path)
                let first = Int.random(in: 2..<(pages - 1), using: &random)
                let count = Int.random(in: 1...8, using: &random)
                try Self.damage(path, pages: first..<min(pages, first + count), random: &random, fraction: Double.random(in: 0.01...1, using: &random))
                let started = Date()
                let (opened, errors) = Self.exerciseReport(path)
                #expect(Date().timeIntervalSince(started) < 20, "round \(round) took too long")
                let leaked = errors.filter(Self.leaksCorruption)
                #expect(leaked.isEmpty, "round \(round): corruption reported untyped: \(leaked)")
                let corrupt = errors.filter { if case .corrupt = $0 { true } else { false } }.count
                corruptSeen += corrupt
                // Damage deep in the file opens fine and is met later, by a read or a write.
                if opened && corrupt > 0 { laterCorruption += 1 }
            }
            #expect(corruptSeen > 0, "the damage was noticed somewhere")
            #expect(laterCorruption > 0, "some damage was met after opening, and typed there too")
        }

        @Test(.timeLimit(.minutes(1)))
        func verifyOnOpenFindsDeepDamageAndMoveAsideStartsANewQueue() throws {
            let path = try healthyQueue("events.sqlite")
            var random = SplitMix64(seed: ProofKnob.seed &+ 1)
            let pages = try Self.pageCount(path)
            try Self.damage(path, pages: (pages / 2)..<(pages / 2 + 3), random: &random)
            let damagedBytes = try Data(contentsOf: URL(fileURLWithPath: path))

            // Only the header and the schema are checked by default: the damage is not seen yet.
            try EventQueue(path: path).close()
            var configuration = QueueConfiguration()
            configuration.verifyOnOpen = true
            #expect {
                try EventQueue(path: path, configuration: configuration)
            } throws: { error in
                if case QueueError.corrupt = error { return true }
                return false
            }
            configuration.onCorruption = .moveAside
            let queue = try EventQueue(path: path, configuration: configuration)
            #expect(try queue.stats().pending == 0, "a new, empty queue")
            try queue.append(QueueFixtures.event(1))
            let moved = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("events.sqlite.corrupt-") && !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm") }
            #expect(moved.count == 1)
            #expect(try Data(contentsOf: URL(fileURLWithPath: folder.file(moved.first ?? ""))) == damagedBytes, "nothing deleted")
        }

        @Test(.timeLimit(.minutes(1)))
        func aTruncatedFileIsATypedErrorOrMovedAside() throws {
            for (name, keep) in [("tiny.sqlite", 10), ("half.sqlite", -1), ("one-page.sqlite", Self.pageSize)] {
                let path = try healthyQueue(name, count: 500)
                let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
                #expect(truncate(path, off_t(keep >= 0 ? keep : size / 2)) == 0)
                let errors = Self.exercise(path)
                #expect(!errors.isEmpty, "\(name): the loss is noticed")
                #expect(errors.allSatisfy { !Self.leaksCorruption($0) }, "\(name): \(errors)")
                var checked = QueueConfiguration()
                checked.verifyOnOpen = true
                checked.onCorruption = .moveAside
                let queue = try EventQueue(path: path, configuration: checked)
                try queue.append(QueueFixtures.event(1))
                #expect(try queue.stats().pending == 1, "\(name): a new queue in its place")
                queue.close()
            }
        }

        @Test(.timeLimit(.minutes(1)))
        func aStrayWalIsHarmlessOrATypedError() throws {
            var random = SplitMix64(seed: ProofKnob.seed &+ 2)
            // Garbage named -wal beside a healthy file: SQLite ignores a log without a valid header.
            let path = try healthyQueue("events.sqlite", count: 300)
            try Data((0..<40_000).map { _ in UInt8.random(in: 0...255, using: &random) }).write(to: URL(fileURLWithPath: path + "-wal"))
            let queue = try EventQueue(path: path)
            #expect(try queue.stats().pending + queue.stats().sent == 300, "every row intact")
            queue.close()
            #expect(try RawDatabase(path).strings("PRAGMA integrity_check") == ["ok"])

            // The -wal of another queue (with committed frames) beside this one.
            let other = folder.file("other.sqlite")
            let otherQueue = try QueueFixtures.open(other)
            _ = try otherQueue.append(contentsOf: QueueFixtures.events(50_000..<50_100, size: 500))
            let strayWal = try Data(contentsOf: URL(fileURLWithPath: other + "-wal"))
            otherQueue.close()
            let victim = try healthyQueue("victim.sqlite", count: 300)
            try strayWal.write(to: URL(fileURLWithPath: victim + "-wal"))
            let errors = Self.exercise(victim)
            #expect(errors.allSatisfy { !Self.leaksCorruption($0) }, "\(errors)")

            // A -wal left where the queue file was deleted.
            let orphan = folder.file("orphan.sqlite")
            try strayWal.write(to: URL(fileURLWithPath: orphan + "-wal"))
            let fresh = Self.exercise(orphan)
            #expect(fresh.allSatisfy { !Self.leaksCorruption($0) }, "\(fresh)")
        }

        @Test(.timeLimit(.minutes(1)))
        func theWorkerNeitherSpinsNorCrashesOnAFileDamagedUnderIt() async throws {
            let path = try healthyQueue("events.sqlite", count: 3_000)
            let capture = LogCapture()
            let dispatcher = ScriptedDispatcher()
            var settings = ProcessorConfiguration()
            settings.batchSize = 20
            settings.timeoutInterval = 1
            let processor = try BatchEventProcessor(queuePath: path, configuration: settings, dispatcher: dispatcher, logger: capture.logger)
            // Damage most of the file under the open queue, as a failing disk would.
            var random = SplitMix64(seed: ProofKnob.seed &+ 3)
            let pages = try Self.pageCount(path)
            try Self.damage(path, pages: 3..<pages, random: &random, fraction: 0.5)

            processor.start()
            processor.flush()
            let window = 3.5
            try await Task.sleep(nanoseconds: UInt64(window * 1e9))
            let errors = capture.messages.filter { $0.hasPrefix("error") }
            #expect(!errors.isEmpty, "the damage is reported")
            #expect(errors.count <= Int(window) + 3, "a failing queue is retried once a second, not in a loop: \(errors.count) errors")
            #expect(errors.allSatisfy { $0.contains("corrupt") || $0.contains("not a usable SQLite database") }, "\(errors.prefix(3))")
            // process() says what is wrong in a typed way, or succeeds.
            do {
                try await processor.process(QueueFixtures.event(99_999))
            } catch {
                if case .queue(let queueError) = error { #expect(!Self.leaksCorruption(queueError)) } else { Issue.record("\(error)") }
            }
            let stopping = Date()
            await processor.stop()
            #expect(Date().timeIntervalSince(stopping) < 3, "stop returns on a damaged file")
        }

        @Test(.timeLimit(.minutes(1)))
        func runUntilEmptyOnADamagedFileEndsWithOneLine() async throws {
            let path = try healthyQueue("events.sqlite", count: 3_000)
            var random = SplitMix64(seed: ProofKnob.seed &+ 4)
            let pages = try Self.pageCount(path)
            try Self.damage(path, pages: 3..<pages, random: &random, fraction: 0.5)
            let child = try ChildProcess("eventspool", ["run", "--db", path, "--until-empty", "--endpoint", "http://127.0.0.1:9/v1/events"])
            let hung = !(await child.exits(within: 20))
            #expect(!hung, "run --until-empty ends on a damaged file")
            let result = await child.finish()
            #expect(result.status != 0)
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.last?.hasPrefix("eventspool: error: ") == true, "\(result.stderr.suffix(500))")
        }
    }
}
