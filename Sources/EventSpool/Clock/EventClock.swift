import Foundation
import Synchronization

/// The one source of "now" for EventSpool: wall-clock milliseconds since the Unix epoch.
///
/// The queue stamps rows with it and the processor's decisions read it, so tests inject a
/// ``ManualEventClock`` and move time forward by hand instead of sleeping.
public protocol EventClock: Sendable {
    /// The current time in milliseconds since the Unix epoch.
    func nowMillis() -> Int64
}

/// The system's wall clock.
public struct SystemEventClock: EventClock {
    /// Creates the system clock.
    public init() {}

    public func nowMillis() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }
}

/// A clock that only moves when told to, for deterministic tests.
///
/// ```swift
/// let clock = ManualEventClock(nowMillis: 1_700_000_000_000)
/// clock.advance(byMillis: 30_000)
/// ```
public final class ManualEventClock: EventClock {
    private let now: Mutex<Int64>

    /// Creates a clock showing `nowMillis`.
    public init(nowMillis: Int64 = 1_700_000_000_000) {
        now = Mutex(nowMillis)
    }

    public func nowMillis() -> Int64 { now.withLock { $0 } }

    /// Moves the clock forward by `millis`.
    public func advance(byMillis millis: Int64) {
        now.withLock { $0 += millis }
    }

    /// Sets the clock to `millis`.
    public func set(millis: Int64) {
        now.withLock { $0 = millis }
    }
}
