import Testing
@testable import EventSpoolCollector

@Suite("Collector fault plans")
struct CollectorFaultPlanTests {
    @Test(arguments: [
        ("200", FaultStep.ok),
        ("503", .serviceUnavailable),
        ("429:7", .tooManyRequests(retryAfterSeconds: 7)),
        ("429:0", .tooManyRequests(retryAfterSeconds: 0)),
        ("400", .badRequest),
        ("413", .payloadTooLarge),
        ("timeout", .timeout),
        ("reset", .reset),
    ])
    func everyStepKindIsRead(text: String, step: FaultStep) throws {
        let plan = try FaultPlan(parsing: text)
        #expect(plan.entries == [FaultPlan.Entry(step)])
        #expect(plan.step(forRequestAt: 0) == step)
    }

    @Test func stepsAnswerTheirStatus() {
        #expect(FaultStep.ok.status == 200)
        #expect(FaultStep.noContent.status == 204)
        #expect(FaultStep.serviceUnavailable.status == 503)
        #expect(FaultStep.tooManyRequests(retryAfterSeconds: 1).status == 429)
        #expect(FaultStep.badRequest.status == 400)
        #expect(FaultStep.payloadTooLarge.status == 413)
        #expect(FaultStep.timeout.status == nil)
        #expect(FaultStep.reset.status == nil)
    }

    @Test func aCountRepeatsAStep() throws {
        let plan = try FaultPlan(parsing: "503x3,200")
        #expect((0..<5).map { plan.step(forRequestAt: $0) } == [.serviceUnavailable, .serviceUnavailable, .serviceUnavailable, .ok, .ok])
    }

    @Test func stepsAreUsedInTurnAndTheLastRepeats() throws {
        let plan = try FaultPlan(parsing: "503x2,reset,429:1,200")
        let steps = (0..<7).map { plan.step(forRequestAt: $0) }
        #expect(steps == [.serviceUnavailable, .serviceUnavailable, .reset, .tooManyRequests(retryAfterSeconds: 1), .ok, .ok, .ok])
        #expect(plan.step(forRequestAt: 1_000_000) == .ok)
    }

    @Test func theLastStepRepeatsPastItsCount() throws {
        let plan = try FaultPlan(parsing: "200,timeoutx2")
        #expect((0..<5).map { plan.step(forRequestAt: $0) } == [.ok, .timeout, .timeout, .timeout, .timeout])
    }

    @Test func countsApplyToEveryStepKind() throws {
        let plan = try FaultPlan(parsing: "429:2x2,resetx1,413x2")
        #expect(plan.entries == [
            FaultPlan.Entry(.tooManyRequests(retryAfterSeconds: 2), count: 2),
            FaultPlan.Entry(.reset),
            FaultPlan.Entry(.payloadTooLarge, count: 2),
        ])
    }

    @Test func spacesAroundStepsAreIgnored() throws {
        #expect(try FaultPlan(parsing: " 503 , 200 ") == FaultPlan(steps: [.serviceUnavailable, .ok]))
    }

    @Test func withoutAPlanEveryRequestGets204() {
        let plan = FaultPlan.alwaysNoContent
        #expect((0..<3).map { plan.step(forRequestAt: $0) } == [.noContent, .noContent, .noContent])
        #expect(FaultPlan(steps: []) == .alwaysNoContent)
    }

    @Test func aPlanPrintsInItsOwnSyntax() throws {
        #expect(try FaultPlan(parsing: "503x2,reset,429:1,200").description == "503x2,reset,429:1,200")
    }

    @Test(arguments: [
        ("", 0, FaultPlanError.Problem.emptyPlan),
        ("   ", 0, .emptyPlan),
        ("503,,200", 2, .emptyStep),
        ("503,", 2, .emptyStep),
        ("502", 1, .unknownStep),
        ("204", 1, .unknownStep),
        ("200,slow", 2, .unknownStep),
        ("TIMEOUT", 1, .unknownStep),
        ("503x3x2", 1, .unknownStep),
        ("429", 1, .missingRetryAfter),
        ("200,429", 2, .missingRetryAfter),
        ("429:", 1, .invalidRetryAfter),
        ("429:-1", 1, .invalidRetryAfter),
        ("429:1.5", 1, .invalidRetryAfter),
        ("429:+1", 1, .invalidRetryAfter),
        ("503x0", 1, .invalidCount),
        ("503x", 1, .invalidCount),
        ("503x-2", 1, .invalidCount),
        ("503x+2", 1, .invalidCount),
        ("200,resetx99999999999999999999", 2, .invalidCount),
    ])
    func aWrongStepIsNamedWithItsProblem(text: String, position: Int, problem: FaultPlanError.Problem) {
        #expect(throws: FaultPlanError.self) { try FaultPlan(parsing: text) }
        do {
            _ = try FaultPlan(parsing: text)
        } catch {
            #expect(error.position == position)
            #expect(error.problem == problem)
        }
    }

    @Test func theErrorSaysWhichStepIsWrongAndWhatIsAllowed() {
        do {
            _ = try FaultPlan(parsing: "503,502,200")
            Issue.record("the plan was accepted")
        } catch {
            #expect(error.description == #"fault plan step 2 "502" is not a known step; steps are comma-separated: 200, 503, 429:SECONDS, 400, 413, timeout or reset, each optionally with a count such as 503x3"#)
        }
    }
}
