import EventSpool
import Foundation

/// A child process for EventSpool's crash tests. It works on a queue and reports each step on
/// standard output (flushed at once) so the parent knows what had returned when it sent SIGKILL.
///
/// - `append DB COUNT GROUP`: appends COUNT synthetic events in groups of GROUP; after each
///   append returns, prints `ok UUID` for every event in it.
/// - `claim DB BATCHSIZE LEASEMS`: claims one batch, prints `claimed ID BYTES UUID…`, then
///   waits to be killed.
/// - `send DB BATCHSIZE LEASEMS`: runs a processor (lease LEASEMS) whose dispatcher answers 204
///   at once and prints `sent UUID` for every event of every request, until nothing is
///   pending or in flight; then prints `done` (or fails after a minute).
/// - `process-async DB COUNT`: writes COUNT synthetic events through a processor's async
///   `process` (the processor is never started); after each call returns, prints `ok UUID`.
/// - `memory-statistics DB`: turns off SQLite's memory statistics before any connection (prints
///   `disabled true|false`), then appends one event (prints `ok UUID`).
@main
enum TestHelper {
    static func main() async {
        let arguments = CommandLine.arguments
        guard arguments.count >= 3 else { fail("usage: EventSpoolTestHelper append|claim DB …") }
        let path = arguments[2]
        if arguments[1] == "memory-statistics" {
            emit("disabled \(SQLiteProcessSettings.disableMemoryStatistics())\n")
        }
        do {
            let queue = try EventQueue(path: path)
            switch arguments[1] {
            case "append":
                let count = arguments.count > 3 ? Int(arguments[3]) ?? 1000 : 1000
                let group = arguments.count > 4 ? max(1, Int(arguments[4]) ?? 1) : 1
                var index = 0
                while index < count {
                    let events = (index..<min(count, index + group)).map { syntheticEvent($0) }
                    if events.count == 1 {
                        try queue.append(events[0])
                    } else {
                        _ = try queue.append(contentsOf: events)
                    }
                    emit(events.map { "ok \($0.uuid)\n" }.joined())
                    index += events.count
                }
            case "claim":
                let size = arguments.count > 3 ? Int(arguments[3]) ?? 10 : 10
                let lease = arguments.count > 4 ? Int64(arguments[4]) ?? 15_000 : 15_000
                guard let batch = try queue.claimNextBatch(limits: BatchLimits(maxEvents: size), includeOpenBatch: true, leaseMillis: lease) else {
                    fail("nothing to claim")
                }
                emit("claimed \(batch.id) \(batch.visitors.joined(separator: ",").utf8.count) \(batch.uuids.joined(separator: " "))\n")
                while true { sleep(60) }
            case "process-async":
                let count = arguments.count > 3 ? Int(arguments[3]) ?? 1000 : 1000
                let processor = BatchEventProcessor(queue: queue, dispatcher: PrintingDispatcher())
                for index in 0..<count {
                    let event = syntheticEvent(index)
                    try await processor.process(event)
                    emit("ok \(event.uuid)\n")
                }
            case "memory-statistics":
                let event = syntheticEvent(0)
                try queue.append(event)
                emit("ok \(event.uuid)\n")
            case "send":
                let size = arguments.count > 3 ? Int(arguments[3]) ?? 10 : 10
                let lease = arguments.count > 4 ? Double(arguments[4]) ?? 15_000 : 15_000
                try await send(queue: queue, batchSize: size, leaseMillis: lease)
            default:
                fail("unknown command \(arguments[1])")
            }
        } catch {
            fail("\(error)")
        }
    }

    /// Sends everything in the queue through a dispatcher that prints what it gets.
    static func send(queue: EventQueue, batchSize: Int, leaseMillis: Double) async throws {
        var settings = ProcessorConfiguration()
        settings.batchSize = batchSize
        settings.leaseInterval = leaseMillis / 1000
        let processor = BatchEventProcessor(queue: queue, configuration: settings, dispatcher: PrintingDispatcher())
        processor.start()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            try await processor.flushAndWait()
            let stats = try queue.stats()
            if stats.pending == 0 && stats.inflight == 0 {
                await processor.stop()
                emit("done\n")
                return
            }
            // Another process holds the rest: look again shortly.
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        fail("the queue did not empty within a minute")
    }

    /// A conversion-like event of about 500 bytes whose fields all derive from `index` and a
    /// random uuid, so a torn row would show as a mismatch.
    static func syntheticEvent(_ index: Int) -> SerializedEvent {
        let uuid = UUID().uuidString.lowercased()
        let padding = String(repeating: "x", count: 380)
        let visitor = #"{"snapshots": [{"events": [{"entity_id": "10428540015", "uuid": "\#(uuid)", "key": "purchase", "timestamp": \#(1_700_000_000_000 + index)}]}], "attributes": [], "visitor_id": "user-\#(index)-\#(padding)"}"#
        return SerializedEvent(
            uuid: uuid, kind: .conversion, userId: "user-\(index)-\(padding)",
            context: EventContext(accountId: "1", projectId: "2", revision: "3", anonymizeIP: true, region: .us),
            visitorJSON: visitor, timestampMillis: 1_700_000_000_000 + Int64(index)
        )
    }

    /// Writes straight to the file descriptor (no buffer), so what the parent reads is all
    /// that had happened when it killed us.
    static func emit(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("EventSpoolTestHelper: \(message)\n".utf8))
        exit(2)
    }
}

/// Answers 204 at once and prints `sent UUID` for each event of the request.
struct PrintingDispatcher: EventDispatcher {
    func dispatch(_ logEvent: LogEvent) async throws -> DispatchResponse {
        guard case .array(let visitors) = try JSONValue.parse(logEvent.body)["visitors"] else { return DispatchResponse(status: 400) }
        let uuids = visitors.compactMap { visitor -> String? in
            guard case .array(let snapshots) = visitor["snapshots"], case .array(let events) = snapshots.first?["events"] else { return nil }
            return events.first?["uuid"]?.stringValue
        }
        TestHelper.emit(uuids.map { "sent \($0)\n" }.joined())
        return DispatchResponse(status: 204)
    }
}
