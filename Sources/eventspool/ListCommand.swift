import ArgumentParser
import EventSpool
import Foundation

extension EventState: ExpressibleByArgument {}

/// `eventspool list`: events oldest first, optionally in one state.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List events oldest first. Never writes."
    )

    @OptionGroup var queue: QueueOptions

    @Option(help: "Only events in this state: pending, inflight, sent or dead.")
    var state: EventState?

    @Option(help: "At most this many rows (0: no limit).")
    var limit = 100

    @Flag(help: "Print JSON Lines (keys id, uuid, kind, user_id, state, attempts, last_error, batch_id, url, …).")
    var json = false

    func validate() throws {
        guard limit >= 0 else { throw ValidationError("--limit must be 0 (no limit) or more, not \(limit)") }
    }

    func run() throws {
        let events = try CommandFailure.guarding { () throws in
            try queue.openForReading().list(state: state, limit: limit == 0 ? nil : limit)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            var output = ""
            for event in events {
                output += String(decoding: try encoder.encode(event), as: UTF8.self) + "\n"
            }
            FileHandle.standardOutput.write(Data(output.utf8))
            return
        }
        print("id\tstate\tkind\tuuid\tuser_id\tattempts\tbatch\tlast_error")
        for event in events {
            let fields = [
                "\(event.id)", event.state.rawValue, event.kind, event.uuid, event.userId, "\(event.attempts)",
                event.batchId.map { "\($0)" } ?? "-", event.lastError ?? "-",
            ]
            print(fields.joined(separator: "\t"))
        }
    }
}
