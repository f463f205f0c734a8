import Foundation

/// The bits of new event uuids: UUID version 7 (RFC 9562), time-ordered.
///
/// The queue's duplicate guard is a unique index on `events.uuid`. Random (v4) keys land on a
/// random page of that index, so a group of appends rewrites an index page for nearly every
/// event; time-ordered keys land on its last page or two. A v7 uuid is the Unix time in
/// milliseconds (48 bits), the version, a 12-bit counter and 62 random bits (RFC 9562 §5.7,
/// with the counter of §6.2 method 1): the uuids of this process are strictly increasing, as
/// text too, even when the clock stands still or steps back. The time it shows is no secret:
/// every event carries its timestamp anyway.
///
/// The random bits are read from the system 4 KB at a time: `SystemRandomNumberGenerator` makes
/// one `getrandom` call per 64 bits, about a sixth of the time it takes to build a conversion.
/// The pool belongs to the process that filled it: a forked child, which would otherwise hand
/// out the same bits as its parent, refills its own. Where `/dev/urandom` cannot be read, the
/// system generator is used.
enum UUIDVersion7 {
    /// The time and counter of the last uuid made, which the next one follows.
    struct Sequence {
        var millis: UInt64 = 0
        var counter: UInt64 = 0

        /// The high 64 bits (time, version, counter) of the next uuid made at `nowMillis`;
        /// `random` seeds the counter in a new millisecond.
        mutating func nextHigh(nowMillis: Int64, random: UInt64) -> UInt64 {
            let now = UInt64(max(0, nowMillis)) & 0xFFFF_FFFF_FFFF
            if now > millis {
                // A new millisecond: the counter starts at a random value below 2,048, which
                // leaves at least 2,048 uuids in this millisecond before it runs out.
                millis = now
                counter = random & 0x7FF
            } else if counter < 0xFFF {
                counter += 1
            } else {
                // The counter ran out: borrow the next millisecond (RFC 9562 §6.2).
                millis += 1
                counter = random & 0x7FF
            }
            return millis << 16 | 0x7000 | counter
        }
    }

    private struct State {
        var words: [UInt64] = []
        var next = 0
        var owner: pid_t = 0
        var sequence = Sequence()
    }

    private static let wordsPerRead = 512
    private static let shared = LockedValue(State())

    /// The 128 bits of a new uuid made at `nowMillis` (milliseconds since the Unix epoch), as
    /// its high and low 64 bits.
    static func next(nowMillis: Int64) -> (high: UInt64, low: UInt64) {
        let process = getpid()
        return shared.withLock { state in
            if state.owner != process || state.next + 2 > state.words.count {
                state.words = read(count: wordsPerRead)
                state.next = 0
                state.owner = process
            }
            let random = (state.words[state.next], state.words[state.next + 1])
            state.next += 2
            let high = state.sequence.nextHigh(nowMillis: nowMillis, random: random.0)
            let low = random.1 & 0x3FFF_FFFF_FFFF_FFFF | 0x8000_0000_0000_0000
            return (high, low)
        }
    }

    /// `count` random words from `/dev/urandom`, or from the system generator.
    private static func read(count: Int) -> [UInt64] {
        var words = [UInt64](repeating: 0, count: count)
        let byteCount = count * MemoryLayout<UInt64>.size
        let file = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        var filled = 0
        if file >= 0 {
            defer { close(file) }
            words.withUnsafeMutableBytes { buffer in
                while filled < byteCount {
                    let got = Foundation.read(file, buffer.baseAddress! + filled, byteCount - filled)
                    if got <= 0 { break }
                    filled += got
                }
            }
        }
        if filled < byteCount {
            var generator = SystemRandomNumberGenerator()
            for index in words.indices { words[index] = generator.next() }
        }
        return words
    }
}
