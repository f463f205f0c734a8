import Testing
@testable import EventSpool

@Suite("Cutting batches (spec §5)")
struct BatchCutTests {
    typealias Candidate = BatchCut.Candidate

    func run(_ contexts: [Int64], bytes: Int = 100) -> [Candidate] {
        contexts.map { Candidate(contextId: $0, bytes: bytes) }
    }

    @Test func nothingPendingCutsNothing() {
        #expect(BatchCut.cut([], envelopeBytes: 200, separatorBytes: 1, maxEvents: 10, maxBytes: 1_000) == nil)
    }

    @Test func batchClosesAtBatchSize() {
        let cut = BatchCut.cut(run(Array(repeating: 1, count: 11)), envelopeBytes: 200, separatorBytes: 1, maxEvents: 10, maxBytes: 1_000_000)
        #expect(cut == BatchCut(count: 10, bodyBytes: 200 + 10 * 100 + 9, boundary: .size))
    }

    @Test func exactlyBatchSizeEventsIsClosed() {
        let cut = BatchCut.cut(run(Array(repeating: 1, count: 10)), envelopeBytes: 200, separatorBytes: 1, maxEvents: 10, maxBytes: 1_000_000)
        #expect(cut?.boundary == .size)
    }

    @Test func fewerEventsThanBatchSizeStayOpen() {
        let cut = BatchCut.cut(run([1, 1, 1]), envelopeBytes: 200, separatorBytes: 1, maxEvents: 10, maxBytes: 1_000_000)
        #expect(cut == BatchCut(count: 3, bodyBytes: 200 + 300 + 2, boundary: .open))
        #expect(cut?.isClosed == false)
    }

    @Test func contextChangeClosesTheBatchAtOnce() {
        let cut = BatchCut.cut(run([1, 1, 2, 2]), envelopeBytes: 200, separatorBytes: 1, maxEvents: 10, maxBytes: 1_000_000)
        #expect(cut == BatchCut(count: 2, bodyBytes: 200 + 200 + 1, boundary: .contextChange))
    }

    @Test func byteLimitClosesBeforeTheEventThatWouldPassIt() {
        // 200 + 100 + 1 + 100 = 401 fits in 401; the third would make 502.
        let cut = BatchCut.cut(run([1, 1, 1]), envelopeBytes: 200, separatorBytes: 1, maxEvents: 10, maxBytes: 401)
        #expect(cut == BatchCut(count: 2, bodyBytes: 401, boundary: .bytes))
    }

    @Test func firstEventAlwaysGoesInEvenIfLarge() {
        let cut = BatchCut.cut(run([1, 1], bytes: 5_000), envelopeBytes: 200, separatorBytes: 1, maxEvents: 10, maxBytes: 1_000)
        #expect(cut?.count == 1)
        #expect(cut?.boundary == .bytes)
    }
}
