import Foundation
import Logging

/// An object that receives a ``BatchEventProcessor``'s notifications.
///
/// Listeners are compared by identity: adding the same object twice for a type is refused.
public protocol ProcessorListener: AnyObject, Sendable {
    /// Handles one notification. Called on the processor's worker; a throw is logged and the
    /// worker goes on. Keep it short: the next dispatch waits for it.
    func handle(_ notification: ProcessorNotification) throws
}

/// Why a listener was not added.
public enum NotificationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// This object already listens to this type, under the id given.
    case alreadyAdded(type: NotificationType, id: Int)

    /// One line saying why the listener was not added.
    public var description: String {
        switch self {
        case .alreadyAdded(let type, let id):
            "this listener already listens to \(type.rawValue) notifications (id \(id)); remove it first to add it again"
        }
    }
}

/// Listeners of a processor's notifications, each with an id (spec §8), like the reference
/// SDK's notification center.
///
/// ```swift
/// let center = EventNotificationCenter()
/// let id = center.addListener(for: .logEvent) { notification in
///     if case .logEvent(let logEvent) = notification { print(logEvent.url) }
/// }
/// center.removeListener(id: id)
/// ```
public final class EventNotificationCenter: Sendable {
    private struct Entry {
        var id: Int
        var type: NotificationType
        var object: ObjectIdentifier?
        var handler: @Sendable (ProcessorNotification) throws -> Void
    }

    private let state = LockedValue<(nextId: Int, entries: [Entry])>((1, []))
    private let logger: Logger

    /// Creates a center; listener failures are logged to `logger` (silent by default).
    public init(logger: Logger = UserEventFactory.silentLogger) {
        self.logger = logger
    }

    /// Adds an object listener for `type`.
    ///
    /// - Returns: the listener's id.
    /// - Throws: ``NotificationError/alreadyAdded(type:id:)`` when this object already listens to `type`.
    @discardableResult
    public func addListener(_ listener: some ProcessorListener, for type: NotificationType) throws(NotificationError) -> Int {
        let object = ObjectIdentifier(listener)
        let result: Result<Int, NotificationError> = state.withLock { state in
            if let existing = state.entries.first(where: { $0.object == object && $0.type == type }) {
                return .failure(.alreadyAdded(type: type, id: existing.id))
            }
            let id = state.nextId
            state.nextId += 1
            state.entries.append(Entry(id: id, type: type, object: object) { [weak listener] in try listener?.handle($0) })
            return .success(id)
        }
        return try result.get()
    }

    /// Adds a closure listener for `type`. Closures cannot be compared, so each call adds a new
    /// listener; keep the id to remove it.
    ///
    /// - Returns: the listener's id.
    @discardableResult
    public func addListener(for type: NotificationType, _ handler: @escaping @Sendable (ProcessorNotification) throws -> Void) -> Int {
        state.withLock { state in
            let id = state.nextId
            state.nextId += 1
            state.entries.append(Entry(id: id, type: type, object: nil, handler: handler))
            return id
        }
    }

    /// Removes the listener with `id`; `false` when there is none.
    @discardableResult
    public func removeListener(id: Int) -> Bool {
        state.withLock { state in
            let before = state.entries.count
            state.entries.removeAll { $0.id == id }
            return state.entries.count < before
        }
    }

    /// Whether any listener listens to `type` (the client builds ACTIVATE and TRACK
    /// notifications only then, as the reference does).
    public func hasListeners(for type: NotificationType) -> Bool {
        state.withLock { $0.entries.contains { $0.type == type } }
    }

    /// Removes every listener of `type`.
    public func clearListeners(for type: NotificationType) {
        state.withLock { $0.entries.removeAll { $0.type == type } }
    }

    /// Removes every listener.
    public func clearAllListeners() {
        state.withLock { $0.entries.removeAll() }
    }

    /// Calls every listener of the notification's type, in the order they were added. A
    /// listener that throws is logged and the others still run.
    public func post(_ notification: ProcessorNotification) {
        let type = notification.type
        let handlers = state.withLock { $0.entries.filter { $0.type == type }.map { ($0.id, $0.handler) } }
        for (id, handler) in handlers {
            do {
                try handler(notification)
            } catch {
                logger.warning("notification listener failed", metadata: ["listener": "\(id)", "type": "\(type.rawValue)", "error": "\(error)"])
            }
        }
    }
}
