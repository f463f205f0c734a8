import Foundation
import Testing
@testable import EventSpool

/// `eventspool decide` (cli.md), run as the built binary: the decision fixtures through the
/// command, and its input and output rules.
@Suite("eventspool decide", .serialized)
struct DecideCommandTests {
    let folder = TemporaryFolder()
    var exampleDatafile: String { DecisionFixtures.directory.appendingPathComponent("example.datafile.json").path }

    func decide(_ lines: [String], datafile: String? = nil, extra: [String] = []) async throws -> (status: Int32, stdout: String, stderr: String) {
        let input = folder.file("input-\(UUID().uuidString.prefix(6)).jsonl")
        try lines.joined(separator: "\n").write(toFile: input, atomically: true, encoding: .utf8)
        return try await ChildProcess("eventspool", ["decide", "--datafile", datafile ?? exampleDatafile, "--input", input] + extra).finish()
    }

    func outputLines(_ stdout: String) throws -> [JSONValue] {
        try stdout.split(separator: "\n").map { try JSONValue.parse(String($0)) }
    }

    @Test(arguments: DecisionFixtures.names)
    func everyFixtureCallMatchesTheReferenceThroughTheCommand(_ name: String) async throws {
        let fixture = try DecisionFixtures.load(name)
        var extra = ["--client-name", "python-sdk", "--client-version", "5.7.0"]
        if let profiles = fixture.userProfiles {
            let path = folder.file("\(name)-profiles.json")
            try profiles.jsonText.write(toFile: path, atomically: true, encoding: .utf8)
            extra += ["--user-profiles", path]
        }
        let result = try await decide(fixture.calls.map(\.jsonText), datafile: fixture.datafilePath, extra: extra)
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        let lines = try outputLines(result.stdout)
        #expect(lines.count == fixture.expected.count)
        var eventCount = 0
        var matched = 0
        for (index, (line, expected)) in zip(lines, fixture.expected).enumerated() {
            #expect(line["call"] == .int(Int64(index)))
            let problems = DecisionFixtures.differences(ours: line, expected: expected, eventCount: &eventCount)
            #expect(problems.isEmpty, "\(name) call \(index):\n\(problems.joined(separator: "\n"))")
            if problems.isEmpty { matched += 1 }
        }
        #expect(matched == fixture.calls.count, "\(name): \(matched) of \(fixture.calls.count) calls match")
    }

    @Test func outputKeysComeInTheOrderOfCliMd() async throws {
        let result = try await decide([#"{"op": "decide", "user_id": "flag_user_1", "attributes": {"is_logged_in": true}, "flag_key": "new_nav"}"#])
        let line = try #require(try outputLines(result.stdout).first)
        #expect(line.objectMembers?.map(\.key) == ["call", "op", "result", "events", "notifications"])
        #expect(line["result"]?.objectMembers?.map(\.key) == ["flag_key", "enabled", "variation_key", "rule_key", "variables", "reasons"])
        #expect(line["events"]?.arrayValue?.first?.objectMembers?.map(\.key) == ["url", "params"])
        #expect(line["notifications"]?.arrayValue?.first?.objectMembers?.map(\.key) == ["type", "decision_type", "user_id", "attributes", "decision_info"])
        #expect(result.stdout.contains(#""client_name": "swift-eventspool""#), "EventSpool's own client name unless told otherwise")
    }

    @Test func aLineThatIsNotACallGivesAnErrorLineAndTheRunGoesOn() async throws {
        let result = try await decide([
            "not json",
            "",
            #"{"op": "explode", "user_id": "u"}"#,
            #"{"op": "decide", "flag_key": "new_nav"}"#,
            #"{"op": "decide", "user_id": 7, "flag_key": "new_nav"}"#,
            #"{"op": "get_forced_variation", "experiment_key": "checkout_button_test", "user_id": "u"}"#,
        ])
        #expect(result.status == 0)
        let lines = try outputLines(result.stdout)
        #expect(lines.count == 5, "a blank line is not a call")
        #expect(lines[0].objectMembers?.map(\.key) == ["call", "error"])
        #expect(lines[0]["call"] == .int(0) && lines[1]["call"] == .int(1))
        #expect(lines[1]["error"]?.stringValue?.contains("explode") == true)
        #expect(lines[2]["error"]?.stringValue?.contains("user_id") == true)
        #expect(lines[3]["error"]?.stringValue?.contains("user_id") == true)
        #expect(lines[4]["result"] == .object([.init(key: "variation_key", value: .null)]))
    }

    @Test func anUnreadableOrInvalidDatafileIsOneLineAndStatusOneWithNothingOnStandardOutput() async throws {
        let missing = try await decide([], datafile: folder.file("nope.json"))
        #expect(missing.status == 1 && missing.stdout.isEmpty)
        #expect(missing.stderr.split(separator: "\n").count == 1 && missing.stderr.contains("nope.json"))
        let invalid = folder.file("invalid.json")
        try #"{"version": "4", "accountId": "1", "projectId": "2", "revision": "3"}"#.write(toFile: invalid, atomically: true, encoding: .utf8)
        let rejected = try await decide([#"{"op": "decide", "user_id": "u", "flag_key": "f"}"#], datafile: invalid)
        #expect(rejected.status == 1 && rejected.stdout.isEmpty)
        #expect(rejected.stderr.contains("attributes"), "names what is missing: \(rejected.stderr)")
    }

    @Test func stateLivesForTheWholeRun() async throws {
        let result = try await decide([
            #"{"op": "set_forced_decision", "user_id": "u2", "flag_key": "dark_mode", "variation_key": "on"}"#,
            #"{"op": "decide", "user_id": "u2", "flag_key": "dark_mode"}"#,
            #"{"op": "decide", "user_id": "someone_else", "flag_key": "dark_mode"}"#,
            #"{"op": "remove_forced_decision", "user_id": "u2", "flag_key": "dark_mode", "rule_key": null}"#,
            #"{"op": "remove_forced_decision", "user_id": "u2", "flag_key": "dark_mode"}"#,
            #"{"op": "set_forced_variation", "experiment_key": "checkout_button_test", "user_id": "u1", "variation_key": "blue_button"}"#,
            #"{"op": "get_forced_variation", "experiment_key": "checkout_button_test", "user_id": "u1"}"#,
            #"{"op": "remove_all_forced_decisions", "user_id": "u2"}"#,
        ])
        let lines = try outputLines(result.stdout)
        #expect(lines[0]["result"] == .object([.init(key: "returned", value: .bool(true))]))
        #expect(lines[1]["result"]?["rule_key"] == .null && lines[1]["result"]?["variation_key"] == .string("on"))
        #expect(lines[2]["result"]?["rule_key"] != .null, "forced decisions are kept per user id")
        #expect(lines[3]["result"]?["returned"] == .bool(true) && lines[4]["result"]?["returned"] == .bool(false))
        #expect(lines[6]["result"]?["variation_key"] == .string("blue_button"))
        #expect(lines[7]["result"]?["returned"] == .bool(true))
    }

    @Test func defaultDecideOptionsApplyToEveryCallAndAnUnknownNameIsRefused() async throws {
        let line = #"{"op": "decide", "user_id": "flag_user_1", "attributes": {"is_logged_in": true}, "flag_key": "new_nav"}"#
        let result = try await decide([line], extra: ["--default-decide-options", "INCLUDE_REASONS,DISABLE_DECISION_EVENT"])
        let output = try #require(try outputLines(result.stdout).first)
        #expect(output["result"]?["reasons"]?.arrayValue?.isEmpty == false)
        #expect(output["events"] == .array([]))
        let refused = try await decide([line], extra: ["--default-decide-options", "INCLUDE_REASON"])
        #expect(refused.status != 0 && refused.stdout.isEmpty && refused.stderr.contains("INCLUDE_REASON"))
    }

    @Test func wrappedValuesReachTheClientAndComeBackWrapped() async throws {
        let result = try await decide([
            #"{"op": "decide", "user_id": "u", "attributes": {"age": {"$float": "nan"}, "ltv": {"$int": "9007199254740993"}}, "flag_key": "new_nav"}"#,
        ])
        let notification = try #require(try outputLines(result.stdout).first?["notifications"]?.arrayValue?.first)
        #expect(notification["attributes"] == .object([
            .init(key: "age", value: .object([.init(key: "$float", value: .string("nan"))])),
            .init(key: "ltv", value: .int(9_007_199_254_740_993)),
        ]))
    }

    @Test func withADatabaseTheEventsAreQueuedDurably() async throws {
        let db = folder.file("events.sqlite")
        let result = try await decide([
            #"{"op": "decide", "user_id": "flag_user_1", "attributes": {"is_logged_in": true}, "flag_key": "new_nav"}"#,
            #"{"op": "track", "event_key": "purchase", "user_id": "u1", "event_tags": {"revenue": 4200}}"#,
        ], extra: ["--db", db])
        #expect(result.status == 0)
        let printed = try outputLines(result.stdout).flatMap { $0["events"]?.arrayValue ?? [] }
        let queue = try QueueFixtures.open(db)
        let batch = try #require(try queue.claimNextBatch(limits: BatchLimits(), includeOpenBatch: true))
        #expect(batch.uuids.count == 2)
        let printedUUIDs = printed.compactMap { $0["params"]?["visitors"]?.arrayValue?.first?["snapshots"]?.arrayValue?.first?["events"]?.arrayValue?.first?["uuid"]?.stringValue }
        #expect(batch.uuids == printedUUIDs, "the queued events are the printed ones")
    }

    @Test func userProfilesAreReadFromTheFileAndTheFileIsNotChanged() async throws {
        let path = folder.file("profiles.json")
        let profiles = #"{"u9": {"user_id": "u9", "experiment_bucket_map": {"10420810910": {"variation_id": "10418551354"}}}}"#
        try profiles.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try await decide([
            #"{"op": "activate", "experiment_key": "checkout_button_test", "user_id": "u9"}"#,
        ], extra: ["--user-profiles", path])
        let line = try #require(try outputLines(result.stdout).first)
        #expect(line["result"]?["variation_key"] == .string("blue_button"), "the stored variation wins")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == profiles)
        let bad = try await decide([], extra: ["--user-profiles", folder.file("missing.json")])
        #expect(bad.status == 1 && bad.stdout.isEmpty && bad.stderr.contains("missing.json"))
    }

    @Test func standardInputIsReadWhenNoInputIsGiven() async throws {
        let input = Data((#"{"op": "get_enabled_features", "user_id": "u", "attributes": {"browser": "chrome"}}"# + "\n").utf8)
        let result = try await ChildProcess("eventspool", ["decide", "--datafile", exampleDatafile], input: input).finish()
        let line = try #require(try outputLines(result.stdout).first)
        #expect(line["result"]?["features"] == .array([.string("dark_mode")]))
    }

    /// A program can talk to `decide` over pipes: each answer comes out while the input is
    /// still open, once no more calls are ready, not at the end of the input.
    @Test func eachAnswerComesOutBeforeTheInputEnds() async throws {
        let child = try ChildProcess("eventspool", ["decide", "--datafile", exampleDatafile], keepingInputOpen: true)
        let writer = try #require(child.inputWriter)
        for call in 0..<2 {
            writer.write(Data((#"{"op": "get_enabled_features", "user_id": "u", "attributes": {"browser": "chrome"}}"# + "\n").utf8))
            let answer = await child.readLine(within: 60)
            let line = try JSONValue.parse(try #require(answer, "answer \(call) came before the input ended"))
            #expect(line["call"] == .int(Int64(call)))
            #expect(line["result"]?["features"] == .array([.string("dark_mode")]))
        }
        try writer.close()
        let result = await child.finish()
        #expect(result.status == 0 && result.stdout.isEmpty)
    }
}
