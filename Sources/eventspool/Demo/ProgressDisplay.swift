import EventSpool
import Foundation

/// Shows the demo's progress: a bar redrawn in place on a terminal, or a plain line a second
/// when standard output is a file or a pipe.
struct ProgressDisplay {
    let total: Int
    let isTerminal = isatty(STDOUT_FILENO) == 1
    private var lastPlainLine = Date.distantPast

    init(total: Int) {
        self.total = total
    }

    /// A line of its own between progress lines.
    func note(_ line: String) {
        if isTerminal {
            FileHandle.standardOutput.write(Data("\r\(line)\u{1B}[K\n".utf8))
        } else {
            print(line)
        }
    }

    mutating func show(queued: Int, stats: QueueStats, final: Bool = false) {
        let done = stats.sent + stats.dead
        let figures = "queued \(queued)/\(total)  sent \(stats.sent)  batches \(stats.batchesSent)  retries \(stats.retries)  dead \(stats.dead)"
        if isTerminal {
            let width = 30
            let filled = total == 0 ? width : min(width, done * width / total)
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            let line = "\r\(bar) \(done * 100 / max(total, 1))%  \(figures)\u{1B}[K"
            FileHandle.standardOutput.write(Data((final ? line + "\n" : line).utf8))
        } else if final || Date().timeIntervalSince(lastPlainLine) >= 1 {
            lastPlainLine = Date()
            print("progress: \(figures)")
        }
    }
}
