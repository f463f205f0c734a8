import EventSpool

/// A payload that lacks a required key or has one of the wrong type.
struct PayloadError: Error {
    var message: String
}

/// Reads a ``ReceivedBatch`` out of a body parsed by EventSpool's `JSONParser`, naming the
/// place of the first problem. Numbers keep the kind they were written in (`1999` is
/// `.int`, `19.99` and `30.0` are `.double`); when an object repeats a key, the first
/// occurrence counts (`JSONValue`'s subscript).
enum PayloadReader {
    static func batch(_ value: JSONValue) throws(PayloadError) -> ReceivedBatch {
        let root = try object(value, at: "payload")
        return ReceivedBatch(
            accountId: try string(root, "account_id", at: "payload"),
            projectId: try string(root, "project_id", at: "payload"),
            revision: try string(root, "revision", at: "payload"),
            clientName: try string(root, "client_name", at: "payload"),
            clientVersion: try string(root, "client_version", at: "payload"),
            anonymizeIP: try bool(root, "anonymize_ip", at: "payload"),
            enrichDecisions: try bool(root, "enrich_decisions", at: "payload"),
            visitors: try array(root, "visitors", at: "payload").enumerated().map { (index, element) throws(PayloadError) in
                try visitor(element, at: "visitors[\(index)]")
            }
        )
    }

    static func visitor(_ value: JSONValue, at path: String) throws(PayloadError) -> ReceivedBatch.Visitor {
        let members = try object(value, at: path)
        let visitorId = try string(members, "visitor_id", at: path)
        let attributes = try array(members, "attributes", at: path)
        let snapshots = try array(members, "snapshots", at: path)
        return ReceivedBatch.Visitor(
            visitorId: visitorId,
            attributes: attributes,
            snapshots: try snapshots.enumerated().map { (index, element) throws(PayloadError) in
                try snapshot(element, at: "\(path).snapshots[\(index)]")
            }
        )
    }

    static func snapshot(_ value: JSONValue, at path: String) throws(PayloadError) -> ReceivedBatch.Snapshot {
        let members = try object(value, at: path)
        let events = try array(members, "events", at: path)
        var decisions: [ReceivedBatch.Decision]?
        if let listed = members["decisions"] {
            guard case .array(let elements) = listed else {
                throw PayloadError(message: "\(path).decisions is \(described(listed)), not an array")
            }
            decisions = try elements.enumerated().map { (index, element) throws(PayloadError) in
                try decision(element, at: "\(path).decisions[\(index)]")
            }
        }
        return ReceivedBatch.Snapshot(
            events: try events.enumerated().map { (index, element) throws(PayloadError) in
                try event(element, at: "\(path).events[\(index)]")
            },
            decisions: decisions
        )
    }

    static func event(_ value: JSONValue, at path: String) throws(PayloadError) -> ReceivedBatch.Event {
        let members = try object(value, at: path)
        let entityId = try string(members, "entity_id", at: path)
        let uuid = try string(members, "uuid", at: path)
        let key = try string(members, "key", at: path)
        let timestamp: Int64
        switch try required(members, "timestamp", at: path) {
        case .int(let milliseconds):
            timestamp = milliseconds
        case .double(let milliseconds) where milliseconds.value.rounded() == milliseconds.value && abs(milliseconds.value) < 9.0e18:
            timestamp = Int64(milliseconds.value)
        case let other:
            throw PayloadError(message: "\(path).timestamp is \(described(other)), not an integer")
        }
        return ReceivedBatch.Event(
            entityId: entityId, uuid: uuid, key: key, timestamp: timestamp,
            revenue: members["revenue"], value: members["value"], tags: members["tags"]
        )
    }

    /// Decisions are checked loosely: an object, whatever its fields hold.
    static func decision(_ value: JSONValue, at path: String) throws(PayloadError) -> ReceivedBatch.Decision {
        let members = try object(value, at: path)
        return ReceivedBatch.Decision(
            campaignId: members["campaign_id"]?.stringValue,
            experimentId: members["experiment_id"]?.stringValue,
            variationId: members["variation_id"]?.stringValue,
            metadata: members["metadata"]
        )
    }

    /// `value` when it is an object, to look its members up by key.
    static func object(_ value: JSONValue, at path: String) throws(PayloadError) -> JSONValue {
        guard case .object = value else {
            throw PayloadError(message: "\(path) is \(described(value)), not an object")
        }
        return value
    }

    static func required(_ members: JSONValue, _ key: String, at path: String) throws(PayloadError) -> JSONValue {
        guard let value = members[key] else { throw PayloadError(message: "\(path) lacks \(key)") }
        return value
    }

    static func string(_ members: JSONValue, _ key: String, at path: String) throws(PayloadError) -> String {
        let value = try required(members, key, at: path)
        guard case .string(let text) = value else {
            throw PayloadError(message: "\(path).\(key) is \(described(value)), not a string")
        }
        return text
    }

    static func bool(_ members: JSONValue, _ key: String, at path: String) throws(PayloadError) -> Bool {
        let value = try required(members, key, at: path)
        guard case .bool(let flag) = value else {
            throw PayloadError(message: "\(path).\(key) is \(described(value)), not a boolean")
        }
        return flag
    }

    static func array(_ members: JSONValue, _ key: String, at path: String) throws(PayloadError) -> [JSONValue] {
        let value = try required(members, key, at: path)
        guard case .array(let elements) = value else {
            throw PayloadError(message: "\(path).\(key) is \(described(value)), not an array")
        }
        return elements
    }

    /// The value's JSON type for a message: "an integer", "a string", "null".
    static func described(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .int, .array, .object: "an \(value.typeName)"
        default: "a \(value.typeName)"
        }
    }
}
