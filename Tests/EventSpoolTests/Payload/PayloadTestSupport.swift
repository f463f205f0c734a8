import Foundation
import Logging
import Testing
@testable import EventSpool

/// The conformance fixtures, copied byte for byte from the shared folder into the test target.
enum ConformanceFixtures {
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Payload
        .deletingLastPathComponent()  // EventSpoolTests
        .appendingPathComponent("Fixtures/conformance")

    static func data(_ relativePath: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(relativePath)))
    }

    static func json(_ relativePath: String) throws -> JSONValue {
        try JSONValue.parse(try data(relativePath))
    }

    static var datafileJSON: JSONValue {
        get throws { try json("datafile.json") }
    }

    static var config: ProjectConfig {
        get throws { try ProjectConfig(json: try datafileJSON) }
    }

    static let scenarioNames = [
        "anonymize_ip_false", "conversion_tags", "decide_flags", "mixed_batch", "processor_settings", "single_impression",
    ]
}

/// A tiny seeded PRNG (SplitMix64), so random tests are repeatable.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Structural equality as the conformance README says: key order aside, numbers by value.
func equivalent(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
    switch (lhs, rhs) {
    case (.int(let a), .int(let b)): return a == b
    case (.double(let a), .double(let b)): return a.value == b.value
    case (.int(let a), .double(let b)), (.double(let b), .int(let a)): return Double(a) == b.value && Int64(exactly: b.value) == a
    case (.array(let a), .array(let b)):
        return a.count == b.count && zip(a, b).allSatisfy { equivalent($0, $1) }
    case (.object(let a), .object(let b)):
        guard a.count == b.count else { return false }
        for member in a {
            guard let other = b.first(where: { $0.key == member.key }), equivalent(member.value, other.value) else { return false }
        }
        return true
    default: return lhs == rhs
    }
}

extension JSONValue {
    /// The object without the named members.
    func removing(_ keys: Set<String>) -> JSONValue {
        guard case .object(let members) = self else { return self }
        return .object(members.filter { !keys.contains($0.key) })
    }

    /// The object with `key` set to `value` (or removed when `value` is nil).
    func setting(_ key: String, _ value: JSONValue?) -> JSONValue {
        guard case .object(var members) = self else { return self }
        if let index = members.firstIndex(where: { $0.key == key }) {
            if let value { members[index].value = value } else { members.remove(at: index) }
        } else if let value {
            members.append(.init(key: key, value: value))
        }
        return .object(members)
    }

    var arrayValue: [JSONValue]? {
        if case .array(let values) = self { return values }
        return nil
    }

    var intValue: Int64? {
        if case .int(let value) = self { return value }
        return nil
    }

    var objectMembers: [Member]? {
        if case .object(let members) = self { return members }
        return nil
    }
}

/// Turns a scenario input value into what a caller would pass, unwrapping the fixtures'
/// `{"$float": …}` and `{"$int": …}` wrappers for values JSON cannot hold.
func callerValue(_ json: JSONValue) -> EventValue {
    EventValue(json).unwrapped
}

func callerDictionary(_ json: JSONValue?) -> EventDictionary? {
    guard let json, case .object = json, case .object(let dictionary) = callerValue(json) else { return nil }
    return dictionary
}

/// Whether a scenario input value holds a non-finite float wrapper anywhere.
func holdsNonFinite(_ json: JSONValue) -> Bool {
    switch json {
    case .object(let members):
        if members.count == 1, members[0].key == "$float", case .string(let text) = members[0].value {
            return ["nan", "inf", "-inf"].contains(text)
        }
        return members.contains { holdsNonFinite($0.value) }
    case .array(let values): return values.contains(where: holdsNonFinite)
    default: return false
    }
}

/// Removes non-finite wrappers from an expected value (where EventSpool drops them on purpose).
func droppingNonFinite(_ json: JSONValue) -> JSONValue {
    switch json {
    case .object(let members):
        return .object(members.filter { !isNonFiniteWrapper($0.value) }.map { .init(key: $0.key, value: droppingNonFinite($0.value)) })
    case .array(let values):
        return .array(values.filter { !isNonFiniteWrapper($0) }.map(droppingNonFinite))
    default: return json
    }
}

func isNonFiniteWrapper(_ json: JSONValue) -> Bool {
    guard case .object(let members) = json, members.count == 1, members[0].key == "$float",
          case .string(let text) = members[0].value else { return false }
    return ["nan", "inf", "-inf"].contains(text)
}

func bodyJSON(_ logEvent: EventSpool.LogEvent) throws -> JSONValue {
    try JSONValue.parse(logEvent.body)
}
