import ArgumentParser
import EventSpool

/// `eventspool purge`: delete sent and/or dead events.
struct PurgeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "Delete sent and/or dead events, optionally only old ones. Pending and in-flight events are never purged."
    )

    @OptionGroup var queue: QueueOptions

    @Flag(help: "Delete sent events.")
    var sent = false

    @Flag(help: "Delete dead letters.")
    var dead = false

    @Option(name: .customLong("older-than"), help: ArgumentHelp("Only events finished at least this many seconds ago.", valueName: "seconds"))
    var olderThan: Double?

    func validate() throws {
        guard sent || dead else { throw ValidationError("say what to purge: --sent, --dead, or both") }
        if let olderThan, !(olderThan >= 0 && olderThan.isFinite) {
            throw ValidationError("--older-than takes a number of seconds, 0 or more")
        }
    }

    func run() throws {
        let count = try CommandFailure.guarding { () throws in
            try queue.openForWriting().purge(sent: sent, dead: dead, olderThanMillis: olderThan.map { Int64($0 * 1000) })
        }
        print("purged \(count)")
    }
}
