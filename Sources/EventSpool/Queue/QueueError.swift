/// Why the queue refused an operation. Each case's description says what failed and how to
/// fix it; callers can switch on the case.
public enum QueueError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The path names a folder, not a file.
    case pathIsDirectory(path: String)
    /// The file could not be created or opened (a missing or read-only folder, permissions).
    case cannotOpen(path: String, reason: String)
    /// A read-only command was pointed at a path with no queue file.
    case noQueueFile(path: String)
    /// The file is not an SQLite database, or is damaged.
    case corrupt(path: String, reason: String)
    /// The file is an SQLite database that is not an EventSpool queue.
    case notAQueue(path: String)
    /// The file was written by a newer EventSpool whose schema this library does not know.
    case newerSchema(path: String, fileVersion: Int, libraryVersion: Int)
    /// An event with this uuid is already in the queue (spec §3: processing twice never sends twice).
    case duplicateEvent(uuid: String)
    /// The queue is at its bound and the overflow policy is `rejectNew`.
    case full(maxEvents: Int?, maxBytes: Int?)
    /// The disk (or the file's size limit) is full; nothing was written.
    case diskFull(path: String)
    /// The queue is opened read-only.
    case readOnly(path: String)
    /// The batch is not in a state that allows this outcome (for example, already sent).
    case batchNotInFlight(batchId: Int64)
    /// A batch of a single event cannot be split.
    case cannotSplitSingleEvent(batchId: Int64)
    /// Another SQLite failure.
    case sqlite(SQLiteError)

    /// What went wrong, in one line: what, which file, and how to fix it.
    public var description: String {
        switch self {
        case .pathIsDirectory(let path):
            "\(path) is a folder, not a queue file: pass the path of a file inside it, e.g. \(path)/events.sqlite"
        case .cannotOpen(let path, let reason):
            "cannot open the queue file \(path): \(reason); check that its folder exists and is writable, or choose another path"
        case .noQueueFile(let path):
            "no queue file at \(path): check the path (a queue is created by the first command or processor that writes to it)"
        case .corrupt(let path, let reason):
            "\(path) is not a usable SQLite database (\(reason)); move it aside and start a new queue (the option onCorruption: .moveAside does this), or restore a backup"
        case .notAQueue(let path):
            "\(path) is an SQLite database but not an EventSpool queue; choose another path so its tables are not touched"
        case .newerSchema(let path, let fileVersion, let libraryVersion):
            "\(path) has queue schema version \(fileVersion), but this EventSpool knows versions up to \(libraryVersion); upgrade EventSpool (the file was left untouched)"
        case .duplicateEvent(let uuid):
            "event \(uuid) is already queued; an event is processed once (give a new event a new uuid)"
        case .full(let maxEvents, let maxBytes):
            "the queue is full (bounds: \(maxEvents.map { "\($0) events" } ?? "no event bound"), \(maxBytes.map { "\($0) bytes" } ?? "no byte bound")); let the worker drain it, raise the bounds, or use the overflow policy dropOldest"
        case .diskFull(let path):
            "the disk holding \(path) is full; nothing was written, free space and try again"
        case .readOnly(let path):
            "\(path) is opened read-only; open it for writing to change it"
        case .batchNotInFlight(let batchId):
            "batch \(batchId) is not in flight (already finished, or its lease was recovered)"
        case .cannotSplitSingleEvent(let batchId):
            "batch \(batchId) holds one event and cannot be split; dead-letter it instead"
        case .sqlite(let error):
            "\(error)"
        }
    }
}
