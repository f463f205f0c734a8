import EventSpool
import Synchronization

/// What the demo's processor sent, by what made each batch go: its size, its age (the flush
/// interval), or a new datafile revision. Read from the processor's notifications: `logEvent`
/// before each request (a batch's first attempt is the one whose events were never seen; a
/// retry or a split half carries events already seen) and `configUpdate` for each new revision.
final class DemoTally: Sendable {
    /// The figures so far.
    struct Figures {
        var requests = 0
        var bySize = 0
        var byAge = 0
        var byRevision = 0
        /// Events of the older revision sent at once because a new one arrived.
        var eventsByRevision = 0
        /// Every revision that became the client's config, in order.
        var revisions: [String] = []
    }

    private struct State {
        var figures = Figures()
        var seen: Set<String> = []
    }

    private let batchSize: Int
    private let state = Mutex(State())

    /// Listens on `center`; batches of `batchSize` events went by size.
    init(center: EventNotificationCenter, batchSize: Int) {
        self.batchSize = batchSize
        center.addListener(for: .configUpdate) { [self] notification in
            guard case .configUpdate(let revision) = notification else { return }
            state.withLock { $0.figures.revisions.append(revision) }
        }
        center.addListener(for: .logEvent) { [self] notification in
            guard case .logEvent(let logEvent) = notification else { return }
            count(logEvent)
        }
    }

    var figures: Figures { state.withLock { $0.figures } }

    private func count(_ logEvent: LogEvent) {
        guard let body = try? JSONValue.parse(logEvent.body) else { return }
        let revision = body["revision"]?.stringValue
        var uuids: [String] = []
        if case .array(let visitors)? = body["visitors"] {
            for visitor in visitors {
                guard case .array(let snapshots)? = visitor["snapshots"] else { continue }
                for snapshot in snapshots {
                    guard case .array(let events)? = snapshot["events"] else { continue }
                    uuids += events.compactMap { $0["uuid"]?.stringValue }
                }
            }
        }
        state.withLock { state in
            state.figures.requests += 1
            let new = uuids.filter { !state.seen.contains($0) }
            guard !new.isEmpty else { return }  // a retry, or a half of a split batch
            state.seen.formUnion(new)
            // A batch of a revision older than the one in use went because the new one arrived:
            // size and age would have sent it later.
            if let revision, let current = state.figures.revisions.last, revision != current {
                state.figures.byRevision += 1
                state.figures.eventsByRevision += new.count
            } else if uuids.count == batchSize {
                state.figures.bySize += 1
            } else {
                state.figures.byAge += 1
            }
        }
    }
}
