import Logging

/// How an ``EventQueue`` opens and bounds its file.
///
/// ```swift
/// var configuration = QueueConfiguration()
/// configuration.durability = .full          // fsync on every commit
/// configuration.maxEvents = 1_000_000
/// configuration.overflowPolicy = .dropOldest
/// let queue = try EventQueue(path: "events.sqlite", configuration: configuration)
/// ```
public struct QueueConfiguration: Sendable {
    /// How hard a commit works to survive a power failure.
    public enum Durability: String, Sendable, CaseIterable {
        /// `synchronous=NORMAL` in WAL mode: a commit survives a crash or `kill -9` of the
        /// process; a power loss may lose the last commits, never corrupt the file.
        case normal
        /// `synchronous=FULL`: every commit is synced to disk before it returns.
        case full
    }

    /// What happens when an append would pass ``maxEvents`` or ``maxBytes``.
    public enum OverflowPolicy: String, Sendable, CaseIterable {
        /// The new event is refused with ``QueueError/full(maxEvents:maxBytes:)``.
        case rejectNew
        /// The oldest pending events that are not part of a batch are deleted to make room.
        case dropOldest
    }

    /// What to do when the file is not a database or is damaged.
    public enum CorruptionPolicy: Sendable, Equatable {
        /// Throw ``QueueError/corrupt(path:reason:)`` and leave the file as it is.
        case fail
        /// Rename the file (and its `-wal` and `-shm`) to `NAME.corrupt-<timestamp>` and start a
        /// new queue. Nothing is deleted.
        case moveAside
    }

    /// Commit durability; `.normal` by default.
    public var durability: Durability = .normal
    /// What to do with a damaged file; `.fail` by default.
    public var onCorruption: CorruptionPolicy = .fail
    /// Open without writing anything (for inspection). A missing file is then an error.
    public var readOnly = false
    /// The most events held (pending, in flight or dead); `nil` for no bound.
    public var maxEvents: Int?
    /// The most visitor bytes held (pending, in flight or dead); `nil` for no bound.
    public var maxBytes: Int?
    /// What an append does at a bound.
    public var overflowPolicy: OverflowPolicy = .rejectNew
    /// How long sent rows are kept before the worker deletes them (every `pruneInterval`), in
    /// milliseconds.
    public var sentRetentionMillis: Int64 = 24 * 60 * 60 * 1000
    /// How long a connection waits for another process's write lock before retrying, in
    /// milliseconds. While it waits it tries the lock again every 250 µs for the first 10 ms,
    /// then about a tenth of the time waited so far apart, at most 10 ms.
    public var busyTimeoutMillis: Int32 = 5_000
    /// How long a write keeps retrying a busy database in all before it reports
    /// ``QueueError/sqlite(_:)``, in milliseconds.
    public var busyRetryLimitMillis: Int64 = 120_000
    /// The largest the database file may grow, in pages (`PRAGMA max_page_count`; a page is
    /// 4,096 bytes by default); `nil` for SQLite's own limit. A write that would pass it fails
    /// with ``QueueError/diskFull(path:)`` and writes nothing, exactly as a full disk does, so
    /// an application can cap the queue's footprint on disk (and tests can fill a "disk").
    /// A limit below the file's current size holds it at that size. The `-wal` file is not
    /// counted. Appends stop a little short of the limit (16 pages, plus about 48 bytes for each
    /// event not yet sent), so that the worker, which writes as it sends, can still empty a
    /// queue filled to the limit.
    public var maxPageCount: Int?
    /// Check every page of the file when it is opened (`PRAGMA quick_check`), so that damage
    /// deep in the file is found at once, as ``QueueError/corrupt(path:reason:)`` (and moved
    /// aside with ``CorruptionPolicy/moveAside``), rather than by a later read or write.
    /// `false` by default: the check reads the whole file, which costs time on a large queue;
    /// without it only the header and the schema are checked on opening, and damage found
    /// later is still reported as ``QueueError/corrupt(path:reason:)``.
    public var verifyOnOpen = false
    /// The clock that stamps rows and measures leases.
    public var clock: any EventClock = SystemEventClock()
    /// Where the queue logs (moving a damaged file aside, recovered leases, drops). Silent by default.
    public var logger = Logger(label: "EventSpool.queue", factory: { _ in SwiftLogNoOpLogHandler() })

    /// The default configuration.
    public init() {}
}
