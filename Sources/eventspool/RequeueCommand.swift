import ArgumentParser
import EventSpool

/// `eventspool requeue`: dead letters back to pending.
struct RequeueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "requeue",
        abstract: "Move every dead letter back to pending, to be sent by the next run."
    )

    @OptionGroup var queue: QueueOptions

    func run() throws {
        let count = try CommandFailure.guarding { () throws in try queue.openForWriting().requeueDeadLetters() }
        print("requeued \(count)")
    }
}
