import Testing
@testable import EventSpool

@Suite("What a dispatch result means (spec §6)")
struct DispatchDecisionTests {
    let now: Int64 = 1_700_000_000_000
    let policy = RetryPolicy(baseDelay: 1, maxDelay: 60, maxAttempts: 5, maxAge: 3_600)

    func decide(_ result: DispatchDecision.Result, events: Int = 10, attempts: Int = 1, queuedAgo: Int64 = 1_000, unit: Double = 0.5) -> DispatchDecision.Action {
        DispatchDecision.decide(result, eventCount: events, attempts: attempts, oldestEnqueuedAtMillis: now - queuedAgo, nowMillis: now, policy: policy, unit: unit)
    }

    func response(_ status: Int, _ headers: [(name: String, value: String)] = [], body: String = "") -> DispatchDecision.Result {
        .response(DispatchResponse(status: status, headers: headers.map { HTTPHeader(name: $0.name, value: $0.value) }, body: Array(body.utf8)))
    }

    @Test func everyTwoHundredStatusIsSent() {
        for status in [200, 202, 204, 299] {
            #expect(decide(response(status)) == .markSent(status: status))
        }
    }

    @Test func serverErrorsAndThrottlingAreRetriedWithJitteredBackoff() {
        for status in [408, 429, 500, 502, 503, 504] {
            #expect(decide(response(status), attempts: 3, unit: 0.5) == .retry(atMillis: now + 2_000, status: status, reason: "HTTP \(status)"))
        }
    }

    @Test func networkFailureIsRetried() {
        #expect(decide(.failure("connection refused"), attempts: 1, unit: 0.25) == .retry(atMillis: now + 250, status: nil, reason: "connection refused"))
    }

    @Test func retryAfterSecondsIsHonoured() {
        #expect(decide(response(429, [("Retry-After", "1")]), unit: 0) == .retry(atMillis: now + 1_000, status: 429, reason: "HTTP 429"))
        #expect(decide(response(503, [("retry-after", " 30 ")])) == .retry(atMillis: now + 30_000, status: 503, reason: "HTTP 503"))
    }

    @Test func retryAfterHttpDateIsHonoured() {
        // 1_700_000_000 s is Tue, 14 Nov 2023 22:13:20 GMT.
        let result = decide(response(503, [("Retry-After", "Tue, 14 Nov 2023 22:13:25 GMT")]))
        #expect(result == .retry(atMillis: now + 5_000, status: 503, reason: "HTTP 503"))
        let past = decide(response(503, [("Retry-After", "Tue, 14 Nov 2023 22:00:00 GMT")]))
        #expect(past == .retry(atMillis: now, status: 503, reason: "HTTP 503"))
    }

    @Test func unreadableRetryAfterFallsBackToBackoff() {
        #expect(decide(response(429, [("Retry-After", "soon")]), attempts: 1, unit: 0.5) == .retry(atMillis: now + 500, status: 429, reason: "HTTP 429"))
    }

    @Test func refusedMultiEventBatchIsSplit() {
        #expect(decide(response(413), events: 10) == .split(status: 413, reason: "HTTP 413"))
        #expect(decide(response(400, body: "bad"), events: 2) == .split(status: 400, reason: "HTTP 400: bad"))
    }

    @Test func refusedSingleEventIsDeadLetteredWithStatusAndBody() {
        #expect(decide(response(400, body: #"{"error": "uuid missing"}"#), events: 1) == .deadLetter(status: 400, reason: #"HTTP 400: {"error": "uuid missing"}"#))
        #expect(decide(response(413), events: 1) == .deadLetter(status: 413, reason: "HTTP 413"))
    }

    @Test func exhaustedAttemptsDeadLetterWithTheReason() {
        let action = decide(response(503), attempts: 5)
        guard case .deadLetter(503, let reason) = action else { Issue.record("got \(action)"); return }
        #expect(reason.contains("after 5 attempts") && reason.contains("HTTP 503"))
    }

    @Test func eventsPastMaxAgeDeadLetterInsteadOfRetrying() {
        let action = decide(.failure("timeout"), attempts: 2, queuedAgo: 3_600_000)
        guard case .deadLetter(nil, let reason) = action else { Issue.record("got \(action)"); return }
        #expect(reason.contains("maxAge"))
    }

    @Test func backoffIsCappedExponentialWithFullJitter() {
        let policy = RetryPolicy(baseDelay: 1, maxDelay: 60, maxAttempts: 100, maxAge: 86_400)
        #expect(policy.backoffMillis(attempt: 1, unit: 0.999) == 999)
        #expect(policy.backoffMillis(attempt: 4, unit: 1) == 8_000)
        #expect(policy.backoffMillis(attempt: 7, unit: 1) == 60_000, "capped at maxDelay")
        #expect(policy.backoffMillis(attempt: 90, unit: 1) == 60_000)
        #expect(policy.backoffMillis(attempt: 5, unit: 0) == 0)
    }

    @Test func responseBodyInTheReasonIsCut() {
        let long = String(repeating: "x", count: 5_000)
        guard case .deadLetter(_, let reason) = decide(response(400, body: long), events: 1) else { Issue.record("expected dead"); return }
        #expect(reason.utf8.count < 1_100)
    }
}

@Suite("Processor settings")
struct ProcessorConfigurationTests {
    @Test func defaultsAreTheReferences() {
        let configuration = ProcessorConfiguration()
        #expect(configuration.batchSize == 10)
        #expect(configuration.flushInterval == 30)
        #expect(configuration.timeoutInterval == 5)
        #expect(configuration.maxBatchBytes == 3_500_000)
    }

    @Test func invalidValuesFallBackToDefaultsWithAWarning() {
        let log = LogCapture()
        var configuration = ProcessorConfiguration()
        configuration.batchSize = 0
        configuration.flushInterval = .nan
        configuration.timeoutInterval = -1
        configuration.maxBatchBytes = Int(1) << 60
        configuration.retry.baseDelay = .infinity
        let effective = configuration.validated(logger: log.logger)
        #expect(effective.batchSize == 10)
        #expect(effective.flushInterval == 30)
        #expect(effective.timeoutInterval == 5)
        #expect(effective.maxBatchBytes == 3_500_000)
        #expect(effective.retry.baseDelay == 1)
        #expect(log.messages.filter { $0.contains("invalid setting") }.count == 5)
    }

    @Test func validValuesAreKept() {
        var configuration = ProcessorConfiguration()
        configuration.batchSize = 100
        configuration.flushInterval = 0.5
        let log = LogCapture()
        let effective = configuration.validated(logger: log.logger)
        #expect(effective == configuration)
        #expect(log.messages.isEmpty)
    }
}
