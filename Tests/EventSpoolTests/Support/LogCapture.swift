import Logging
import Synchronization

/// A `Logger` whose records (level, message, metadata) are kept for assertions.
final class LogCapture: Sendable {
    typealias Entry = (level: Logger.Level, message: String, metadata: Logger.Metadata)

    private let store = Mutex<[Entry]>([])

    /// Every record, in order.
    var entries: [Entry] { store.withLock { $0 } }

    /// Every record rendered as `level message key=value …`.
    var messages: [String] {
        entries.map { entry in
            let rendered = entry.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            return "\(entry.level) \(entry.message) \(rendered)"
        }
    }

    /// A logger at trace level that records into this capture.
    var logger: Logger {
        var logger = Logger(label: "test") { _ in Handler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    fileprivate func append(_ entry: Entry) { store.withLock { $0.append(entry) } }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: Logging.LogEvent) {
            capture.append((event.level, "\(event.message)", metadata.merging(event.metadata ?? [:]) { $1 }))
        }
    }
}
