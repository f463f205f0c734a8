/// The collector's decisions as a pure state machine: numbers each request, validates it,
/// takes the next plan step for a valid one, and says how to answer. No I/O: the channel
/// handler writes the record line and the reply it returns.
///
/// Invalid requests (404, 405, 400 from validation) are answered by validation alone and do
/// not advance the plan (see ``RequestValidation``).
struct CollectorLedger {
    /// The plan answering valid requests.
    private(set) var plan: FaultPlan
    /// How many valid requests the current plan has answered.
    private(set) var planPosition = 0
    /// Every request received, in order (none when not retaining them).
    private(set) var requests: [ReceivedRequest] = []
    /// How many requests were received.
    private(set) var received = 0
    /// Whether ``requests`` keeps them; a long-running command need not.
    let retainsRequests: Bool

    init(plan: FaultPlan, retainsRequests: Bool = true) {
        self.plan = plan
        self.retainsRequests = retainsRequests
    }

    /// Replaces the plan; the new plan starts at its first step.
    mutating func setPlan(_ plan: FaultPlan) {
        self.plan = plan
        planPosition = 0
    }

    /// Takes in one complete request and decides its answer.
    mutating func receive(method: String, path: String, body: [UInt8], byteCount: Int) -> (request: ReceivedRequest, reply: CollectorReply) {
        let reply: CollectorReply
        let outcome: ReceivedRequest.Outcome
        var batch: ReceivedBatch?
        var rejection: RequestRejection?
        switch RequestValidation.validate(method: method, path: path, body: body, byteCount: byteCount) {
        case .failure(let refused):
            rejection = refused
            reply = .reply(for: refused)
            outcome = .responded(status: refused.status)
        case .success(let valid):
            batch = valid
            let step = plan.step(forRequestAt: planPosition)
            planPosition += 1
            reply = .reply(for: step)
            switch step {
            case .timeout: outcome = .timedOut
            case .reset: outcome = .reset
            default: outcome = .responded(status: step.status ?? 0)
            }
        }
        let request = ReceivedRequest(
            seq: received + 1, method: method, path: path, outcome: outcome,
            byteCount: byteCount, body: byteCount > RequestValidation.maximumBodyBytes ? [] : body,
            batch: batch, rejection: rejection
        )
        received += 1
        if retainsRequests { requests.append(request) }
        return (request, reply)
    }
}
