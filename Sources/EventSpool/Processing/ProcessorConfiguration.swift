import Logging

/// The settings of a ``BatchEventProcessor``, named as in the reference SDK (spec §5).
///
/// Values are taken as given and checked when the processor is made: an invalid value (zero or
/// less, NaN, infinite, above 2^53) falls back to its default with a warning, as the reference
/// does. ``validated(logger:)`` returns the effective settings.
///
/// ```swift
/// var configuration = ProcessorConfiguration()
/// configuration.batchSize = 100
/// configuration.flushInterval = 5          // seconds
/// configuration.retry.maxAttempts = 20
/// ```
public struct ProcessorConfiguration: Sendable, Equatable {
    /// Events per request. Default 10.
    public var batchSize: Int = Defaults.batchSize
    /// The longest the oldest pending event waits before its batch is sent, in seconds. Default 30.
    public var flushInterval: Double = Defaults.flushInterval
    /// How long `stop()` waits for in-flight work, in seconds. Default 5.
    public var timeoutInterval: Double = Defaults.timeoutInterval
    /// The largest request body, in bytes. Default 3,500,000.
    public var maxBatchBytes: Int = Defaults.maxBatchBytes
    /// When and how often a failed batch is retried.
    public var retry = RetryPolicy()
    /// How many requests may be out at once (spec §6). Default 4; 1 sends one batch at a time,
    /// as the reference SDKs do. Batches are still claimed oldest first, and a failed batch's
    /// events go before newer ones.
    public var maxRequestsInFlight: Int = Defaults.maxRequestsInFlight
    /// How long a claim's lease lasts, in seconds (spec §7). The worker renews the lease of each
    /// batch every third of this while its request is out, so a request never outlives its
    /// lease, however slow the dispatcher; a worker that dies (or freezes) holding a batch
    /// delays it by at most this. Default 15.
    public var leaseInterval: Double = Defaults.leaseInterval
    /// How often sent rows older than the queue's retention are pruned, in seconds. Default 60.
    public var pruneInterval: Double = Defaults.pruneInterval
    /// Whether the worker starts when the processor is made (the reference's `start_on_init`).
    /// Default `false`: it starts with ``BatchEventProcessor/start()`` (or an
    /// ``OptimizelyClient``'s `start()`); events processed before are kept in the file.
    public var startOnInit = false

    /// The defaults of the reference SDK and of EventSpool.
    public enum Defaults: Sendable {
        /// `batchSize`
        public static let batchSize = 10
        /// `flushInterval`, seconds
        public static let flushInterval = 30.0
        /// `timeoutInterval`, seconds
        public static let timeoutInterval = 5.0
        /// `maxBatchBytes`
        public static let maxBatchBytes = 3_500_000
        /// `maxRequestsInFlight`
        public static let maxRequestsInFlight = 4
        /// `leaseInterval`, seconds
        public static let leaseInterval = 15.0
        /// `pruneInterval`, seconds
        public static let pruneInterval = 60.0
    }

    /// The default settings.
    public init() {}

    /// The effective settings: each invalid value replaced by its default, with a warning
    /// logged for each.
    public func validated(logger: Logger) -> ProcessorConfiguration {
        var result = self
        result.batchSize = Self.check(batchSize, name: "batchSize", default: Defaults.batchSize, logger: logger)
        result.maxBatchBytes = Self.check(maxBatchBytes, name: "maxBatchBytes", default: Defaults.maxBatchBytes, logger: logger)
        result.flushInterval = Self.check(flushInterval, name: "flushInterval", default: Defaults.flushInterval, logger: logger)
        result.timeoutInterval = Self.check(timeoutInterval, name: "timeoutInterval", default: Defaults.timeoutInterval, logger: logger)
        result.maxRequestsInFlight = Self.check(maxRequestsInFlight, name: "maxRequestsInFlight", default: Defaults.maxRequestsInFlight, logger: logger)
        result.leaseInterval = Self.check(leaseInterval, name: "leaseInterval", default: Defaults.leaseInterval, logger: logger)
        result.pruneInterval = Self.check(pruneInterval, name: "pruneInterval", default: Defaults.pruneInterval, logger: logger)
        result.retry = retry.validated(logger: logger)
        return result
    }

    /// The largest value a setting may have: 2^53, the reference's bound.
    static let upperBound = 9_007_199_254_740_992.0

    static func check(_ value: Int, name: String, default fallback: Int, logger: Logger) -> Int {
        if value > 0 && Double(value) <= upperBound { return value }
        logger.warning("invalid setting; using the default", metadata: ["setting": "\(name)", "value": "\(value)", "default": "\(fallback)"])
        return fallback
    }

    static func check(_ value: Double, name: String, default fallback: Double, logger: Logger) -> Double {
        if value > 0 && value.isFinite && value <= upperBound { return value }
        logger.warning("invalid setting; using the default", metadata: ["setting": "\(name)", "value": "\(value)", "default": "\(fallback)"])
        return fallback
    }

    /// ``leaseInterval`` in milliseconds.
    var leaseMillis: Int64 { Int64(leaseInterval * 1000) }

    /// The batch limits these settings give.
    package var batchLimits: BatchLimits { BatchLimits(maxEvents: batchSize, maxBytes: maxBatchBytes) }
}

/// When a failed batch is retried and when it is given up (spec §6): capped exponential
/// backoff with full jitter, `Retry-After` honoured, a budget of attempts and of age.
public struct RetryPolicy: Sendable, Equatable {
    /// The first retry's delay bound, in seconds. Default 1.
    public var baseDelay: Double = 1
    /// The longest delay between attempts, in seconds. Default 60.
    public var maxDelay: Double = 60
    /// Attempts after which a batch is dead-lettered. Default 10.
    public var maxAttempts: Int = 10
    /// The age of a batch's oldest event after which it is dead-lettered rather than retried,
    /// in seconds. Default 24 hours.
    public var maxAge: Double = 86_400

    /// The default policy.
    public init() {}

    /// Creates a policy.
    public init(baseDelay: Double = 1, maxDelay: Double = 60, maxAttempts: Int = 10, maxAge: Double = 86_400) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxAttempts = maxAttempts
        self.maxAge = maxAge
    }

    func validated(logger: Logger) -> RetryPolicy {
        let fallback = RetryPolicy()
        var result = self
        result.baseDelay = ProcessorConfiguration.check(baseDelay, name: "retry.baseDelay", default: fallback.baseDelay, logger: logger)
        result.maxDelay = ProcessorConfiguration.check(maxDelay, name: "retry.maxDelay", default: fallback.maxDelay, logger: logger)
        result.maxAttempts = ProcessorConfiguration.check(maxAttempts, name: "retry.maxAttempts", default: fallback.maxAttempts, logger: logger)
        result.maxAge = ProcessorConfiguration.check(maxAge, name: "retry.maxAge", default: fallback.maxAge, logger: logger)
        return result
    }

    /// The delay before retry number `attempt` (1 for the first retry), in milliseconds:
    /// uniformly drawn from `0…min(maxDelay, baseDelay × 2^(attempt−1))` (full jitter), so that
    /// many clients recovering at once do not retry in step.
    ///
    /// - Parameters:
    ///   - attempt: the retry's number, 1 for the first.
    ///   - unit: a number in `0..<1` (the caller's random source, injected for tests).
    public func backoffMillis(attempt: Int, unit: Double) -> Int64 {
        let exponent = Double(max(0, min(attempt - 1, 62)))
        let ceiling = min(maxDelay, baseDelay * pow2(exponent)) * 1000
        return Int64((ceiling * min(max(unit, 0), 1)).rounded(.down))
    }

    private func pow2(_ exponent: Double) -> Double {
        var value = 1.0
        for _ in 0..<Int(exponent) { value *= 2; if value > 1e12 { break } }
        return value
    }
}
