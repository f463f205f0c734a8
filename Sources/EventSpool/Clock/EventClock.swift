import Foundation

/// The one source of time for EventSpool: wall-clock milliseconds since the Unix epoch, and a
/// way to sleep until a time.
///
/// The queue stamps rows with it, and the batch worker reads it and sleeps on it (flush
/// intervals, retries, lease renewals, the stop deadline). Tests inject a ``ManualEventClock``
/// and move time forward by hand instead of sleeping.
public protocol EventClock: Sendable {
    /// The current time in milliseconds since the Unix epoch.
    func nowMillis() -> Int64

    /// Returns once the clock reads `deadlineMillis` or later.
    ///
    /// - Throws: `CancellationError` when the calling task is cancelled first.
    func sleep(untilMillis deadlineMillis: Int64) async throws
}

/// The system's wall clock.
public struct SystemEventClock: EventClock {
    /// Creates the system clock.
    public init() {}

    /// The system's wall clock, in milliseconds since the Unix epoch.
    public func nowMillis() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// Sleeps (`Task.sleep`) until the wall clock reads `deadlineMillis`.
    public func sleep(untilMillis deadlineMillis: Int64) async throws {
        let delay = deadlineMillis - nowMillis()
        if delay > 0 { try await Task.sleep(nanoseconds: UInt64(delay) * 1_000_000) }
        try Task.checkCancellation()
    }
}

/// A clock that only moves when told to, for deterministic tests: time stands still until
/// ``advance(byMillis:)`` or ``set(millis:)``, which wake the sleepers whose time has come.
///
/// ```swift
/// let clock = ManualEventClock(nowMillis: 1_700_000_000_000)
/// clock.advance(byMillis: 30_000)
/// ```
public final class ManualEventClock: EventClock {
    private struct State {
        var now: Int64
        var nextSleeper = 0
        var sleepers: [Int: (deadline: Int64, continuation: CheckedContinuation<Void, any Error>)] = [:]

        /// Takes out the sleepers whose deadline has come.
        mutating func due() -> [CheckedContinuation<Void, any Error>] {
            let ids = sleepers.filter { $0.value.deadline <= now }.map(\.key)
            return ids.compactMap { sleepers.removeValue(forKey: $0)?.continuation }
        }
    }

    private let state: LockedValue<State>

    /// Creates a clock showing `nowMillis`.
    public init(nowMillis: Int64 = 1_700_000_000_000) {
        state = LockedValue(State(now: nowMillis))
    }

    /// The time the clock shows.
    public func nowMillis() -> Int64 { state.withLock { $0.now } }

    /// Returns once the clock is moved to `deadlineMillis` or later (by ``advance(byMillis:)`` or
    /// ``set(millis:)``); at once when it already shows that time.
    ///
    /// - Throws: `CancellationError` when the calling task is cancelled first.
    public func sleep(untilMillis deadlineMillis: Int64) async throws {
        let id = state.withLock { state in
            defer { state.nextSleeper += 1 }
            return state.nextSleeper
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome: Result<Void, any Error>? = state.withLock { state in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if deadlineMillis <= state.now { return .success(()) }
                    state.sleepers[id] = (deadlineMillis, continuation)
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            state.withLock { $0.sleepers.removeValue(forKey: id) }?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock forward by `millis`, waking the sleepers whose time has come.
    public func advance(byMillis millis: Int64) {
        wake(state.withLock { state in
            state.now += millis
            return state.due()
        })
    }

    /// Sets the clock to `millis`, waking the sleepers whose time has come.
    public func set(millis: Int64) {
        wake(state.withLock { state in
            state.now = millis
            return state.due()
        })
    }

    /// The times the tasks sleeping on this clock wait for, earliest first.
    public var sleepers: [Int64] {
        state.withLock { $0.sleepers.values.map(\.deadline).sorted() }
    }

    private func wake(_ continuations: [CheckedContinuation<Void, any Error>]) {
        for continuation in continuations { continuation.resume() }
    }
}
