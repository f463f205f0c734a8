import Foundation
import Logging

/// Opening a queue file: creating it with mode 0600, checking what it is, moving a damaged file
/// aside when asked, setting the pragmas, and migrating it.
enum QueueFile {
    /// Opens `path` per `configuration` and returns a connection ready for the queue's SQL.
    static func open(path: String, configuration: QueueConfiguration, lockWaits: LockWaits? = nil) throws(QueueError) -> SQLiteConnection {
        do {
            return try openOnce(path: path, configuration: configuration, lockWaits: lockWaits)
        } catch QueueError.corrupt(let path, let reason) where configuration.onCorruption == .moveAside && !configuration.readOnly {
            let moved = try moveAside(path: path, clock: configuration.clock)
            configuration.logger.warning(
                "queue file was damaged; moved aside and started a new queue",
                metadata: ["path": "\(path)", "moved_to": "\(moved)", "reason": "\(reason)"]
            )
            return try openOnce(path: path, configuration: configuration, lockWaits: lockWaits)
        }
    }

    private static func openOnce(path: String, configuration: QueueConfiguration, lockWaits: LockWaits?) throws(QueueError) -> SQLiteConnection {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        if exists && isDirectory.boolValue { throw .pathIsDirectory(path: path) }
        if !exists {
            if configuration.readOnly { throw .noQueueFile(path: path) }
            try create(path: path)
        } else if let problem = headerProblem(path: path) {
            // Checked before SQLite sees the file: on closing a connection to a file it cannot
            // read, SQLite may delete a -wal beside it, and nothing is deleted silently here.
            throw .corrupt(path: path, reason: problem)
        }

        let connection: SQLiteConnection
        do {
            connection = try SQLiteConnection(path: path, readOnly: configuration.readOnly, create: false)
        } catch {
            throw error.isCorruption ? .corrupt(path: path, reason: error.message) : .cannotOpen(path: path, reason: error.message)
        }
        do {
            connection.setBusyTimeout(milliseconds: configuration.busyTimeoutMillis, lockWaits: lockWaits)
            // Reading the schema is what makes SQLite look at the file: a file that is not a
            // database fails here, before anything is written to it.
            let objects = try connection.queryOne("SELECT count(*) FROM sqlite_master") { $0.int(0) } ?? 0
            let version = try Migrator.userVersion(connection)
            let latest = Migration.latestVersion
            if version > latest {
                throw QueueError.newerSchema(path: path, fileVersion: version, libraryVersion: latest)
            }
            if version == 0 && objects > 0 { throw QueueError.notAQueue(path: path) }
            if configuration.verifyOnOpen {
                let problems = try connection.query("PRAGMA quick_check(5)") { $0.text(0) }
                if problems != ["ok"] {
                    throw QueueError.corrupt(path: path, reason: "quick_check: \(problems.joined(separator: "; "))")
                }
            }
            if let pages = configuration.maxPageCount {
                // Per connection, not stored in the file: set on every opening.
                _ = try connection.queryOne("PRAGMA max_page_count = \(max(1, pages))") { $0.int(0) }
            }
            if configuration.readOnly {
                if version == 0 { throw QueueError.notAQueue(path: path) }
                _ = try connection.queryOne("SELECT count(*) FROM totals") { $0.int(0) }
                return connection
            }
            // Only once the file is known to be a queue (or a new one): another application's
            // database is not touched. Before WAL is turned on, so a new -wal and -shm are
            // created with the tightened mode.
            restrictMode(path: path, logger: configuration.logger)
            // WAL: readers never block the writer, and a commit is one append to the log.
            let mode = try connection.queryOne("PRAGMA journal_mode = WAL") { $0.text(0) } ?? ""
            guard mode.lowercased() == "wal" else {
                throw QueueError.cannotOpen(path: path, reason: "the file cannot use WAL journaling (journal_mode is \(mode))")
            }
            // In WAL mode NORMAL loses no committed transaction when the process dies; FULL
            // also survives a power loss at the cost of an fsync per commit.
            try connection.execute("PRAGMA synchronous = \(configuration.durability == .full ? "FULL" : "NORMAL")")
            // Checkpoints (which sync the file) come every ~40 MB of log rather than SQLite's
            // default 4 MB, and off the writer's path: EventQueue installs a WALCheckpointer once
            // the file is open. The log is truncated back to 64 MB after a checkpoint, and the
            // page cache is 8 MB, so memory stays flat whatever the backlog.
            try connection.execute("PRAGMA journal_size_limit = 67108864; PRAGMA cache_size = -8192")
            try Migrator().migrate(connection)
            return connection
        } catch let error as QueueError {
            connection.close()
            throw error
        } catch let error as SQLiteError {
            connection.close()
            throw classify(error, path: path)
        } catch {
            connection.close()
            throw .cannotOpen(path: path, reason: "\(error)")
        }
    }

    /// Why the file at `path` cannot be an SQLite database, judged by its first 16 bytes, or
    /// `nil` when it may be one (an empty file is a new database).
    static func headerProblem(path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        if header.isEmpty { return nil }
        if header == Data("SQLite format 3\u{0}".utf8) { return nil }
        return header.count < 16 ? "the file is too short to be a database" : "the file does not start with the SQLite header"
    }

    /// Maps an SQLite failure while opening to the queue's error.
    static func classify(_ error: SQLiteError, path: String) -> QueueError {
        if error.isCorruption { return .corrupt(path: path, reason: error.message) }
        if error.isFull { return .diskFull(path: path) }
        if error.code == 8 /* SQLITE_READONLY */ || error.code == 14 /* SQLITE_CANTOPEN */ {
            return .cannotOpen(path: path, reason: error.message)
        }
        return .sqlite(error)
    }

    /// Creates an empty file readable and writable by its owner only (events may carry PII).
    /// SQLite gives the `-wal` and `-shm` files the same mode.
    private static func create(path: String) throws(QueueError) {
        let fd = Foundation.open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        if fd >= 0 {
            Foundation.close(fd)
            return
        }
        let code = errno
        if code == EEXIST { return }  // another process created it first
        let folder = (path as NSString).deletingLastPathComponent
        let reason: String
        switch code {
        case ENOENT: reason = "the folder \(folder.isEmpty ? "." : folder) does not exist"
        case EACCES, EPERM, EROFS: reason = "the folder \(folder.isEmpty ? "." : folder) is not writable (\(String(cString: strerror(code))))"
        default: reason = String(cString: strerror(code))
        }
        throw .cannotOpen(path: path, reason: reason)
    }

    /// Makes an existing queue file (and its `-wal` and `-shm`) owner-only when it is readable or
    /// writable by others: a file made beforehand (`touch`, a restored backup, a provisioning
    /// script) would otherwise keep its mode, and SQLite gives the `-wal` and `-shm` the mode of
    /// the file, so events (which may carry personal data) would be readable by other users.
    /// Not done for another application's database or a file of a newer schema.
    private static func restrictMode(path: String, logger: Logger) {
        for file in [path, path + "-wal", path + "-shm"] {
            var info = stat()
            guard stat(file, &info) == 0, info.st_mode & 0o077 != 0 else { continue }
            if chmod(file, 0o600) == 0 {
                logger.warning(
                    "queue file was accessible to other users; made it owner-only (0600)",
                    metadata: ["path": "\(file)", "was": "\(String(info.st_mode & 0o777, radix: 8))"]
                )
            } else {
                logger.warning(
                    "queue file is accessible to other users and its mode cannot be changed",
                    metadata: ["path": "\(file)", "mode": "\(String(info.st_mode & 0o777, radix: 8))", "error": "\(String(cString: strerror(errno)))"]
                )
            }
        }
    }

    /// Renames `path` and its `-wal` and `-shm` to `path.corrupt-<timestamp>`; returns the new name.
    static func moveAside(path: String, clock: any EventClock) throws(QueueError) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withYear, .withMonth, .withDay, .withTime, .withTimeZone]
        let stamp = formatter.string(from: Date(timeIntervalSince1970: Double(clock.nowMillis()) / 1000))
            .replacingOccurrences(of: ":", with: "")
        var target = "\(path).corrupt-\(stamp)"
        var suffix = 1
        while FileManager.default.fileExists(atPath: target) {
            suffix += 1
            target = "\(path).corrupt-\(stamp)-\(suffix)"
        }
        for extra in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + extra) {
            guard rename(path + extra, target + extra) == 0 else {
                throw .cannotOpen(path: path, reason: "could not move the damaged file aside to \(target + extra): \(String(cString: strerror(errno)))")
            }
        }
        return target
    }
}
