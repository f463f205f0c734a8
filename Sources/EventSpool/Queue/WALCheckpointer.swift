import Dispatch
import Logging

/// Keeps a queue's write-ahead log short without making appends and claims wait for it.
///
/// SQLite's own automatic checkpoint runs inside the commit that crosses its threshold: that
/// one append pays for copying the log into the database file and syncing it, tens of
/// milliseconds for a 40 MB log. Here a commit that leaves more than ``backgroundFrames`` in the
/// log only asks for a checkpoint, which a second connection runs on its own thread while the
/// queue goes on writing (WAL lets a passive checkpoint run beside a writer). Should the log
/// still reach ``inlineFrames`` (the background connection cannot keep up, or cannot open), the
/// committing connection checkpoints itself, as SQLite would have.
///
/// `@unchecked Sendable`: `connection` is only touched on the serial `worker` queue, and the
/// flags only under `flags`' lock.
final class WALCheckpointer: @unchecked Sendable {
    /// Log frames (pages) after which a commit asks for a background checkpoint: about 40 MB.
    static let backgroundFrames = 10_000
    /// Log frames after which the committing connection checkpoints itself: about 80 MB.
    static let inlineFrames = 20_000

    private let path: String
    private let logger: Logger
    private let worker = DispatchQueue(label: "EventSpool.checkpoint")
    private let flags = LockedValue((scheduled: false, closed: false))
    private var connection: SQLiteConnection?

    private init(path: String, logger: Logger) {
        self.path = path
        self.logger = logger
    }

    /// Takes over checkpointing of `writer`, the queue's connection to the file at `path`.
    static func install(
        on writer: SQLiteConnection, path: String, logger: Logger,
        backgroundFrames: Int = backgroundFrames, inlineFrames: Int = inlineFrames
    ) -> WALCheckpointer {
        let checkpointer = WALCheckpointer(path: path, logger: logger)
        writer.onWALCommit { [unowned writer] frames in
            if frames >= inlineFrames {
                do {
                    try writer.checkpointPassively()
                } catch {
                    logger.warning("cannot checkpoint the queue's log", metadata: ["path": "\(path)", "error": "\(error)"])
                }
            } else if frames >= backgroundFrames {
                checkpointer.request()
            }
        }
        return checkpointer
    }

    /// Schedules a checkpoint on the background connection, unless one is already waiting.
    func request() {
        let schedule = flags.withLock { flags in
            guard !flags.closed, !flags.scheduled else { return false }
            flags.scheduled = true
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

    private func checkpoint() {
        // Cleared first: a commit during this checkpoint schedules the next one.
        let closed = flags.withLock { flags in
            flags.scheduled = false
            return flags.closed
        }
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
