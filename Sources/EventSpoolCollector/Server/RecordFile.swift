#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The `--record` file: JSON Lines appended with unbuffered `write(2)`, so each line is in
/// the file (not fsynced) before the response it describes is sent.
///
/// Used only on the collector's event loop.
final class RecordFile {
    let path: String
    private var descriptor: Int32

    /// Opens (or creates) `path` for appending.
    init(path: String) throws(CollectorError) {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw CollectorError.cannotOpenRecord(path: path, reason: String(cString: strerror(errno)))
        }
    }

    /// Appends `line`; returns the error text when the write failed.
    func append(_ line: [UInt8]) -> String? {
        guard descriptor >= 0 else { return "the record file is closed" }
        var written = 0
        while written < line.count {
            let result = line.withUnsafeBytes { buffer in
                write(descriptor, buffer.baseAddress.map { $0 + written }, buffer.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                return String(cString: strerror(errno))
            }
            written += result
        }
        return nil
    }

    /// Closes the file; later appends fail.
    func close() {
        guard descriptor >= 0 else { return }
        #if canImport(Darwin)
        _ = Darwin.close(descriptor)
        #elseif canImport(Glibc)
        _ = Glibc.close(descriptor)
        #else
        _ = Musl.close(descriptor)
        #endif
        descriptor = -1
    }

    deinit { close() }
}
