import Foundation
@testable import EventSpool

/// The `logEvent` and `dispatchOutcome` notifications a processor posts, kept in order, so that
/// a test awaits what it expects to be told instead of polling the queue.
///
/// Each wait has a generous bound (30 s by default), which only ends a test that would otherwise
/// hang: a passing test returns as soon as it is told.
final class PostedNotifications: Sendable {
    private struct State {
        var logEvents: [LogEvent] = []
        var outcomes: [DispatchOutcome] = []
        var waiters: [(check: @Sendable (State) -> Bool, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = LockedValue(State())

    init(_ center: EventNotificationCenter) {
        center.addListener(for: .logEvent) { [state] notification in
            guard case .logEvent(let logEvent) = notification else { return }
            Self.update(state) { $0.logEvents.append(logEvent) }
        }
        center.addListener(for: .dispatchOutcome) { [state] notification in
            guard case .dispatchOutcome(let outcome) = notification else { return }
            Self.update(state) { $0.outcomes.append(outcome) }
        }
    }

    private static func update(_ state: LockedValue<State>, _ change: (inout State) -> Void) {
        let ready = state.withLock { state in
            change(&state)
            let snapshot = state
            let ready = state.waiters.filter { $0.check(snapshot) }.map(\.continuation)
            state.waiters.removeAll { $0.check(snapshot) }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }

    /// The requests the processor started, in order.
    var logEvents: [LogEvent] { state.withLock { $0.logEvents } }
    /// The outcomes recorded, in order.
    var outcomes: [DispatchOutcome] { state.withLock { $0.outcomes } }
    /// The uuids of each request started, in order.
    var batches: [[String]] { logEvents.map(\.uuids) }

    /// Waits until `count` requests have started; `false` if the bound passed first.
    @discardableResult
    func waitForLogEvents(_ count: Int, within seconds: Double = 30) async -> Bool {
        await wait(within: seconds) { $0.logEvents.count >= count }
    }

    /// Waits until `count` outcomes have been recorded; `false` if the bound passed first.
    @discardableResult
    func waitForOutcomes(_ count: Int, within seconds: Double = 30) async -> Bool {
        await wait(within: seconds) { $0.outcomes.count >= count }
    }

    /// Waits until an outcome satisfies `match`; `false` if the bound passed first.
    @discardableResult
    func waitForOutcome(within seconds: Double = 30, where match: @escaping @Sendable (DispatchOutcome) -> Bool) async -> Bool {
        await wait(within: seconds) { $0.outcomes.contains(where: match) }
    }

    private func wait(within seconds: Double, _ check: @escaping @Sendable (State) -> Bool) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let now = self.state.withLock { state in
                        if check(state) { return true }
                        state.waiters.append((check, continuation))
                        return false
                    }
                    if now { continuation.resume() }
                }
                return true
            }
            group.addTask {
                try? await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
                return false
            }
            let first = await group.next() ?? false
            if !first {
                // Release the waiter so the group can end.
                let stranded = state.withLock { state in
                    defer { state.waiters.removeAll() }
                    return state.waiters.map(\.continuation)
                }
                for continuation in stranded { continuation.resume() }
            }
            group.cancelAll()
            return first
        }
    }
}

extension LogEvent {
    /// The uuids of the request's events, in order.
    var uuids: [String] {
        let body = (try? JSONValue.parse(body)) ?? .null
        return (body["visitors"]?.arrayValue ?? []).compactMap {
            $0["snapshots"]?.arrayValue?.first?["events"]?.arrayValue?.first?["uuid"]?.stringValue
        }
    }
}
