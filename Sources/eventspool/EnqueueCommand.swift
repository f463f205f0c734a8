import ArgumentParser
import EventSpool
import Foundation

/// `eventspool enqueue`: JSON Lines of user events in, queued events out (cli.md).
struct EnqueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue",
        abstract: "Build user events from JSON Lines against a datafile and write them to the queue.",
        discussion: """
            Each line is one object: {"op": "impression", …} or {"op": "conversion", …} (see the README). \
            Rejected lines are reported on standard error with their line number; the others are written, \
            committed in groups of --group-size (and whenever the input has no more lines ready, so a slow \
            writer's lines are queued as they come). Prints "enqueued N, rejected M"; exits 1 when M > 0.
            """
    )

    @OptionGroup var queue: QueueOptions

    @Option(help: ArgumentHelp("The v4 datafile (JSON) the events are built against.", valueName: "path"))
    var datafile: String

    @Option(help: ArgumentHelp("The JSON Lines input; standard input when absent or -.", valueName: "path"))
    var input: String?

    @Option(name: .customLong("group-size"), help: "Lines committed in one transaction.")
    var groupSize = 5_000

    @Option(name: .customLong("max-batch-bytes"), help: "Reject an event whose request alone would be larger than this.")
    var maxBatchBytes = ProcessorConfiguration.Defaults.maxBatchBytes

    func validate() throws {
        guard groupSize > 0 else { throw ValidationError("--group-size must be 1 or more") }
        guard maxBatchBytes > 0 else { throw ValidationError("--max-batch-bytes must be 1 or more") }
    }

    func run() throws {
        let config = try CommandFailure.guarding { () throws in
            guard let bytes = FileManager.default.contents(atPath: datafile) else {
                throw EnqueueFailure("cannot read the datafile \(datafile): check the path")
            }
            do {
                return try ProjectConfig(datafile: bytes)
            } catch {
                throw EnqueueFailure("the datafile \(datafile) is not valid: \(error)")
            }
        }
        var reader = try CommandFailure.guarding { () throws in try LineReader(input: input) }
        let eventQueue = try queue.openForWriting()
        let decoder = EventLineDecoder(factory: UserEventFactory(config: config))

        var enqueued = 0
        var rejected = 0
        /// Lines rejected since the last report; printed in line order once their group is done.
        var rejections: [(line: Int, reason: String)] = []
        func report() {
            for rejection in rejections.sorted(by: { $0.line < $1.line }) {
                CommandFailure.standardError("eventspool enqueue: line \(rejection.line): \(rejection.reason)")
            }
            rejected += rejections.count
            rejections.removeAll()
        }
        // The group to commit, and the line number of each of its events, side by side: the
        // events go to the queue as they are, without a copy into an array of their own.
        var group: [SerializedEvent] = []
        var groupLines: [Int] = []
        func commit() throws {
            guard !group.isEmpty else { return }
            let outcomes = try CommandFailure.guarding { () throws(QueueError) in try eventQueue.append(contentsOf: group) }
            for (index, outcome) in outcomes.enumerated() {
                switch outcome {
                case .appended: enqueued += 1
                case .duplicate: rejections.append((groupLines[index], "event \(group[index].uuid) is already queued"))
                case .rejectedFull: rejections.append((groupLines[index], "the queue is full (see its bounds)"))
                }
            }
            group.removeAll(keepingCapacity: true)
            groupLines.removeAll(keepingCapacity: true)
            report()
        }
        // Every event of this decoder has its factory's context, so the bytes a request has
        // besides its visitors (the context's header, the closing brackets) are counted once.
        let requestOverhead = LogEvent.overheadByteCount(for: decoder.factory.context)

        try CommandFailure.guarding { () throws in
            try reader.forEachLine { bytes, number in
                if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }  // blank lines are skipped
                do {
                    let event = try decoder.decode(bytes).serialized()
                    let size = requestOverhead + event.byteCount  // a request of this one event
                    if size > maxBatchBytes {
                        rejections.append((number, "the event alone makes a \(size)-byte request, over --max-batch-bytes \(maxBatchBytes)"))
                        return
                    }
                    group.append(event)
                    groupLines.append(number)
                    if group.count >= groupSize { try commit() }
                } catch let error as EventLineError {
                    rejections.append((number, error.description))
                }
            } beforeWaiting: {
                // A slow writer's lines are queued (or reported) as they come, not held for a full group.
                try commit()
                report()
            }
            try commit()
        }
        report()
        print("enqueued \(enqueued), rejected \(rejected)")
        if rejected > 0 { throw ExitCode(1) }
    }
}

/// A failure of `enqueue` before any line is read.
struct EnqueueFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
