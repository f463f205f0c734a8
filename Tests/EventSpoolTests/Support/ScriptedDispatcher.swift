import Foundation
import Synchronization
@testable import EventSpool

/// An in-memory ``EventDispatcher`` that answers from a script and keeps every request, for
/// processor tests whose subject is the worker's logic rather than HTTP.
final class ScriptedDispatcher: EventDispatcher {
    enum Step: Sendable {
        case status(Int, headers: [(name: String, value: String)] = [], body: String = "")
        case failure(String)
        /// Never answers (until cancelled).
        case hang
    }

    private let state: Mutex<(script: [Step], requests: [EventSpool.LogEvent])>
    /// The step used once the script is used up.
    let fallback: Step

    init(_ script: [Step] = [], fallback: Step = .status(204)) {
        state = Mutex((script, []))
        self.fallback = fallback
    }

    var requests: [EventSpool.LogEvent] { state.withLock { $0.requests } }

    /// The uuids of each request, in order.
    var batches: [[String]] {
        requests.map { request in
            let body = (try? JSONValue.parse(request.body)) ?? .null
            return (body["visitors"]?.arrayValue ?? []).compactMap {
                $0["snapshots"]?.arrayValue?.first?["events"]?.arrayValue?.first?["uuid"]?.stringValue
            }
        }
    }

    func dispatch(_ logEvent: EventSpool.LogEvent) async throws -> DispatchResponse {
        let step = state.withLock { state -> Step in
            state.requests.append(logEvent)
            return state.script.isEmpty ? fallback : state.script.removeFirst()
        }
        switch step {
        case .status(let status, let headers, let body):
            return DispatchResponse(status: status, headers: headers, body: Array(body.utf8))
        case .failure(let description):
            throw ScriptedFailure(description: description)
        case .hang:
            try await Task.sleep(nanoseconds: 3_600_000_000_000)
            throw CancellationError()
        }
    }

    struct ScriptedFailure: Error, CustomStringConvertible {
        let description: String
    }
}

/// Waits until `condition` holds, polling every 10 ms, for at most `seconds`.
func eventually(within seconds: Double = 10, _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        try? await Task.sleep(nanoseconds: 10_000_000)
    }
    return try condition()
}

/// Waits until the async `condition` holds, polling every 10 ms, for at most `seconds`.
func eventually(within seconds: Double = 10, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(nanoseconds: 10_000_000)
    }
    return try await condition()
}
