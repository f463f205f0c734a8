/// The duplicate guard's keys of the newest events, kept in memory by a queue that appends
/// (migration 0007).
///
/// The keys of events with ids up to `uuid_keys_mark.moved_through` are in the `uuid_keys`
/// table; those of newer events are only in their rows, and here. A key found here is a
/// candidate, not an answer: the caller reads the event's row to compare the uuid, so an event
/// deleted or rolled back since, or another uuid with the same key, is never taken for a
/// duplicate.
struct RecentUUIDKeys {
    /// Whether the keys were read since the queue opened or last failed to write.
    private(set) var isLoaded = false
    /// The newest event id whose key is here, or that is at or below the mark: newer events'
    /// keys must be read before a lookup.
    var knownThrough: Int64 = 0
    /// The file's `events_deleted` counter as of the last read, plus this queue's own deletes.
    /// Any other difference means another connection deleted events, and a newer event may
    /// have reused an id at or below `knownThrough`: the keys are then read afresh.
    var deletedCount = 0
    /// Event ids by key. Two events share a key only if their uuids collide in 64 bits, or
    /// when ids are reused; the second and later ids of a key are in `moreIds`.
    private var firstIds: [Int64: Int64] = [:]
    private var moreIds: [Int64: [Int64]] = [:]
    /// How many keys are held.
    private(set) var count = 0

    /// Forgets every key: the next append reads them afresh.
    mutating func invalidate() {
        self = RecentUUIDKeys()
    }

    /// Starts over, empty, knowing every event up to `mark`.
    mutating func startOver(knownThrough mark: Int64, deletedCount: Int) {
        self = RecentUUIDKeys()
        isLoaded = true
        knownThrough = mark
        self.deletedCount = deletedCount
    }

    /// Adds the key of event `id`.
    mutating func add(key: Int64, eventId id: Int64) {
        if firstIds[key] == nil {
            firstIds[key] = id
        } else {
            moreIds[key, default: []].append(id)
        }
        count += 1
        knownThrough = max(knownThrough, id)
    }

    /// The ids of the events held under `key`: candidates to compare by uuid.
    func eventIds(for key: Int64) -> [Int64] {
        guard let first = firstIds[key] else { return [] }
        return [first] + (moreIds[key] ?? [])
    }
}
