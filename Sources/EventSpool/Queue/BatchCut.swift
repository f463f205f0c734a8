/// Where the next batch ends: the batching rule of spec §5 as a pure function.
///
/// Given the pending events that are not yet in a batch, oldest first, a batch is the longest
/// run from the first event that shares its context, holds at most `maxEvents` events, and
/// whose request body stays within `maxBytes`.
struct BatchCut: Equatable, Sendable {
    /// Why the batch ended where it did.
    enum Boundary: Equatable, Sendable {
        /// It has `maxEvents` events.
        case size
        /// The next event would pass `maxBytes`.
        case bytes
        /// The next event has another context (a new revision, say).
        case contextChange
        /// There are no more pending events: the batch may still grow.
        case open
    }

    /// How many of the candidates form the batch (at least one when there was a candidate).
    var count: Int
    /// The request body size of the batch.
    var bodyBytes: Int
    /// Why it ended.
    var boundary: Boundary

    /// Whether the batch is complete, and so due now whatever its age.
    var isClosed: Bool { boundary != .open }

    /// One candidate event: its context key and visitor size.
    struct Candidate: Equatable, Sendable {
        var contextId: Int64
        var bytes: Int
    }

    /// Cuts the next batch from `candidates` (which must hold up to `maxEvents + 1` events, so
    /// that a full batch can be told from an open one).
    ///
    /// - Parameters:
    ///   - envelopeBytes: the body's size with no visitors: header, `"visitors": [`, `]}`.
    ///   - separatorBytes: the bytes between two visitors.
    ///   - maxEvents: `batchSize`.
    ///   - maxBytes: `maxBatchBytes`. The first event always goes in, since `process` refuses
    ///     an event that alone is too large for a request.
    static func cut(_ candidates: [Candidate], envelopeBytes: Int, separatorBytes: Int, maxEvents: Int, maxBytes: Int) -> BatchCut? {
        guard let first = candidates.first else { return nil }
        var count = 1
        var body = envelopeBytes + first.bytes
        for candidate in candidates.dropFirst() {
            if count >= maxEvents { return BatchCut(count: count, bodyBytes: body, boundary: .size) }
            if candidate.contextId != first.contextId {
                return BatchCut(count: count, bodyBytes: body, boundary: .contextChange)
            }
            if body + separatorBytes + candidate.bytes > maxBytes { return BatchCut(count: count, bodyBytes: body, boundary: .bytes) }
            count += 1
            body += separatorBytes + candidate.bytes
        }
        return BatchCut(count: count, bodyBytes: body, boundary: count >= maxEvents ? .size : .open)
    }
}
