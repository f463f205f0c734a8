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
            return DispatchResponse(status: status, headers: headers.map { HTTPHeader(name: $0.name, value: $0.value) }, body: Array(body.utf8))
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

/// An ``EventDispatcher`` whose requests wait until the test answers them, so that a test
/// decides the order in which responses come. An answer given before its request arrives is
/// kept for it. A request whose task is cancelled throws `CancellationError`.
final class GatedDispatcher: EventDispatcher {
    private struct State {
        var waiting: [String: CheckedContinuation<DispatchResponse, any Error>] = [:]
        var answers: [String: DispatchResponse] = [:]
    }

    private let state = Mutex(State())

    /// Answers `status` to the request whose first event has `firstUUID`, now or when it comes.
    func answer(firstUUID: String, status: Int) {
        let response = DispatchResponse(status: status)
        let waiter = state.withLock { state -> CheckedContinuation<DispatchResponse, any Error>? in
            if let waiter = state.waiting.removeValue(forKey: firstUUID) { return waiter }
            state.answers[firstUUID] = response
            return nil
        }
        waiter?.resume(returning: response)
    }

    func dispatch(_ logEvent: EventSpool.LogEvent) async throws -> DispatchResponse {
        let key = logEvent.uuids.first ?? ""
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<DispatchResponse, any Error>) in
                let ready: Result<DispatchResponse, any Error>? = state.withLock { state in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if let answer = state.answers.removeValue(forKey: key) { return .success(answer) }
                    state.waiting[key] = continuation
                    return nil
                }
                if let ready { continuation.resume(with: ready) }
            }
        } onCancel: {
            state.withLock { $0.waiting.removeValue(forKey: key) }?.resume(throwing: CancellationError())
        }
    }
}
