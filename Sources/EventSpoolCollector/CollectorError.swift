/// Why a collector could not start.
public enum CollectorError: Error, Hashable, CustomStringConvertible {
    /// The record file could not be opened for appending.
    case cannotOpenRecord(path: String, reason: String)
    /// The listening socket could not be bound.
    case cannotListen(host: String, port: Int, reason: String)

    public var description: String {
        switch self {
        case .cannotOpenRecord(let path, let reason):
            "cannot open the record file \(path): \(reason); check that its folder exists and is writable"
        case .cannotListen(let host, let port, let reason):
            "cannot listen on \(host):\(port): \(reason); choose another --port (0 picks a free one) or --host"
        }
    }
}
