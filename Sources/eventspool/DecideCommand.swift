import ArgumentParser
import EventSpool
import Foundation
import Synchronization

/// `eventspool decide`: calls of the Optimizely client as JSON Lines in, one result line out per
/// call, with the call's events and DECISION notifications (cli.md).
struct DecideCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decide",
        abstract: "Run Optimizely client calls (decide, activate, track, …) on a datafile.",
        discussion: """
            Each input line is one call, {"op": "decide", "user_id": "alice", "flag_key": "new_nav"} for example \
            (see the README); each output line is {"call", "op", "result", "events", "notifications"}, or \
            {"call", "error"} for a line that is not a call. State (forced variations and decisions, user profiles) \
            lives for the whole run. With --db the events are also queued for `eventspool run`. Answers are \
            written whenever no more calls are ready, so a program can talk to decide over pipes.
            """
    )

    @Option(help: ArgumentHelp("The datafile (JSON) to decide with.", valueName: "path"))
    var datafile: String

    @Option(help: ArgumentHelp("Also queue the events in this queue file, durably, for `eventspool run`.", valueName: "path"))
    var db: String?

    @Option(help: ArgumentHelp("The JSON Lines input; standard input when absent or -.", valueName: "path"))
    var input: String?

    @Option(name: .customLong("user-profiles"),
            help: ArgumentHelp("Use a user profile service holding these profiles ({user_id: {…}}, {} for none); the file is only read.", valueName: "path"))
    var userProfiles: String?

    @Option(name: .customLong("default-decide-options"),
            help: ArgumentHelp("Decide options added to every call, comma-separated (e.g. INCLUDE_REASONS,EXCLUDE_VARIABLES).", valueName: "list"))
    var defaultDecideOptions: String?

    @Option(name: .customLong("client-name"), help: ArgumentHelp("The SDK name in the events' header.", valueName: "name"))
    var clientName = EventContext.defaultClientName

    @Option(name: .customLong("client-version"), help: ArgumentHelp("The SDK version in the events' header.", valueName: "version"))
    var clientVersion = EventContext.defaultClientVersion

    func validate() throws {
        _ = try parsedOptions()
    }

    /// The `--default-decide-options`, each a reference name.
    private func parsedOptions() throws -> [OptimizelyDecideOption] {
        guard let defaultDecideOptions else { return [] }
        return try defaultDecideOptions.split(separator: ",").map { name in
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard let option = OptimizelyDecideOption(rawValue: trimmed) else {
                let known = OptimizelyDecideOption.allCases.map(\.rawValue).joined(separator: ", ")
                throw ValidationError("--default-decide-options: \"\(trimmed)\" is not a decide option; use \(known)")
            }
            return option
        }
    }

    func run() async throws {
        let config = try CommandFailure.guarding { () throws in
            guard let bytes = FileManager.default.contents(atPath: datafile) else {
                throw DecideFailure("cannot read the datafile \(datafile): check the path")
            }
            do { return try ProjectConfig(datafile: bytes) } catch { throw DecideFailure("the datafile \(datafile) is not valid: \(error)") }
        }
        let profiles = try CommandFailure.guarding { () throws in try loadUserProfiles() }
        var reader = try CommandFailure.guarding { () throws in try LineReader(input: input) }
        var processor: BatchEventProcessor?
        if let db {
            // The queue's own processor, not started: each event is in the file when the call
            // returns, and `eventspool run` sends it.
            let queue = try QueueOptions.openForWriting(path: db)
            processor = BatchEventProcessor(queue: queue)
        }
        let queueing = processor.map { QueueingProcessor(processor: $0) }
        let session = ClientCallSession(config: config, eventProcessor: queueing, userProfileService: profiles,
                                        defaultDecideOptions: try parsedOptions(), clientName: clientName, clientVersion: clientVersion)
        var output = OutputBuffer()
        var call = 0
        try CommandFailure.guarding { () throws in
            try reader.forEachLine { bytes, _ in
                if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }  // blank lines are not calls
                defer { call += 1 }
                do {
                    queueing?.call.withLock { $0 = call }
                    output.append(session.run(try ClientCall(line: bytes)).jsonLine(call: call))
                } catch let error as ClientCallError {
                    output.append(ClientCallOutcome.errorLine(call: call, message: error.description))
                }
            } beforeWaiting: {
                // Answers go out before waiting for more calls, so a program can talk to decide over pipes.
                output.flush()
            }
        }
        output.flush()
        await processor?.stop()
        if let failures = queueing?.failures.withLock({ $0 }), failures > 0 {
            throw CommandFailure.report("\(failures) events could not be queued in \(db ?? ""); see the lines above")
        }
    }

    /// The user profile service of `--user-profiles`, or none.
    private func loadUserProfiles() throws -> InMemoryUserProfileService? {
        guard let userProfiles else { return nil }
        guard let bytes = FileManager.default.contents(atPath: userProfiles) else {
            throw DecideFailure("cannot read the user profiles \(userProfiles): check the path")
        }
        do {
            let json = try Array(bytes).withUnsafeBufferPointer { buffer throws(JSONParseError) in try EventValue.parse(buffer) }
            return InMemoryUserProfileService(profiles: try UserProfile.profiles(fromJSON: json))
        } catch {
            throw DecideFailure("the user profiles \(userProfiles) are not valid: \(error)")
        }
    }
}

/// Passes events to the queue's processor, reporting each one it cannot queue on standard error.
private final class QueueingProcessor: EventProcessor {
    let processor: BatchEventProcessor
    /// The input call being run, for the report.
    let call = Mutex(0)
    /// How many events could not be queued.
    let failures = Mutex(0)

    init(processor: BatchEventProcessor) {
        self.processor = processor
    }

    func process(_ event: UserEvent) throws(ProcessorError) {
        try process(contentsOf: [event])
    }

    func process(contentsOf events: [UserEvent]) throws(ProcessorError) {
        do {
            try processor.process(contentsOf: events)
        } catch {
            failures.withLock { $0 += 1 }
            CommandFailure.standardError("eventspool decide: call \(call.withLock { $0 }): events were not queued: \(error)")
            throw error
        }
    }
}

/// Standard output, written in large pieces.
private struct OutputBuffer {
    private var bytes: [UInt8] = []

    mutating func append(_ line: String) {
        bytes.append(contentsOf: line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        if bytes.count >= 1 << 16 { flush() }
    }

    mutating func flush() {
        guard !bytes.isEmpty else { return }
        FileHandle.standardOutput.write(Data(bytes))
        bytes.removeAll(keepingCapacity: true)
    }
}

/// A failure of `decide` before any line is read.
struct DecideFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
