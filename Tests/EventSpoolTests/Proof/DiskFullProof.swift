import Foundation
import Testing
@testable import EventSpool

extension ProofSuite {
    /// Issue 6, part 3: a full disk, simulated with `PRAGMA max_page_count`
    /// (``QueueConfiguration/maxPageCount``) and, when this process may mount one, a real small tmpfs.
    @Suite("Proof: disk full")
    struct DiskFullProof {
        let folder = TemporaryFolder()
        var db: String { folder.file("events.sqlite") }

        /// Processes events of about 1 KB until the queue refuses one; returns the uuids accepted
        /// and the error that stopped it.
        static func fill(_ processor: BatchEventProcessor, group: Int, limit: Int = 100_000) -> (accepted: [String], error: ProcessorError?) {
            var accepted: [String] = []
            for index in 0..<limit {
                let event = QueueFixtures.event(index, size: 1_000, uuid: Proof.uuid(group, index))
                do {
                    try processor.process(event)
                    accepted.append(event.uuid)
                } catch {
                    return (accepted, error)
                }
            }
            return (accepted, nil)
        }

        static func check(_ db: String, holds uuids: [String]) throws {
            let raw = try RawDatabase(db)
            defer { raw.connection.close() }
            #expect(try raw.strings("PRAGMA integrity_check") == ["ok"])
            #expect(Set(try raw.strings("SELECT uuid FROM events")).isSuperset(of: uuids), "nothing already queued is damaged")
        }

        @Test(.timeLimit(.minutes(1)))
        func aFullQueueFileIsATypedErrorDamagesNothingAndWorksAgainWithSpace() async throws {
            var configuration = QueueConfiguration()
            configuration.maxPageCount = 60
            let dispatcher = ScriptedDispatcher()
            var settings = ProcessorConfiguration()
            settings.batchSize = 50
            let processor = try BatchEventProcessor(queue: EventQueue(path: db, configuration: configuration), configuration: settings, dispatcher: dispatcher)
            let (accepted, error) = Self.fill(processor, group: 1)
            #expect(accepted.count > 20)
            #expect(error == .queue(.diskFull(path: db)))
            // Grouped appends fail whole, with the same error.
            #expect(throws: QueueError.diskFull(path: db)) {
                try processor.queue.append(contentsOf: (0..<5).map { QueueFixtures.event($0, size: 1_000, uuid: Proof.uuid(2, $0)) })
            }
            try Self.check(db, holds: accepted)
            #expect(try processor.queue.stats().pending == accepted.count, "the counts agree with the rows")

            // Space comes back inside the file: the worker sends, sent rows are purged, and new
            // events fit again in the same queue.
            processor.start()
            try await processor.flushAndWait()
            #expect(try processor.queue.stats().sent == accepted.count)
            try processor.queue.purge(sent: true, dead: false)
            let (more, _) = Self.fill(processor, group: 3, limit: 10)
            #expect(more.count == 10, "appends work again once space is freed")
            await processor.stop()
            #expect(Set(dispatcher.batches.flatMap { $0 }) == Set(accepted + more))

            // Space comes back on the disk: a larger limit (or none) and the queue goes on.
            processor.queue.close()
            var roomier = configuration
            roomier.maxPageCount = 10_000
            let reopened = try EventQueue(path: db, configuration: roomier)
            try reopened.append(QueueFixtures.event(1, size: 1_000, uuid: Proof.uuid(4, 1)))
            try Self.check(db, holds: more + [Proof.uuid(4, 1)])
        }

        /// Whether a tmpfs can be mounted here (root in a container that allows it).
        static let canMountTmpfs: Bool = {
            guard geteuid() == 0 else { return false }
            let probe = FileManager.default.temporaryDirectory.appendingPathComponent("eventspool-mount-probe-\(getpid())").path
            try? FileManager.default.createDirectory(atPath: probe, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: probe) }
            guard mount("tmpfs", probe, "tmpfs", 0, "size=64k") == 0 else { return false }
            umount(probe)
            return true
        }()

        @Test(.enabled(if: canMountTmpfs, "needs permission to mount a tmpfs"), .timeLimit(.minutes(1)))
        func aFullTmpfsIsATypedErrorDamagesNothingAndWorksAgainWhenSpaceIsFreed() throws {
            let disk = folder.file("disk")
            try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
            try #require(mount("tmpfs", disk, "tmpfs", 0, "size=2m") == 0)
            defer { umount2(disk, Int32(MNT_DETACH)) }
            // Ballast that is deleted later to give space back.
            let ballast = "\(disk)/ballast"
            try Data(count: 512 * 1024).write(to: URL(fileURLWithPath: ballast))

            let path = "\(disk)/events.sqlite"
            let processor = try BatchEventProcessor(queuePath: path, dispatcher: ScriptedDispatcher())
            let (accepted, error) = Self.fill(processor, group: 5)
            #expect(accepted.count > 10)
            #expect(error == .queue(.diskFull(path: path)))
            #expect(try processor.queue.stats().pending == accepted.count)

            try FileManager.default.removeItem(atPath: ballast)
            let (more, _) = Self.fill(processor, group: 6, limit: 20)
            #expect(more.count >= 5, "appends work again once the disk has room")
            processor.queue.close()
            try Self.check(path, holds: accepted + more)
        }

        @Test func overflowDropsAreCountedAndShownByStats() async throws {
            let queue = try QueueFixtures.open(db) { configuration in
                configuration.maxEvents = 50
                configuration.overflowPolicy = .dropOldest
            }
            _ = try queue.append(contentsOf: QueueFixtures.events(0..<80))
            queue.close()
            let stats = try await Proof.statsJSON(db)
            #expect(stats["pending"] == 50)
            #expect(stats["dropped_oldest"] == 30)
            let text = try await Proof.eventspool(["stats", "--db", db]).stdout
            #expect(text.contains("dropped (dropOldest)") && text.split(separator: "\n").contains { $0.hasPrefix("dropped (dropOldest)") && $0.hasSuffix(" 30") })
        }
    }
}
