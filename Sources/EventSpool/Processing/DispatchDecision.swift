import Foundation

/// What a dispatch's result means for its batch (spec §6), as a pure function of the result,
/// the batch, the retry policy, the clock and a random draw.
///
/// | result | decision |
/// | --- | --- |
/// | 2xx | ``Action/markSent(status:)`` |
/// | network error, timeout, 408, 429, 5xx, or any other non-4xx status | ``Action/retry(atMillis:status:reason:)`` with `Retry-After` honoured, else capped exponential backoff with full jitter |
/// | 4xx (413, 400 and the rest) for a batch of several events | ``Action/split(status:reason:)`` |
/// | 4xx for a single event | ``Action/deadLetter(status:reason:)`` with the status and body |
/// | a retry past the attempt or age budget | ``Action/deadLetter(status:reason:)`` saying which |
///
/// Any 4xx other than 408 and 429 says the request itself was refused, so a multi-event batch
/// is split until the refused event stands alone; the others go on.
package enum DispatchDecision {
    /// How a dispatch ended, before interpretation.
    package enum Result: Sendable, Equatable {
        /// The server answered.
        case response(DispatchResponse)
        /// No answer: connection refused or reset, timeout, TLS failure. The text says which.
        case failure(String)
    }

    /// What to do with the batch.
    package enum Action: Sendable, Equatable {
        /// Delivered: mark every member sent.
        case markSent(status: Int)
        /// Try the same batch again, byte-identical, at `atMillis`.
        case retry(atMillis: Int64, status: Int?, reason: String)
        /// Replace the batch by its two halves, each tried at once.
        case split(status: Int, reason: String)
        /// Move the members to the dead letters.
        case deadLetter(status: Int?, reason: String)

        /// Whether the batch was delivered.
        package var isSuccess: Bool {
            if case .markSent = self { return true }
            return false
        }

        /// Whether the batch's events go back to pending (a retry or a split): they are older
        /// than any batch claimed after them, so they come first again.
        package var returnsEventsToPending: Bool {
            switch self {
            case .retry, .split: true
            case .markSent, .deadLetter: false
            }
        }
    }

    /// Decides what `result` means for a batch.
    ///
    /// - Parameters:
    ///   - eventCount: how many events the batch holds.
    ///   - attempts: how many times it has been sent, this attempt included.
    ///   - oldestEnqueuedAtMillis: when its oldest event was queued.
    ///   - nowMillis: the current time.
    ///   - policy: the retry policy.
    ///   - unit: a random number in `0..<1` for the jitter.
    package static func decide(
        _ result: Result,
        eventCount: Int,
        attempts: Int,
        oldestEnqueuedAtMillis: Int64,
        nowMillis: Int64,
        policy: RetryPolicy,
        unit: Double
    ) -> Action {
        let status: Int?
        let reason: String
        var retryAfterMillis: Int64?
        switch result {
        case .failure(let description):
            status = nil
            reason = description
        case .response(let response):
            if response.isSuccess { return .markSent(status: response.status) }
            status = response.status
            reason = describe(response)
            let refused = (400..<500).contains(response.status) && response.status != 408 && response.status != 429
            if refused {
                return eventCount > 1
                    ? .split(status: response.status, reason: reason)
                    : .deadLetter(status: response.status, reason: reason)
            }
            retryAfterMillis = response.header("Retry-After").flatMap { RetryAfter.millis($0, nowMillis: nowMillis) }
        }

        if attempts >= policy.maxAttempts {
            return .deadLetter(status: status, reason: "retry budget exhausted after \(attempts) attempts; last: \(reason)")
        }
        let delay = retryAfterMillis ?? policy.backoffMillis(attempt: attempts, unit: unit)
        let at = nowMillis + delay
        let maxAgeMillis = Int64(policy.maxAge * 1000)
        if at - oldestEnqueuedAtMillis > maxAgeMillis {
            return .deadLetter(status: status, reason: "retry budget exhausted: the events would be older than maxAge (\(Int(policy.maxAge)) s); last: \(reason)")
        }
        return .retry(atMillis: at, status: status, reason: reason)
    }

    /// `HTTP 503: <body>`, the body cut to 1,000 bytes, for the queue's `last_error`.
    static func describe(_ response: DispatchResponse) -> String {
        let body = String(decoding: response.body.prefix(1_000), as: UTF8.self)
            .replacingOccurrences(of: "\n", with: " ")
        return body.isEmpty ? "HTTP \(response.status)" : "HTTP \(response.status): \(body)"
    }
}

/// The `Retry-After` header (RFC 9110 §10.2.3): a number of seconds, or an HTTP date.
package enum RetryAfter {
    /// The delay the header asks for, in milliseconds from `nowMillis` (never negative), or
    /// `nil` when the value is neither form.
    package static func millis(_ value: String, nowMillis: Int64) -> Int64? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int64(trimmed) {
            return seconds >= 0 ? min(seconds, 86_400 * 365) * 1000 : nil
        }
        guard let date = HTTPDate.millis(trimmed) else { return nil }
        return max(0, date - nowMillis)
    }
}
