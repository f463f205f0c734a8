import Foundation
@testable import EventSpool

/// Queue test data: synthetic serialized events and helpers to open queues on a manual clock.
enum QueueFixtures {
    static let context = EventContext(accountId: "10367498574", projectId: "10431130345", revision: "241", anonymizeIP: true, region: .us)
    static let euContext = EventContext(accountId: "10367498574", projectId: "10431130345", revision: "241", anonymizeIP: true, region: .eu)

    static func context(revision: String) -> EventContext {
        var context = context
        context.revision = revision
        return context
    }

    /// A conversion whose visitor JSON names its index, padded to about `size` bytes.
    static func event(_ index: Int, context: EventContext = context, size: Int = 200, uuid: String? = nil) -> SerializedEvent {
        let uuid = uuid ?? String(format: "00000000-0000-4000-8000-%012d", index)
        var visitor = #"{"snapshots": [{"events": [{"entity_id": "10428540015", "uuid": "\#(uuid)", "key": "purchase", "timestamp": \#(1_700_000_000_000 + index)}]}], "attributes": [], "visitor_id": "user-\#(index)"}"#
        if visitor.utf8.count < size {
            visitor = visitor.replacingOccurrences(of: "\"user-\(index)\"", with: "\"user-\(index)-\(String(repeating: "p", count: size - visitor.utf8.count - 1))\"")
        }
        return SerializedEvent(uuid: uuid, kind: .conversion, userId: "user-\(index)", context: context, visitorJSON: visitor, timestampMillis: 1_700_000_000_000 + Int64(index))
    }

    static func events(_ range: Range<Int>, context: EventContext = context, size: Int = 200) -> [SerializedEvent] {
        range.map { event($0, context: context, size: size) }
    }

    /// Opens a queue at `path` on `clock`, with `adjust` applied to the configuration.
    static func open(_ path: String, clock: any EventClock = ManualEventClock(), _ adjust: (inout QueueConfiguration) -> Void = { _ in }) throws -> EventQueue {
        var configuration = QueueConfiguration()
        configuration.clock = clock
        adjust(&configuration)
        return try EventQueue(path: path, configuration: configuration)
    }
}

/// Reads a queue file with a separate raw connection, as the sqlite3 tool would.
struct RawDatabase {
    let connection: SQLiteConnection

    init(_ path: String) throws {
        connection = try SQLiteConnection(path: path, readOnly: false, create: false)
        connection.setBusyTimeout(milliseconds: 5_000)
    }

    func int(_ sql: String) throws -> Int {
        try connection.queryOne(sql) { $0.int(0) } ?? -1
    }

    func strings(_ sql: String) throws -> [String] {
        try connection.query(sql) { $0.text(0) }
    }
}
