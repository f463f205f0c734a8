import EventSpoolCollector
import Foundation
import Testing
@testable import EventSpool

extension ProofSuite {
    /// Issue 6, part 1: `eventspool enqueue` and `eventspool run` are killed with SIGKILL at random
    /// moments while they enqueue, claim, dispatch and record outcomes; then the queue is drained.
    ///
    /// Knob: `EVENTSPOOL_TORTURE_KILLS` (CI 10, long run 200).
    @Suite("Proof: kill -9 torture", .serialized)
    struct KillTortureProof {
        /// What one torture run saw, for the report.
        struct Figures: CustomStringConvertible {
            var kills = 0
            var enqueueKills = 0
            var runKills = 0
            var linesWritten = 0
            var accepted = 0
            var deliveries = 0
            var duplicateDeliveries = 0
            var resentBatches = 0
            var seconds = 0.0
            var description: String {
                "kills \(kills) (enqueue \(enqueueKills), run \(runKills)); lines written \(linesWritten); accepted \(accepted); deliveries \(deliveries); duplicate deliveries \(duplicateDeliveries) in \(resentBatches) resent batches; \(String(format: "%.1f", seconds)) s"
            }
        }

        @Test(.timeLimit(.minutes(30)))
        func everyAcceptedEventIsDeliveredAfterRandomKills() async throws {
            let started = Date()
            let folder = TemporaryFolder()
            let db = folder.file("events.sqlite")
            let collector = try await Collector.start()
            let endpoint = collector.url.absoluteString
            var random = SplitMix64(seed: ProofKnob.seed)
            var figures = Figures()
            /// Lines of each enqueue call, in order, and whether the call exited normally.
            var enqueueCalls: [(uuids: [String], exitedNormally: Bool)] = []
            var group = 0

            func startEnqueue() throws -> (ChildProcess, [String]) {
                group += 1
                let count = Int.random(in: 500...4_000, using: &random)
                let uuids = (0..<count).map { Proof.uuid(group, $0) }
                let input = folder.file("input-\(group).jsonl")
                try uuids.enumerated().map { Proof.conversionLine(uuid: $1, index: group * 1_000 + $0) }
                    .joined(separator: "\n").write(toFile: input, atomically: true, encoding: .utf8)
                figures.linesWritten += count
                let groupSize = Int.random(in: 1...40, using: &random)
                let child = try ChildProcess("eventspool", [
                    "enqueue", "--db", db, "--datafile", Proof.datafilePath, "--input", input, "--group-size", "\(groupSize)",
                ])
                return (child, uuids)
            }

            func startRun() throws -> ChildProcess {
                let batchSize = Int.random(in: 1...25, using: &random)
                return try ChildProcess("eventspool", [
                    "run", "--db", db, "--endpoint", endpoint, "--batch-size", "\(batchSize)", "--flush-interval", "0.05", "--request-timeout", "5",
                ])
            }

            /// Kills the child unless it has exited; `true` when the kill ended it.
            func kill(_ child: ChildProcess) -> Bool {
                child.kill()
                return child.process.terminationReason == .uncaughtSignal
            }

            let plans = ["200", "200", "reset,200", "503,200x30,reset,200"]
            var round = 0
            while figures.kills < ProofKnob.tortureKills {
                round += 1
                try await collector.setPlan(FaultPlan(parsing: plans[Int.random(in: 0..<plans.count, using: &random)]))
                let mode = round % 3  // 0: enqueue alone, 1: run alone, 2: both at once
                var enqueue: (ChildProcess, [String])?
                var run: ChildProcess?
                if mode != 1 { enqueue = try startEnqueue() }
                if mode != 0 {
                    // Give the worker something to do when it runs alone.
                    if mode == 1 {
                        let (child, uuids) = try startEnqueue()
                        enqueueCalls.append((uuids, await child.finish().status == 0))
                    }
                    run = try startRun()
                }
                try await Task.sleep(nanoseconds: UInt64(Int.random(in: 10...600, using: &random)) * 1_000_000)
                if let (child, uuids) = enqueue {
                    let killed = kill(child)
                    enqueueCalls.append((uuids, !killed && child.process.terminationStatus == 0))
                    if killed { figures.kills += 1; figures.enqueueKills += 1 }
                }
                if let run {
                    if mode == 2 { try await Task.sleep(nanoseconds: UInt64(Int.random(in: 0...300, using: &random)) * 1_000_000) }
                    if kill(run) { figures.kills += 1; figures.runKills += 1 }
                }
            }

            // What the file holds now is what was accepted: every line of a call that exited
            // normally, and for a killed call whole groups from its start, never a torn row.
            let raw = try RawDatabase(db)
            #expect(try raw.strings("PRAGMA integrity_check") == ["ok"])
            #expect(try raw.int("SELECT count(*) FROM events LEFT JOIN event_bodies ON event_id = id WHERE visitor_json IS NULL OR bytes <> length(CAST(visitor_json AS BLOB)) OR NOT json_valid(visitor_json) OR instr(visitor_json, uuid) = 0") == 0, "no torn row")
            let stored = Set(try raw.strings("SELECT uuid FROM events"))
            for call in enqueueCalls {
                let present = call.uuids.map { stored.contains($0) }
                if call.exitedNormally {
                    #expect(!present.contains(false), "a call that exited 0 has every line queued")
                } else {
                    let prefix = present.prefix { $0 }.count
                    #expect(!present[prefix...].contains(true), "a killed call leaves the lines of its first groups only")
                }
            }
            figures.accepted = stored.count
            raw.connection.close()

            // Drain to empty against a well-behaved collector.
            await collector.setPlan(.alwaysNoContent)
            let drain = try await Proof.eventspool(["run", "--db", db, "--endpoint", endpoint, "--until-empty", "--batch-size", "20", "--flush-interval", "0.05"])
            #expect(drain.status == 0, "\(drain.stderr)")
            let stats = try await Proof.statsJSON(db)
            #expect(stats["pending"] == 0)
            #expect(stats["inflight"] == 0, "no row left in flight")
            #expect(stats["dead"] == 0)
            #expect(stats["sent"] == stored.count)

            // Every accepted event delivered at least once; nothing delivered that was not accepted.
            let accepted = await collector.requests.filter(\.isAccepted)
            var bodiesByUUID: [String: [[UInt8]]] = [:]
            for request in accepted {
                for uuid in request.batch?.uuids ?? [] { bodiesByUUID[uuid, default: []].append(request.body) }
            }
            let delivered = Set(bodiesByUUID.keys)
            let lost = stored.subtracting(delivered)
            #expect(lost.isEmpty, "\(lost.count) accepted events were never delivered, e.g. \(lost.sorted().prefix(3))")
            #expect(delivered.subtracting(stored).isEmpty, "only accepted events are delivered")

            // A duplicate is the resend of a whole batch that was in flight at a kill: the same
            // request body, byte for byte (so the same uuids), and at most one such batch per
            // killed worker (up to maxRequestsInFlight batches in flight at a time).
            var resentBodies: Set<[UInt8]> = []
            for (uuid, bodies) in bodiesByUUID where bodies.count > 1 {
                figures.duplicateDeliveries += bodies.count - 1
                #expect(Set(bodies).count == 1, "event \(uuid) was delivered in different requests")
                resentBodies.insert(bodies[0])
            }
            figures.resentBatches = resentBodies.count
            for body in resentBodies {
                #expect(accepted.filter { $0.body == body }.count <= 1 + figures.runKills)
            }
            #expect(figures.resentBatches <= figures.runKills * ProcessorConfiguration.Defaults.maxRequestsInFlight, "at most maxRequestsInFlight batches in flight per killed worker")
            figures.deliveries = bodiesByUUID.values.reduce(0) { $0 + $1.count }
            figures.seconds = Date().timeIntervalSince(started)
            try await collector.shutdown()
            print("kill -9 torture: \(figures)")
        }
    }
}
