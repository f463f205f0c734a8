/// MurmurHash3 x86_32, the hash behind every bucket number (spec `decisions.md` §3.1).
///
/// ```swift
/// MurmurHash3.hash32("ppid11886780721")    // 2256854705
/// ```
package enum MurmurHash3 {
    /// The seed the reference SDKs bucket with.
    package static let bucketingSeed: UInt32 = 1

    /// The unsigned 32-bit hash of `key`'s UTF-8 bytes.
    package static func hash32(_ key: String, seed: UInt32 = bucketingSeed) -> UInt32 {
        var key = key
        return key.withUTF8 { hash32(bytes: $0, seed: seed) }
    }

    /// The unsigned 32-bit hash of `bytes`.
    package static func hash32(bytes: UnsafeBufferPointer<UInt8>, seed: UInt32 = bucketingSeed) -> UInt32 {
        let c1: UInt32 = 0xcc9e_2d51
        let c2: UInt32 = 0x1b87_3593
        var h = seed
        let blockCount = bytes.count / 4
        for block in 0..<blockCount {
            let offset = block * 4
            var k = UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
            k = (k &* c1).rotatedLeft(15) &* c2
            h = (h ^ k).rotatedLeft(13) &* 5 &+ 0xe654_6b64
        }
        let tail = blockCount * 4
        var k: UInt32 = 0
        switch bytes.count & 3 {
        case 3:
            k ^= UInt32(bytes[tail + 2]) << 16
            fallthrough
        case 2:
            k ^= UInt32(bytes[tail + 1]) << 8
            fallthrough
        case 1:
            k ^= UInt32(bytes[tail])
            h ^= (k &* c1).rotatedLeft(15) &* c2
        default:
            break
        }
        h ^= UInt32(truncatingIfNeeded: bytes.count)
        h ^= h >> 16
        h = h &* 0x85eb_ca6b
        h ^= h >> 13
        h = h &* 0xc2b2_ae35
        h ^= h >> 16
        return h
    }
}

extension UInt32 {
    @inline(__always)
    fileprivate func rotatedLeft(_ count: UInt32) -> UInt32 {
        (self << count) | (self >> (32 - count))
    }
}
