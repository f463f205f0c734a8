/// The 64-bit key under which an event's uuid is indexed (migration 0004): FNV-1a over the
/// uuid's UTF-8 bytes. The index on it is the fast half of the duplicate guard of spec §3; the
/// uuid text itself is compared for any row with the same key, so a shared key never loses an
/// event.
enum UUIDKey {
    /// The name of the SQL function that computes the key, defined on every queue connection
    /// before migrations run.
    static let sqlFunctionName = "eventspool_uuid_key"

    /// The key of `uuid`.
    static func of(_ uuid: String) -> Int64 {
        var uuid = uuid
        return uuid.withUTF8(of)
    }

    /// The key of a uuid given as UTF-8 bytes.
    static func of(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return Int64(bitPattern: hash)
    }
}
