import Foundation
import Testing
@testable import EventSpool
import enum EventSpoolCollector.RequestValidation

extension ProofSuite {
    /// Issue 6, part 7: seeded random and mutated inputs to the JSON Lines reader, the datafile
    /// parser and the collector's request parser: no trap, no hang, a clear error each time.
    ///
    /// Knobs: `EVENTSPOOL_FUZZ_CASES` (per input kind; CI 3,000, long 200,000) and
    /// `EVENTSPOOL_PROOF_SEED`.
    @Suite("Proof: fuzzed input")
    struct FuzzProof {
        static let impression = #"{"op": "impression", "user_id": "alice", "experiment_key": "checkout_button_test", "variation_key": "control", "flag_key": "", "rule_key": "checkout_button_test", "rule_type": "experiment", "enabled": true, "attributes": {"browser": "chrome", "age": 30.0}, "cmab_uuid": null, "uuid": "aaaaaaaa-0000-4000-8000-000000000001", "timestamp": 1700000001000}"#
        static let conversion = #"{"op": "conversion", "user_id": "alice", "event_key": "purchase", "attributes": {"age": 31}, "tags": {"revenue": 1999, "value": 19.99, "nested": {"a": [1, 2.5, "x", null, true]}}, "uuid": "aaaaaaaa-0000-4000-8000-000000000002", "timestamp": 1700000002000}"#

        /// Bytes that make JSON interesting.
        static let alphabet = Array(#"{}[]:,"\ 0123456789.eE+-tfnul"#.utf8) + [0x00, 0x7F, 0xC3, 0xA9, 0xED, 0xA0, 0x80, 0xFF, 0xF0, 0x9F]

        /// One random mutation of `bytes`, never adding a line break when `noNewlines`.
        static func mutate(_ bytes: [UInt8], random: inout SplitMix64, noNewlines: Bool = false) -> [UInt8] {
            var bytes = bytes
            let rounds = Int.random(in: 1...4, using: &random)
            for _ in 0..<rounds {
                let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<9, using: &random) {
                case 0 where !bytes.isEmpty:  // flip a bit
                    bytes[position] ^= UInt8(1) << UInt8.random(in: 0...7, using: &random)
                case 1:  // insert an interesting byte
                    bytes.insert(alphabet.randomElement(using: &random) ?? 0x20, at: position)
                case 2 where !bytes.isEmpty:  // delete a run
                    bytes.removeSubrange(position..<min(bytes.count, position + Int.random(in: 1...20, using: &random)))
                case 3:  // truncate
                    bytes = Array(bytes.prefix(position))
                case 4 where !bytes.isEmpty:  // duplicate a run
                    let end = min(bytes.count, position + Int.random(in: 1...40, using: &random))
                    bytes.insert(contentsOf: bytes[position..<end], at: position)
                case 5:  // deep nesting
                    let depth = Int.random(in: 1...2_000, using: &random)
                    bytes.insert(contentsOf: [UInt8](repeating: Bool.random(using: &random) ? 0x5B : 0x7B, count: depth), at: position)
                case 6:  // a huge or odd number
                    let numbers = ["1e99999", "-0", "18446744073709551616", "-9223372036854775809", "1.7976931348623157e309", "0.000000000000000000000000001", "9007199254740993", "NaN", "-Infinity"]
                    bytes.insert(contentsOf: Array((numbers.randomElement(using: &random) ?? "0").utf8), at: position)
                case 7 where !bytes.isEmpty:  // a random byte
                    bytes[position] = UInt8.random(in: 0...255, using: &random)
                default:  // swap two runs
                    guard bytes.count > 4 else { continue }
                    let other = Int.random(in: 0..<bytes.count, using: &random)
                    bytes.swapAt(position, other)
                }
            }
            if noNewlines { bytes = bytes.map { $0 == 0x0A ? 0x20 : $0 } }
            return bytes
        }

        /// A JSON value with one random node replaced by a value of another type, or one member removed.
        static func mutateStructure(_ value: Any, random: inout SplitMix64, depth: Int = 0) -> Any {
            let replacements: [Any] = [NSNull(), 0, -1, 1.5, "", "x", true, [Any](), [String: Any](), [[String: Any]()], Int64.max]
            if depth > 0 && Int.random(in: 0..<4, using: &random) == 0 {
                return replacements.randomElement(using: &random) ?? NSNull()
            }
            if var object = value as? [String: Any], let key = object.keys.sorted().randomElement(using: &random) {
                if Int.random(in: 0..<5, using: &random) == 0 {
                    object.removeValue(forKey: key)
                } else {
                    object[key] = mutateStructure(object[key] ?? NSNull(), random: &random, depth: depth + 1)
                }
                return object
            }
            if var array = value as? [Any], !array.isEmpty {
                let index = Int.random(in: 0..<array.count, using: &random)
                array[index] = mutateStructure(array[index], random: &random, depth: depth + 1)
                return array
            }
            return replacements.randomElement(using: &random) ?? NSNull()
        }

        static func structurallyMutated(_ bytes: [UInt8], random: inout SplitMix64) -> [UInt8] {
            guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)),
                  let data = try? JSONSerialization.data(withJSONObject: mutateStructure(object, random: &random))
            else { return bytes }
            return Array(data)
        }

        /// Mutated inputs, made one at a time (a long run makes hundreds of thousands): a tenth
        /// purely random bytes, four tenths structural mutations, the rest byte-level mutations.
        struct Inputs: Sequence, IteratorProtocol {
            let seeds: [[UInt8]]
            let count: Int
            let noNewlines: Bool
            var random: SplitMix64
            var index = 0

            mutating func next() -> [UInt8]? {
                guard index < count else { return nil }
                defer { index += 1 }
                let base = seeds[index % seeds.count]
                switch index % 10 {
                case 0: return (0..<Int.random(in: 0...200, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }.map { noNewlines && $0 == 0x0A ? 0x20 : $0 }
                case 1...4: return structurallyMutated(base, random: &random)
                default: return mutate(base, random: &random, noNewlines: noNewlines)
                }
            }
        }

        static func inputs(from seeds: [[UInt8]], count: Int, seed: UInt64, noNewlines: Bool = false) -> Inputs {
            Inputs(seeds: seeds, count: count, noNewlines: noNewlines, random: SplitMix64(seed: seed))
        }

        @Test(.timeLimit(.minutes(5)))
        func theLineDecoderNeverTrapsOrHangsAndExplainsEveryRefusal() async throws {
            let decoder = EventLineDecoder(factory: UserEventFactory(config: try ConformanceFixtures.config))
            let started = Date()
            var refused = 0
            for input in Self.inputs(from: [Array(Self.impression.utf8), Array(Self.conversion.utf8)], count: ProofKnob.fuzzCases, seed: ProofKnob.seed).enumerated() {
                // A long run must not hold Swift concurrency's few threads from other tests.
                if input.offset % 64 == 0 { await Task.yield() }
                let input = input.element
                let caseStart = Date()
                do {
                    let event = try input.withUnsafeBufferPointer { bytes throws(EventLineError) in try decoder.decode(bytes) }
                    // What is accepted serializes to valid JSON.
                    let visitor = event.serialized().visitorJSON
                    #expect((try? JSONValue.parse(visitor)) != nil, "accepted input gives valid JSON")
                } catch {
                    refused += 1
                    #expect(!error.description.isEmpty)
                }
                #expect(Date().timeIntervalSince(caseStart) < 2, "no input takes long")
            }
            #expect(refused > ProofKnob.fuzzCases / 4, "the mutations do break lines")
            print("line decoder: \(ProofKnob.fuzzCases) inputs, \(refused) refused, \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        }

        @Test(.timeLimit(.minutes(5)))
        func theDatafileParserNeverTrapsOrHangsAndExplainsEveryRefusal() async throws {
            let datafile = try ConformanceFixtures.data("datafile.json")
            var refused = 0
            for input in Self.inputs(from: [datafile], count: ProofKnob.fuzzCases, seed: ProofKnob.seed &+ 1).enumerated() {
                // A long run must not hold Swift concurrency's few threads from other tests.
                if input.offset % 64 == 0 { await Task.yield() }
                let input = input.element
                let caseStart = Date()
                do {
                    _ = try ProjectConfig(datafile: input)
                } catch {
                    refused += 1
                    #expect(!error.description.isEmpty)
                }
                #expect(Date().timeIntervalSince(caseStart) < 2, "no input takes long")
            }
            #expect(refused > 0)
        }

        @Test(.timeLimit(.minutes(5)))
        func theCollectorsRequestParserNeverTrapsOrHangsAndExplainsEveryRefusal() async throws {
            let uuids = (0..<3).map { Proof.uuid(1, $0) }
            let visitors = QueueFixtures.events(0..<3).enumerated().map { $0.element.visitorJSON.replacingOccurrences(of: QueueFixtures.event($0.offset).uuid, with: uuids[$0.offset]) }
            let body = LogEvent.batch(context: QueueFixtures.context, visitors: visitors).body
            #expect(try RequestValidation.validate(method: "POST", path: "/v1/events", body: body, byteCount: body.count).get().uuids == uuids)
            var refused = 0
            for input in Self.inputs(from: [body], count: ProofKnob.fuzzCases, seed: ProofKnob.seed &+ 2).enumerated() {
                // A long run must not hold Swift concurrency's few threads from other tests.
                if input.offset % 64 == 0 { await Task.yield() }
                let input = input.element
                let caseStart = Date()
                switch RequestValidation.validate(method: "POST", path: "/v1/events", body: input, byteCount: input.count) {
                case .success(let batch):
                    #expect(batch.uuids.count <= 3 * 4 + 3)
                case .failure(let rejection):
                    refused += 1
                    #expect(rejection.status == 400)
                    #expect(!rejection.message.isEmpty)
                }
                #expect(Date().timeIntervalSince(caseStart) < 2, "no input takes long")
            }
            #expect(refused > ProofKnob.fuzzCases / 4)
        }

        @Test(.timeLimit(.minutes(2)))
        func enqueueOnAFuzzedFileReportsEveryBadLineAndQueuesTheRest() async throws {
            let folder = TemporaryFolder()
            let db = folder.file("events.sqlite")
            var random = SplitMix64(seed: ProofKnob.seed &+ 3)
            let good = (0..<200).map { Array(Proof.conversionLine(uuid: Proof.uuid(3, $0), index: $0).utf8) }
            let bad = Array(Self.inputs(from: [Array(Self.impression.utf8), Array(Self.conversion.utf8)], count: 300, seed: ProofKnob.seed &+ 4, noNewlines: true))
            let lines = (good + bad).shuffled(using: &random)
            let input = folder.file("fuzzed.jsonl")
            try Data(lines.joined(separator: [0x0A])).write(to: URL(fileURLWithPath: input))
            let blank: ([UInt8]) -> Bool = { $0.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D } }
            let counted = lines.filter { !blank($0) }.count

            let result = try await Proof.eventspool(["enqueue", "--db", db, "--datafile", Proof.datafilePath, "--input", input])
            #expect(result.status == 1)
            let summary = try #require(result.stdout.split(separator: "\n").last)
            let numbers = summary.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            try #require(numbers.count == 2 && summary.hasPrefix("enqueued "), "\(summary)")
            #expect(numbers[0] + numbers[1] == counted, "every non-blank line is enqueued or rejected")
            #expect(numbers[0] >= 200, "every good line is queued")
            let reports = result.stderr.split(separator: "\n")
            #expect(reports.count == numbers[1], "one report per rejected line")
            var previous = 0
            for report in reports {
                let number = report.dropFirst("eventspool enqueue: line ".count).prefix { $0.isNumber }
                #expect(report.hasPrefix("eventspool enqueue: line "), "\(report)")
                let line = Int(number) ?? 0
                #expect(line > previous, "reports in line order")
                previous = line
            }
            #expect(try await Proof.statsJSON(db)["pending"] == numbers[0])
        }
    }
}
