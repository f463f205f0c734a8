import Dispatch
import Logging

/// Keeps a queue's write-ahead log short without making appends and claims wait for it.
///
/// SQLite's own automatic checkpoint runs inside the commit that crosses its threshold: that
/// one append pays for copying the log into the database file and syncing it, tens of
/// milliseconds for a 40 MB log. Here, once the log holds ``backgroundFrames`` frames, a commit
/// only asks for a checkpoint (again after each ``stepFrames`` more), which a second connection
/// runs on its own thread while the queue goes on writing (WAL lets a passive checkpoint run
/// beside a writer). A log can only start over from its beginning once a checkpoint has copied
/// all of it, which a checkpoint beside a steady writer never quite does: when the log reaches
/// ``inlineFrames``, the committing connection checkpoints the little that is left itself, and
/// the log starts over. It does the same when the background connection cannot keep up or
/// cannot open.
///
/// `@unchecked Sendable`: `connection` is only touched on the serial `worker` queue, and the
/// flags only under `flags`' lock.
final class WALCheckpointer: @unchecked Sendable {
    /// Log frames (pages) from which commits ask for background checkpoints: about 40 MB.
    static let backgroundFrames = 10_000
    /// Frames committed since the last background checkpoint before another is asked for:
    /// 4 MB, so that a busy writer does not keep a checkpoint running for a few pages each.
    static let stepFrames = 1_000
    /// Log frames after which the committing connection checkpoints itself: about 80 MB.
    static let inlineFrames = 20_000

    private struct Flags {
        var scheduled = false
        var closed = false
        /// The log's frames when the last background checkpoint began: all copied since.
        var copiedUpTo = 0
    }

    private let path: String
    private let logger: Logger
    private let worker = DispatchQueue(label: "EventSpool.checkpoint")
    private let flags = LockedValue(Flags())
    private var connection: SQLiteConnection?

    private init(path: String, logger: Logger) {
        self.path = path
        self.logger = logger
    }

    /// Takes over checkpointing of `writer`, the queue's connection to the file at `path`.
    static func install(
        on writer: SQLiteConnection, path: String, logger: Logger,
        backgroundFrames: Int = backgroundFrames, stepFrames: Int = stepFrames, inlineFrames: Int = inlineFrames
    ) -> WALCheckpointer {
        let checkpointer = WALCheckpointer(path: path, logger: logger)
        writer.onWALCommit { [unowned writer] frames in
            if frames >= inlineFrames {
                do throws(SQLiteError) {
                    try writer.checkpointPassively()
                } catch where error.isBusy {
                    // The background checkpoint is running: the next commit tries again.
                } catch {
                    logger.warning("cannot checkpoint the queue's log", metadata: ["path": "\(path)", "error": "\(error)"])
                }
            } else if frames >= backgroundFrames {
                checkpointer.committed(frames: frames, step: stepFrames)
            }
        }
        return checkpointer
    }

    /// A commit left `frames` frames in the log: schedules a background checkpoint unless one
    /// is under way or fewer than `step` frames came since the last.
    private func committed(frames: Int, step: Int) {
        let schedule = flags.withLock { flags in
            // Fewer frames than were copied: the log has started over.
            if frames < flags.copiedUpTo { flags.copiedUpTo = 0 }
            guard !flags.closed, !flags.scheduled, frames - flags.copiedUpTo >= step else { return false }
            flags.scheduled = true
            flags.copiedUpTo = frames
            return true
        }
        if schedule { worker.async { self.checkpoint() } }
    }

    /// Waits for a running checkpoint and closes the background connection. Later requests
    /// are ignored; closing twice is harmless.
    func close() {
        flags.withLock { $0.closed = true }
        worker.sync {
            connection?.close()
            connection = nil
        }
    }

    /// Returns once the checkpoint scheduled by the commits so far (if any) has run.
    func waitForScheduledCheckpoint() {
        worker.sync {}
    }

    private func checkpoint() {
        let closed = flags.withLock { $0.closed }
        defer { flags.withLock { $0.scheduled = false } }
        guard !closed else { return }
        do {
            if connection == nil {
                let opened = try SQLiteConnection(path: path, readOnly: false, create: false)
                opened.setBusyTimeout(milliseconds: 1_000)
                // A connection finds the file in WAL mode when it first reads it; until then a
                // checkpoint does nothing (and reports -1 frames).
                _ = try opened.queryOne("SELECT count(*) FROM sqlite_master") { $0.int(0) }
                connection = opened
            }
            try connection?.checkpointPassively()
        } catch {
            logger.warning("cannot checkpoint the queue's log in the background", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }
}
