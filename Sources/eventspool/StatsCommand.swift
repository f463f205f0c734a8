import ArgumentParser
import EventSpool
import Foundation

/// `eventspool stats`: counts by state, the oldest pending event's age, bytes and counters.
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show counts by state, the age of the oldest pending event, queue bytes and counters. Never writes."
    )

    @OptionGroup var queue: QueueOptions

    @Flag(help: "Print one JSON object (keys pending, inflight, sent, dead, …).")
    var json = false

    func run() throws {
        let stats = try CommandFailure.guarding { () throws in try queue.openForReading().stats() }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(stats), as: UTF8.self))
            return
        }
        let oldest = stats.oldestPendingAgeMillis.map { String(format: "%.1f s", Double($0) / 1000) } ?? "-"
        let rows: [(String, String)] = [
            ("pending", "\(stats.pending)"),
            ("inflight", "\(stats.inflight)"),
            ("sent", "\(stats.sent)"),
            ("dead", "\(stats.dead)"),
            ("oldest pending age", oldest),
            ("pending bytes", "\(stats.pendingBytes)"),
            ("queue bytes (pending, inflight, dead)", "\(stats.heldBytes)"),
            ("batches sent", "\(stats.batchesSent)"),
            ("events sent", "\(stats.eventsSent)"),
            ("retries", "\(stats.retries)"),
            ("splits", "\(stats.splits)"),
            ("dead-lettered", "\(stats.deadLettered)"),
            ("leases recovered", "\(stats.leasesRecovered)"),
            ("dropped (dropOldest)", "\(stats.droppedOldest)"),
            ("rejected (queue full)", "\(stats.rejectedFull)"),
        ]
        let width = rows.map(\.0.count).max() ?? 0
        for (name, value) in rows {
            print(name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value)
        }
    }
}
