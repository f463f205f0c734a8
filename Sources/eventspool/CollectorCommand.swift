import ArgumentParser
import Dispatch
import EventSpoolCollector
import Foundation
import Logging

/// `eventspool collector`: a local stand-in for the Optimizely Events API, for development,
/// tests and demos (cli.md). Prints `listening on http://HOST:PORT` first, then answers until
/// SIGINT or SIGTERM, and exits 0.
struct CollectorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collector",
        abstract: "Run a local stand-in for the Optimizely Events API that validates, records and answers event batches.",
        discussion: """
            Accepts POST to any path ending in /v1/events. Answers 400 with a JSON error when the \
            body is not valid JSON, lacks the payload's required keys or is over 3,500,000 bytes; \
            otherwise 204, or what --fail says. Invalid requests do not use a --fail step.
            """
    )

    @Option(help: ArgumentHelp("The address to listen on.", valueName: "host"))
    var host = "127.0.0.1"

    @Option(help: ArgumentHelp("The port to listen on; 0 picks a free one.", valueName: "n"))
    var port = 8787

    @Option(help: ArgumentHelp("Append one JSON line per request to this file, before answering.", valueName: "path"))
    var record: String?

    @Option(help: ArgumentHelp(
        "Fault plan for valid requests: comma-separated steps 200, 503, 429:SECONDS, 400, 413, timeout, reset, each optionally xCOUNT; the last repeats. Example: 503x2,reset,429:1,200.",
        valueName: "plan"
    ))
    var fail: String?

    func run() async throws {
        let plan: FaultPlan
        do {
            plan = try fail.map { text throws(FaultPlanError) in try FaultPlan(parsing: text) } ?? .alwaysNoContent
        } catch {
            throw CommandFailure.report("\(error)")
        }
        guard (0...65_535).contains(port) else {
            throw CommandFailure.report("port \(port) is out of range; use 0 to 65535 (0 picks a free port)")
        }
        // Signals are caught before the first line, so a prompt SIGTERM still ends cleanly.
        let signals = TerminationSignals.catching([SIGINT, SIGTERM])
        let collector: Collector
        do {
            collector = try await Collector.start(
                host: host, port: port, plan: plan, recordPath: record,
                logger: Logger(label: "eventspool.collector"),
                retainsRequests: false  // the record file is the command's history
            )
        } catch {
            throw CommandFailure.report("\(error)")
        }
        FileHandle.standardOutput.write(Data("listening on http://\(host):\(collector.port)\n".utf8))
        await signals.next()
        do {
            try await collector.shutdown()
        } catch {
            throw CommandFailure.report("collector shutdown failed: \(error)")
        }
    }
}

/// Turns SIGINT and SIGTERM into an awaitable event instead of the default termination.
private struct TerminationSignals {
    private let stream: AsyncStream<Int32>
    private let sources: [any DispatchSourceSignal]

    static func catching(_ numbers: [Int32]) -> TerminationSignals {
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        let queue = DispatchQueue(label: "eventspool.collector.signals")
        let sources = numbers.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
        return TerminationSignals(stream: stream, sources: sources)
    }

    /// Waits for the first of the signals.
    func next() async {
        for await _ in stream { break }
        for source in sources { source.cancel() }
    }
}
