import Foundation
import Testing
@testable import EventSpool

/// The decision fixtures of the official SDK (`Fixtures/conformance/decisions`, copied byte for
/// byte), and their comparison as their README says: results equal without `reasons`; events
/// equal in number, kind and order, their params equal as JSON values with integers and floats
/// kept apart once uuids and timestamps follow the k-th-event scheme; notifications equal
/// without `reasons` in `decision_info`.
enum DecisionFixtures {
    static let directory = ConformanceFixtures.directory.appendingPathComponent("decisions")
    static let names = ["example", "generated1", "generated2", "generated3", "generated4", "generated5", "generated6"]
    /// The checklist fixtures (decisions.md §21), made with the official SDK in this project.
    static let checklistDirectory = ConformanceFixtures.directory.appendingPathComponent("decisions-checklist")
    static let checklistNames = ["checklist", "checklist-quiet", "checklist-profiles"]

    struct Fixture {
        let name: String
        let datafilePath: String
        let datafile: String
        /// The calls, each one line of `eventspool decide` input.
        let calls: [JSONValue]
        /// The user profiles the run starts with, when it uses a user profile service.
        let userProfiles: JSONValue?
        /// One expected line per call.
        let expected: [JSONValue]
    }

    static func load(_ name: String, from directory: URL = directory) throws -> Fixture {
        let input = try JSONValue.parse(try Data(contentsOf: directory.appendingPathComponent("\(name).input.json")))
        let datafileName = try #require(input["datafile"]?.stringValue)
        let datafilePath = directory.appendingPathComponent(datafileName).path
        let expectedText = try String(contentsOf: directory.appendingPathComponent("\(name).expected.jsonl"), encoding: .utf8)
        return Fixture(
            name: name,
            datafilePath: datafilePath,
            datafile: try String(contentsOfFile: datafilePath, encoding: .utf8),
            calls: try #require(input["calls"]?.arrayValue),
            userProfiles: input["user_profiles"],
            expected: try expectedText.split(separator: "\n").map { try JSONValue.parse(String($0)) }
        )
    }

    /// The k-th event's uuid in the fixtures (k from 1).
    static func uuid(_ k: Int) -> String {
        let digits = String(k)
        return "00000000-0000-4000-8000-" + String(repeating: "0", count: 12 - digits.count) + digits
    }

    /// The k-th event's timestamp in the fixtures.
    static func timestamp(_ k: Int) -> Int64 { 1_700_000_000_000 + 1000 * Int64(k) }

    /// What differs between one output line of ours and the expected line; `eventCount` counts
    /// the file's events so far (for the uuid and timestamp scheme).
    static func differences(ours: JSONValue, expected: JSONValue, eventCount: inout Int) -> [String] {
        if let error = ours["error"] { return ["an error line: \(error.jsonText)"] }
        var problems: [String] = []
        let op = expected["op"]?.stringValue ?? ""
        if ours["op"] != expected["op"] { problems.append("op \(ours["op"]?.jsonText ?? "none")") }
        let result = withoutReasons(ours["result"] ?? .null, op: op)
        let expectedResult = withoutReasons(expected["result"] ?? .null, op: op)
        if !sameJSON(result, expectedResult) {
            problems.append("result \(result.jsonText)\n  expected \(expectedResult.jsonText)")
        }
        let events = ours["events"]?.arrayValue ?? []
        let expectedEvents = expected["events"]?.arrayValue ?? []
        if events.count != expectedEvents.count { problems.append("\(events.count) events, expected \(expectedEvents.count)") }
        for (event, expectedEvent) in zip(events, expectedEvents) {
            eventCount += 1
            let params = withIdentity(event["params"] ?? .null, k: eventCount)
            let expectedLog = expectedEvent["log_event"] ?? .null
            if kind(ofParams: params) != expectedEvent["kind"]?.stringValue { problems.append("event \(eventCount): kind") }
            if event["url"] != expectedLog["url"] { problems.append("event \(eventCount): url \(event["url"]?.jsonText ?? "")") }
            if !sameJSON(params, expectedLog["params"] ?? .null) {
                problems.append("event \(eventCount): params \(params.jsonText)\n  expected \((expectedLog["params"] ?? .null).jsonText)")
            }
        }
        eventCount += max(0, expectedEvents.count - events.count)
        let notifications = (ours["notifications"]?.arrayValue ?? []).map(withoutInfoReasons)
        let expectedNotifications = (expected["notifications"]?.arrayValue ?? []).map(withoutInfoReasons)
        if !sameJSON(.array(notifications), .array(expectedNotifications)) {
            problems.append("notifications \(JSONValue.array(notifications).jsonText)\n  expected \(JSONValue.array(expectedNotifications).jsonText)")
        }
        return problems
    }

    /// A result without the `reasons` of its decisions.
    static func withoutReasons(_ result: JSONValue, op: String) -> JSONValue {
        switch op {
        case "decide":
            return result.removing(["reasons"])
        case "decide_for_keys", "decide_all":
            guard let decisions = result["decisions"]?.objectMembers else { return result }
            return result.setting("decisions", .object(decisions.map { .init(key: $0.key, value: $0.value.removing(["reasons"])) }))
        default:
            return result
        }
    }

    static func withoutInfoReasons(_ notification: JSONValue) -> JSONValue {
        notification.setting("decision_info", notification["decision_info"]?.removing(["reasons"]))
    }

    /// The params with the only event's uuid and timestamp replaced by the k-th event's.
    static func withIdentity(_ params: JSONValue, k: Int) -> JSONValue {
        guard let visitor = params["visitors"]?.arrayValue?.first,
              let snapshot = visitor["snapshots"]?.arrayValue?.first,
              let event = snapshot["events"]?.arrayValue?.first
        else { return params }
        let renamed = event.setting("uuid", .string(uuid(k))).setting("timestamp", .int(timestamp(k)))
        let newSnapshot = snapshot.setting("events", .array([renamed]))
        let newVisitor = visitor.setting("snapshots", .array([newSnapshot]))
        return params.setting("visitors", .array([newVisitor]))
    }

    /// `impression` for a `campaign_activated` event, else `conversion`.
    static func kind(ofParams params: JSONValue) -> String {
        let key = params["visitors"]?.arrayValue?.first?["snapshots"]?.arrayValue?.first?["events"]?.arrayValue?.first?["key"]
        return key == .string("campaign_activated") ? "impression" : "conversion"
    }
}

/// JSON equality as the fixtures' README asks: objects as maps (key order aside), arrays in
/// order, integers and floats never equal to each other.
func sameJSON(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
    switch (lhs, rhs) {
    case (.array(let a), .array(let b)):
        return a.count == b.count && zip(a, b).allSatisfy { sameJSON($0, $1) }
    case (.object(let a), .object(let b)):
        guard a.count == b.count else { return false }
        return a.allSatisfy { member in b.contains { $0.key == member.key && sameJSON($0.value, member.value) } }
    default:
        return lhs == rhs
    }
}
