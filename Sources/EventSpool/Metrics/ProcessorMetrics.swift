import CoreMetrics

/// A processor's metrics (``EventSpoolMetrics``), made once from the application's factory.
struct ProcessorMetrics: Sendable {
    private let appended: Counter
    private let sent: Counter
    private let retried: Counter
    private let deadLettered: Counter
    private let droppedOldest: Counter
    private let rejectedFull: Counter
    private let pending: Gauge
    private let oldestPendingAge: Gauge
    private let factory: any MetricsFactory
    /// The dispatch timers by status class, made on first use.
    private let timers = LockedValue<[String: CoreMetrics.Timer]>([:])
    /// When the gauges were last read from the queue.
    private let gaugesReadAt = LockedValue<Int64?>(nil)

    init(factory: any MetricsFactory) {
        self.factory = factory
        appended = Counter(label: EventSpoolMetrics.eventsAppended, factory: factory)
        sent = Counter(label: EventSpoolMetrics.eventsSent, factory: factory)
        retried = Counter(label: EventSpoolMetrics.eventsRetried, factory: factory)
        deadLettered = Counter(label: EventSpoolMetrics.eventsDeadLettered, factory: factory)
        droppedOldest = Counter(label: EventSpoolMetrics.eventsDropped, dimensions: [(EventSpoolMetrics.reasonLabel, "dropped_oldest")], factory: factory)
        rejectedFull = Counter(label: EventSpoolMetrics.eventsDropped, dimensions: [(EventSpoolMetrics.reasonLabel, "rejected_full")], factory: factory)
        pending = Gauge(label: EventSpoolMetrics.queuePending, factory: factory)
        oldestPendingAge = Gauge(label: EventSpoolMetrics.queueOldestPendingAge, factory: factory)
    }

    /// What one append did.
    func appended(_ outcomes: [AppendOutcome], droppedOldest dropped: Int) {
        var added = 0
        var refused = 0
        for outcome in outcomes {
            switch outcome {
            case .appended: added += 1
            case .rejectedFull: refused += 1
            case .duplicate: continue
            }
        }
        if added > 0 { appended.increment(by: added) }
        if refused > 0 { rejectedFull.increment(by: refused) }
        if dropped > 0 { droppedOldest.increment(by: dropped) }
    }

    /// What a batch of `events` events came to, once recorded.
    func recorded(_ result: DispatchOutcome.Result, events: Int) {
        switch result {
        case .sent: sent.increment(by: events)
        case .retryScheduled, .abandoned: retried.increment(by: events)
        case .deadLettered: deadLettered.increment(by: events)
        case .split: break  // its events are in the halves, sent or failed on their own
        }
    }

    /// How long a request took, by what it came to: a status, or no response (`nil`).
    func dispatched(status: Int?, millis: Int64) {
        let label = status.map { (100..<600).contains($0) ? "\($0 / 100)xx" : "error" } ?? "error"
        let timer = timers.withLock { timers in
            if let timer = timers[label] { return timer }
            let timer = CoreMetrics.Timer(label: EventSpoolMetrics.dispatchDuration, dimensions: [(EventSpoolMetrics.statusLabel, label)], factory: factory)
            timers[label] = timer
            return timer
        }
        timer.recordMilliseconds(max(0, millis))
    }

    /// Reads the queue for the gauges when ``EventSpoolMetrics/gaugeIntervalMillis`` has passed
    /// since the last read at `nowMillis`, or always with `force`.
    func refreshGauges(from queue: EventQueue, nowMillis: Int64, force: Bool = false) {
        let due = gaugesReadAt.withLock { last in
            guard force || last.map({ nowMillis - $0 >= EventSpoolMetrics.gaugeIntervalMillis }) ?? true else { return false }
            last = nowMillis
            return true
        }
        guard due, let stats = try? queue.stats() else { return }
        pending.record(stats.pending)
        oldestPendingAge.record(Double(stats.oldestPendingAgeMillis ?? 0) / 1000)
    }
}
