import EventSpool
import Foundation
@testable import EventSpoolCollector

/// Request bodies in the shape of spec §4, written by hand, and helpers to break them.
enum CollectorFixtures {
    static func impressionVisitor(uuid: String) -> String {
        #"{"snapshots": [{"events": [{"entity_id": "10420273888", "uuid": "\#(uuid)", "key": "campaign_activated", "timestamp": 1700000001000}], "decisions": [{"campaign_id": "10420273888", "experiment_id": "10390977673", "variation_id": "10389729780", "metadata": {"flag_key": "", "rule_key": "checkout_button_test", "rule_type": "experiment", "variation_key": "control", "enabled": true}}]}], "attributes": [{"entity_id": "10401066117", "key": "browser", "type": "custom", "value": "chrome"}, {"entity_id": "$opt_bot_filtering", "key": "$opt_bot_filtering", "type": "custom", "value": false}], "visitor_id": "alice"}"#
    }

    static func conversionVisitor(uuid: String) -> String {
        #"{"snapshots": [{"events": [{"entity_id": "10428540015", "uuid": "\#(uuid)", "key": "purchase", "timestamp": 1700000002000, "revenue": 1999, "value": 19.99, "tags": {"revenue": 1999, "value": 19.99}}]}], "attributes": [], "visitor_id": "bob"}"#
    }

    /// A batch whose first event is an impression and the others conversions.
    static func body(uuids: [String]) -> String {
        let visitors = uuids.enumerated().map { $0.offset == 0 ? impressionVisitor(uuid: $0.element) : conversionVisitor(uuid: $0.element) }
        return #"{"account_id": "10367498574", "project_id": "10431130345", "revision": "241", "client_name": "python-sdk", "client_version": "5.7.0", "anonymize_ip": true, "enrich_decisions": true, "visitors": [\#(visitors.joined(separator: ", "))]}"#
    }

    static func bytes(uuids: [String]) -> [UInt8] { Array(body(uuids: uuids).utf8) }

    static let uuid1 = "6c0f4ea4-0b5c-4b39-9e4b-4b4a4fd0c0a1"
    static let uuid2 = "b3f2a1f0-3a6e-4c1e-8d43-0f7a1e9d2b52"
    static let uuid3 = "9e1d7c55-2f4b-4a0e-b5f1-3c8e2d6a7f03"

    /// A valid body of exactly `size` bytes: a conversion whose visitor id is padded.
    static func body(ofSize size: Int) -> [UInt8] {
        let base = body(uuids: [uuid1])
        let padding = String(repeating: "p", count: max(size - base.utf8.count, 0))
        return Array(base.replacingOccurrences(of: "\"alice\"", with: "\"alice\(padding)\"").utf8)
    }

    /// A place in a JSON value: an object key or an array index.
    enum Step {
        case key(String)
        case index(Int)
    }

    /// The fixture with one key removed (the last step) or one value replaced, written as
    /// EventSpool writes JSON (so `.double(30)` stays `30.0`).
    static func body(_ source: String = body(uuids: [uuid1, uuid2]), at path: [Step], replacedWith replacement: JSONValue?) throws -> [UInt8] {
        let value = try JSONValue.parse(source)
        return Array(edit(value, at: path[...], replacement).jsonText.utf8)
    }

    private static func edit(_ value: JSONValue, at path: ArraySlice<Step>, _ replacement: JSONValue?) -> JSONValue {
        guard let step = path.first else { return replacement ?? value }
        let rest = path.dropFirst()
        switch (value, step) {
        case (.object, .key(let key)):
            if rest.isEmpty { return value.setting(key, replacement) }
            guard let member = value[key] else { return value.setting(key, replacement) }
            return value.setting(key, edit(member, at: rest, replacement))
        case (.array(var elements), .index(let index)) where elements.indices.contains(index):
            if rest.isEmpty, replacement == nil {
                elements.remove(at: index)
            } else {
                elements[index] = edit(elements[index], at: rest, replacement)
            }
            return .array(elements)
        default:
            return value
        }
    }

    /// Polls `condition` every 10 ms until it holds or `seconds` pass.
    static func eventually(within seconds: Double = 5, _ condition: () async -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return await condition()
    }
}
