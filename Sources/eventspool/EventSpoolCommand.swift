import ArgumentParser
import EventSpool

/// The `eventspool` command: drive and inspect a durable event queue without writing Swift.
@main
struct EventSpoolCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eventspool",
        abstract: "Inspect, fill, drain and repair an EventSpool queue.",
        subcommands: []
    )
}
