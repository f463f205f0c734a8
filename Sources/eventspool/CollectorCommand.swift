import ArgumentParser
import Dispatch
import EventSpool
import EventSpoolCollector
import Foundation
import Logging

/// `eventspool collector`: a local stand-in for the Optimizely Events API, for development,
/// tests and demos (cli.md). Prints `listening on http://HOST:PORT` first, then answers until
/// SIGINT or SIGTERM, and exits 0. With `--datafile` and `--sdk-key` it also serves that
/// datafile as the Optimizely CDN would, re-reading the file on SIGHUP.
struct CollectorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collector",
        abstract: "Run a local stand-in for the Optimizely Events API that validates, records and answers event batches.",
        discussion: """
            Accepts POST to any path ending in /v1/events. Answers 400 with a JSON error when the \
            body is not valid JSON, lacks the payload's required keys or is over 3,500,000 bytes; \
            otherwise 204, or what --fail says. Invalid requests do not use a --fail step.

            With --datafile PATH --sdk-key KEY it also serves that datafile at \
            GET /datafiles/KEY.json (or, with --datafile-access-token, only at \
            GET /datafiles/auth/KEY.json with Authorization: Bearer TOKEN), with Last-Modified, \
            and 304 when If-Modified-Since is not older. Send SIGHUP to re-read the file: it is \
            served with a newer Last-Modified. --datafile-fail injects faults into datafile \
            requests only.
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

    @Option(help: ArgumentHelp("Serve this datafile (a JSON file) by SDK key; needs --sdk-key. SIGHUP re-reads it.", valueName: "path"))
    var datafile: String?

    @Option(name: .customLong("sdk-key"), help: ArgumentHelp("The SDK key the datafile is served for: GET /datafiles/KEY.json.", valueName: "key"))
    var sdkKey: String?

    @Option(help: ArgumentHelp(
        "Serve the datafile only on the authenticated route, GET /datafiles/auth/KEY.json with Authorization: Bearer TOKEN.",
        valueName: "token"
    ))
    var datafileAccessToken: String?

    @Option(help: ArgumentHelp(
        "Fault plan for datafile requests: comma-separated steps 200 (serve), 500, 502, 503, 504, 400, 401, 403, 404, 410, 429:SECONDS, invalid, timeout, reset, each optionally xCOUNT; the last repeats. Example: 503x2,invalid,200.",
        valueName: "plan"
    ))
    var datafileFail: String?

    func run() async throws {
        let plan: FaultPlan
        let datafilePlan: DatafileFaultPlan
        do {
            plan = try fail.map { text throws(FaultPlanError) in try FaultPlan(parsing: text) } ?? .alwaysNoContent
        } catch {
            throw CommandFailure.report("\(error)")
        }
        do {
            datafilePlan = try datafileFail.map { text throws(FaultPlanError) in try DatafileFaultPlan(parsing: text) } ?? .alwaysServe
        } catch {
            throw CommandFailure.report("--datafile-fail: \(error)")
        }
        guard (0...65_535).contains(port) else {
            throw CommandFailure.report("port \(port) is out of range; use 0 to 65535 (0 picks a free port)")
        }
        let served = try servedDatafile()
        // Signals are caught before the first line, so a prompt SIGTERM still ends cleanly.
        let signals = CollectorSignals.catching([SIGINT, SIGTERM, SIGHUP])
        let collector: Collector
        do {
            collector = try await Collector.start(
                host: host, port: port, plan: plan, datafilePlan: datafilePlan, recordPath: record,
                logger: Logger(label: "eventspool.collector"),
                retainsRequests: false  // the record file is the command's history
            )
        } catch {
            throw CommandFailure.report("\(error)")
        }
        if let served {
            await collector.setDatafile(served.text, sdkKey: served.sdkKey, accessToken: datafileAccessToken)
        }
        var lines = "listening on http://\(host):\(collector.port)\n"
        if let served {
            let template = collector.datafileURLTemplate(authenticated: datafileAccessToken != nil)
            lines += "serving the datafile \(served.path) at \(template.replacingOccurrences(of: "{sdk_key}", with: served.sdkKey))\n"
        }
        FileHandle.standardOutput.write(Data(lines.utf8))
        while let number = await signals.next(), number == SIGHUP {
            guard let served else { continue }
            do {
                let text = try Self.readDatafile(at: served.path)
                let lastModified = await collector.setDatafile(text, sdkKey: served.sdkKey, accessToken: datafileAccessToken)
                FileHandle.standardOutput.write(Data("reloaded the datafile \(served.path), Last-Modified \(lastModified)\n".utf8))
            } catch {
                CommandFailure.standardError("eventspool collector: warning: \(error); still serving the previous datafile")
            }
        }
        signals.cancel()
        do {
            try await collector.shutdown()
        } catch {
            throw CommandFailure.report("collector shutdown failed: \(error)")
        }
    }
}

extension CollectorCommand {
    /// The datafile to serve, read and checked, or `nil` without `--datafile`.
    private func servedDatafile() throws -> (path: String, sdkKey: String, text: String)? {
        guard let datafile else {
            if sdkKey != nil || datafileAccessToken != nil || datafileFail != nil {
                throw CommandFailure.report("--sdk-key, --datafile-access-token and --datafile-fail need --datafile PATH, the datafile to serve")
            }
            return nil
        }
        guard let sdkKey, !sdkKey.isEmpty else {
            throw CommandFailure.report("--datafile needs --sdk-key KEY, the SDK key to serve it for (GET /datafiles/KEY.json)")
        }
        guard DatafileRoute(path: DatafileRoute.prefix + sdkKey + ".json")?.sdkKey == sdkKey else {
            throw CommandFailure.report("--sdk-key \(sdkKey) cannot be part of a URL path; use letters, digits, - and _")
        }
        if let datafileAccessToken, datafileAccessToken.isEmpty {
            throw CommandFailure.report("--datafile-access-token is empty; give a token, or leave it out to serve the datafile publicly")
        }
        do {
            return (datafile, sdkKey, try Self.readDatafile(at: datafile))
        } catch {
            throw CommandFailure.report("\(error)")
        }
    }

    /// Why a datafile cannot be served.
    struct DatafileFileError: Error, CustomStringConvertible {
        var description: String
    }

    /// The text of the datafile at `path`, checked to be one (a broken datafile is served with
    /// `--datafile-fail invalid` instead).
    static func readDatafile(at path: String) throws(DatafileFileError) -> String {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw DatafileFileError(description: "cannot read the datafile \(path): \((error as NSError).localizedDescription); check the path")
        }
        do {
            _ = try ProjectConfig(datafile: Array(data))
        } catch {
            throw DatafileFileError(description: "\(path) is not a usable datafile: \(error) (to serve a broken one, use --datafile-fail invalid)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Turns SIGINT, SIGTERM and SIGHUP into awaitable events instead of the default termination.
private struct CollectorSignals {
    private let stream: AsyncStream<Int32>
    private let sources: [any DispatchSourceSignal]

    static func catching(_ numbers: [Int32]) -> CollectorSignals {
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        let queue = DispatchQueue(label: "eventspool.collector.signals")
        let sources = numbers.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
        return CollectorSignals(stream: stream, sources: sources)
    }

    /// Waits for the next of the signals.
    func next() async -> Int32? {
        for await number in stream { return number }
        return nil
    }

    /// Stops catching the signals.
    func cancel() {
        for source in sources { source.cancel() }
    }
}
