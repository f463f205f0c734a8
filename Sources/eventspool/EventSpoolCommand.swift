import ArgumentParser
import EventSpool
import Foundation

/// The `eventspool` command: drive and inspect a durable event queue without writing Swift.
/// Its commands, flags and formats are a contract (see the README's command reference).
@main
struct EventSpoolCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eventspool",
        abstract: "Inspect, fill, drain and repair an EventSpool queue.",
        subcommands: [
            DemoCommand.self,
            EnqueueCommand.self,
            DecideCommand.self,
            RunCommand.self,
            StatsCommand.self,
            ListCommand.self,
            RequeueCommand.self,
            PurgeCommand.self,
            CollectorCommand.self,
        ]
    )

    /// Runs the command. Errors, including a mistyped flag, are one line on standard error
    /// (cli.md), with `--help` named as the place to look; help itself goes to standard output.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            let message = message(for: error)
                .split(separator: "\n").first.map(String.init)?
                .replacingOccurrences(of: "Error: ", with: "") ?? ""
            if !message.isEmpty {
                CommandFailure.standardError("eventspool: error: \(message) (see eventspool --help)")
            }
            Foundation.exit(code.rawValue)
        }
    }
}
