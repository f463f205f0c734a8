import Foundation

/// The random bits of new event uuids, read from the system 4 KB at a time.
///
/// `SystemRandomNumberGenerator` makes one `getrandom` call per 64 bits, two per uuid: about a
/// sixth of the time it takes to build a conversion. Here one read of `/dev/urandom` serves 256
/// uuids. The pool belongs to the process that filled it: a forked child, which would otherwise
/// hand out the same bits as its parent, refills its own. Where `/dev/urandom` cannot be read,
/// the system generator is used as before.
enum UUIDRandomness {
    private struct Pool {
        var words: [UInt64] = []
        var next = 0
        var owner: pid_t = 0
    }

    private static let wordsPerRead = 512
    private static let pool = LockedValue(Pool())

    /// 128 random bits.
    static func next() -> (UInt64, UInt64) {
        let process = getpid()
        return pool.withLock { pool in
            if pool.owner != process || pool.next + 2 > pool.words.count {
                pool.words = read(count: wordsPerRead)
                pool.next = 0
                pool.owner = process
            }
            defer { pool.next += 2 }
            return (pool.words[pool.next], pool.words[pool.next + 1])
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
