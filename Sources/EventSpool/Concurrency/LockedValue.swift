import Foundation

/// A value behind a lock, for state shared between threads and tasks that is touched briefly
/// and never across an `await`.
///
/// `@unchecked Sendable` is safe because `value` is private and only reached inside
/// `withLock`, which holds `lock` for the whole access.
package final class LockedValue<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    package init(_ value: Value) {
        self.value = value
    }

    package func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
