import ArgumentParser
import EventSpool
import Foundation

/// The `--db PATH` option every queue command takes.
struct QueueOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The queue file (SQLite).", valueName: "path"))
    var db: String

    /// Opens the queue for reading only: nothing is created, migrated or written.
    func openForReading() throws -> EventQueue {
        var configuration = QueueConfiguration()
        configuration.readOnly = true
        return try CommandFailure.guarding { () throws(QueueError) in try EventQueue(path: db, configuration: configuration) }
    }

    /// Opens (or creates) the queue for writing.
    func openForWriting(_ configuration: QueueConfiguration = QueueConfiguration()) throws -> EventQueue {
        try Self.openForWriting(path: db, configuration)
    }

    /// Opens (or creates) the queue at `path` for writing; a failure is the one-line report.
    static func openForWriting(path: String, _ configuration: QueueConfiguration = QueueConfiguration()) throws -> EventQueue {
        try CommandFailure.guarding { () throws(QueueError) in try EventQueue(path: path, configuration: configuration) }
    }
}

/// Reports a failure as one line on standard error and exits with status 1 (cli.md: never a
/// stack trace).
enum CommandFailure {
    /// Runs `body`, turning a thrown error into the one-line report.
    static func guarding<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw report("\(error)")
        }
    }

    /// Prints `eventspool: error: MESSAGE` on standard error and returns the exit to throw.
    static func report(_ message: String) -> ExitCode {
        standardError("eventspool: error: \(message)")
        return ExitCode.failure
    }

    /// Writes one line to standard error.
    static func standardError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
