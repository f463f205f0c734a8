import EventSpool

/// Drives a ``DatafilePollingStateMachine`` in virtual time, as its driver will: every fetch is
/// answered by a scripted server after a fixed latency, every body by a scripted validator, and
/// the one timer fires when time is advanced past it. Nothing sleeps: an hour of polling runs
/// in microseconds.
struct PollingSimulation {
    /// What the scripted server does with one request.
    enum Answer {
        case response(DatafileResponse)
        case transportError(String)
    }

    /// What the scripted validator says of a body.
    enum Verdict {
        case accepted(DatafileIdentity)
        case rejected(String)
    }

    var machine: DatafilePollingStateMachine
    /// Virtual time, in milliseconds.
    private(set) var now: Int64
    /// How long every request takes, in milliseconds.
    var latencyMillis: Int64 = 40
    /// The server: the n-th request (from 0), its time and itself → its answer.
    var server: (_ index: Int, _ atMillis: Int64, _ request: DatafileRequest) -> Answer
    /// The validator: a body → its identity, or why it is not a datafile.
    var validate: (_ body: [UInt8]) -> Verdict = PollingSimulation.parseFixture
    /// The jitter source, seeded.
    var random: SplitMix64

    /// Every request sent, with its time.
    private(set) var requests: [(atMillis: Int64, request: DatafileRequest)] = []
    /// Every action answered, with its time, in order.
    private(set) var actions: [(atMillis: Int64, action: DatafilePollingAction)] = []
    /// The time the timer is set for.
    private(set) var timer: Int64?
    /// Whether `.finish` was answered.
    private(set) var finished = false

    init(
        settings: DatafilePollingSettings = DatafilePollingSettings(sdkKey: "KEY"),
        startMillis: Int64 = 1_700_000_000_000,
        seed: UInt64 = 0xDA7A_F11E,
        server: @escaping (_ index: Int, _ atMillis: Int64, _ request: DatafileRequest) -> Answer
    ) throws {
        machine = DatafilePollingStateMachine(try settings.resolved())
        now = startMillis
        self.server = server
        random = SplitMix64(seed: seed)
    }

    /// A body for ``parseFixture(_:)``: `project/revision`, or anything else for a rejected one.
    static func body(project: String = "P1", revision: String) -> [UInt8] { Array("\(project)/\(revision)".utf8) }

    /// A 200 with `body(…)` and a Last-Modified.
    static func ok(project: String = "P1", revision: String, lastModified: String?) -> Answer {
        .response(DatafileResponse(status: 200, lastModified: lastModified, body: body(project: project, revision: revision)))
    }

    /// Reads `project/revision`; anything else is rejected.
    static func parseFixture(_ body: [UInt8]) -> Verdict {
        let parts = String(decoding: body, as: UTF8.self).split(separator: "/")
        guard parts.count == 2 else { return .rejected("not a datafile") }
        return .accepted(DatafileIdentity(projectId: String(parts[0]), revision: String(parts[1])))
    }

    mutating func start(bundled: DatafileIdentity? = nil) {
        perform(machine.start(nowMillis: now, bundled: bundled))
    }

    mutating func stop() {
        perform(machine.stop())
    }

    /// Fires the timer whenever it is due, until `millis` after the start of the run.
    mutating func run(forMillis millis: Int64) {
        let end = now + millis
        while let due = timer, due <= end, !finished {
            now = max(now, due)
            timer = nil
            perform(machine.timerFired(nowMillis: now))
        }
        now = end
    }

    /// Does the actions in order, as the driver will; each answer's actions follow.
    private mutating func perform(_ first: [DatafilePollingAction]) {
        var queue = first[...]
        while let action = queue.popFirst() {
            actions.append((now, action))
            switch action {
            case .fetch(let request):
                requests.append((now, request))
                let answer = server(requests.count - 1, now, request)
                now += latencyMillis
                let jitter = Double(random.next() >> 11) / Double(1 << 53)
                switch answer {
                case .response(let response):
                    queue += machine.responseReceived(response, nowMillis: now, jitter: jitter)
                case .transportError(let reason):
                    queue += machine.transportFailed(reason, nowMillis: now, jitter: jitter)
                }
            case .validate(let body):
                switch validate(body) {
                case .accepted(let identity): queue += machine.datafileAccepted(identity, nowMillis: now)
                case .rejected(let reason): queue += machine.datafileRejected(reason, nowMillis: now)
                }
            case .scheduleFetch(let at):
                timer = at
            case .finish:
                finished = true
                timer = nil
            case .configChanged, .ready, .log:
                break
            }
        }
    }

    /// The config changes answered, in order.
    var configChanges: [DatafileIdentity] {
        actions.compactMap { if case .configChanged(_, let to) = $0.action { to } else { nil } }
    }

    /// The readiness answers, in order.
    var readiness: [DatafileReadiness] {
        actions.compactMap { if case .ready(let readiness) = $0.action { readiness } else { nil } }
    }

    /// The notices logged, in order.
    var notices: [DatafilePollingNotice] {
        actions.compactMap { if case .log(let notice) = $0.action { notice } else { nil } }
    }
}
