import Foundation
import Testing
@testable import EventSpool

/// Properties of the decision engine on random datafiles and users (seeded, so a failure
/// reproduces): decisions are deterministic, a forced decision wins, a decision names a
/// variation of its flag, and no input traps. `EVENTSPOOL_DECISION_SEEDS` sets how many
/// datafiles are tried (16 by default).
///
/// Each test works on a thread of its own and reports what it found, so its minutes of CPU
/// in a long run never hold the threads the asynchronous tests beside it need.
@Suite(.serialized) struct DecisionPropertyTests {
    static let seeds: [UInt64] = {
        let count = ProcessInfo.processInfo.environment["EVENTSPOOL_DECISION_SEEDS"].flatMap(UInt64.init) ?? 16
        return Array(1...max(1, count))
    }()

    /// A decision as the comparable facts it consists of.
    struct Facts: Equatable {
        let variation: String?
        let enabled: Bool
        let rule: String?
        let variables: EventValue
        let impressions: [Impression]
    }

    func facts(_ decision: OptimizelyDecision, _ recorder: RecordingEventProcessor) -> Facts {
        let impressions = recorder.takeEvents().compactMap { event -> Impression? in
            if case .impression(let impression) = event.payload { return impression }
            return nil
        }
        // NaN is not equal to itself: compare its JSON rendering.
        return Facts(variation: decision.variationKey, enabled: decision.enabled, rule: decision.ruleKey,
                     variables: .string(EventValue.object(decision.variables).wrappedJSON.jsonText), impressions: impressions)
    }

    /// Runs `check` on a thread of its own and expects it to find nothing wrong.
    func expectNoFailures(_ check: @escaping () throws -> [String]) async throws {
        let failures = try await offThread(check)
        #expect(failures.isEmpty, "\(failures.prefix(5).joined(separator: "\n"))")
    }

    @Test(arguments: seeds)
    func decisionsAreDeterministicAndNameAVariationOfTheirFlag(_ seed: UInt64) async throws {
        try await expectNoFailures { try deterministicDecisions(seed) }
    }

    func deterministicDecisions(_ seed: UInt64) throws -> [String] {
        var failures: [String] = []
        var project = RandomProject(seed: seed)
        let config = try ProjectConfig(datafile: project.datafile())
        let first = RecordingEventProcessor()
        let second = RecordingEventProcessor()
        let clientA = OptimizelyClient(config: config, eventProcessor: first)
        let clientB = OptimizelyClient(config: config, eventProcessor: second)
        for _ in 0..<25 {
            let userId = project.userId()
            let attributes = project.attributes()
            for flag in config.uniqueFlags {
                let a = clientA.createUserContext(userId: userId, attributes: attributes).decide(key: flag.key, options: [.includeReasons])
                let factsA = facts(a, first)
                let b = clientB.createUserContext(userId: userId, attributes: attributes).decide(key: flag.key, options: [.includeReasons])
                let again = clientA.createUserContext(userId: userId, attributes: attributes).decide(key: flag.key, options: [.includeReasons])
                let place = "seed \(seed) \(flag.key) \(userId)"
                if factsA != facts(b, second) || a.reasons != b.reasons { failures.append("\(place): two clients differ") }
                if factsA != facts(again, first) { failures.append("\(place): the same client differs the second time") }
                let variation = config.variations(ofFlag: flag.key).first { $0.key == a.variationKey }
                if a.variationKey != nil && variation == nil { failures.append("\(place): \(a.variationKey ?? "") is no variation of the flag") }
                if a.enabled != (variation?.featureEnabled ?? false) { failures.append("\(place): enabled is not the variation's featureEnabled") }
            }
        }
        return failures
    }

    @Test(arguments: seeds)
    func aForcedDecisionWinsOverEverythingElse(_ seed: UInt64) async throws {
        try await expectNoFailures { try forcedDecisionsWin(seed) }
    }

    func forcedDecisionsWin(_ seed: UInt64) throws -> [String] {
        var failures: [String] = []
        var project = RandomProject(seed: seed)
        let config = try ProjectConfig(datafile: project.datafile())
        let client = OptimizelyClient(config: config, eventProcessor: RecordingEventProcessor())
        for flag in config.uniqueFlags {
            let variations = config.variations(ofFlag: flag.key)
            guard let forced = variations.randomElement(using: &project.random) else { continue }
            var user = client.createUserContext(userId: project.userId(), attributes: project.attributes())
            user.setForcedDecision(context: OptimizelyDecisionContext(flagKey: flag.key), decision: OptimizelyForcedDecision(variationKey: forced.key))
            let flagLevel = user.decide(key: flag.key)
            let first = variations.first { $0.key == forced.key }
            if flagLevel.variationKey != forced.key || flagLevel.ruleKey != nil || flagLevel.enabled != first?.featureEnabled {
                failures.append("seed \(seed) \(flag.key): the flag-level forced decision lost")
            }
            // On a rule: the first feature test, or else the first rollout rule, is always reached.
            user.removeAllForcedDecisions()
            let rule = flag.experimentIds.first.flatMap(config.experiment(id:)) ?? config.rollout(id: flag.rolloutId)?.experiments.first
            guard let rule else { continue }
            user.setForcedDecision(context: OptimizelyDecisionContext(flagKey: flag.key, ruleKey: rule.key), decision: OptimizelyForcedDecision(variationKey: forced.key))
            let ruleLevel = user.decide(key: flag.key)
            if ruleLevel.variationKey != forced.key || ruleLevel.ruleKey != rule.key {
                failures.append("seed \(seed) \(flag.key): the forced decision on \(rule.key) lost")
            }
        }
        return failures
    }

    @Test(arguments: seeds)
    func noInputTraps(_ seed: UInt64) async throws {
        // A trap would end the test process: reaching the end is the proof.
        let calls = try await offThread { try runWithoutTrapping(seed) }
        #expect(calls > 0)
    }

    /// Runs random calls and mangled inputs; returns how many calls ran.
    func runWithoutTrapping(_ seed: UInt64) throws -> Int {
        var ran = 0
        var project = RandomProject(seed: seed)
        let datafile = project.datafile()
        let config = try ProjectConfig(datafile: datafile)
        let session = ClientCallSession(config: config, userProfileService: InMemoryUserProfileService())
        // Every call kind with random (often wrong) attributes and keys.
        let keys = config.uniqueFlags.map(\.key) + ["nope", ""]
        let experiments = config.experiments.map(\.key) + config.rollouts.flatMap { $0.experiments.map(\.key) } + ["nope", ""]
        for _ in 0..<30 {
            let user = project.userId()
            let attributes = project.attributes()
            let calls: [ClientCall] = [
                .decideAll(userId: user, attributes: attributes, options: Array(OptimizelyDecideOption.allCases.shuffled(using: &project.random).prefix(2))),
                .decideForKeys(userId: user, attributes: attributes, flagKeys: [keys.randomElement(using: &project.random) ?? "", keys[0]], options: [.includeReasons]),
                .activate(experimentKey: experiments.randomElement(using: &project.random) ?? "", userId: user, attributes: attributes),
                .isFeatureEnabled(featureKey: keys.randomElement(using: &project.random) ?? "", userId: user, attributes: attributes),
                .getAllFeatureVariables(featureKey: keys.randomElement(using: &project.random) ?? "", userId: user, attributes: attributes),
                .getEnabledFeatures(userId: user, attributes: attributes),
                .setForcedVariation(experimentKey: experiments.randomElement(using: &project.random) ?? "", userId: user, variationKey: "v100010"),
                .setForcedDecision(userId: user, flagKey: keys[0], ruleKey: experiments.randomElement(using: &project.random), variationKey: "v100020"),
                .track(eventKey: "purchase", userId: user, attributes: attributes, eventTags: ["revenue": project.value(), "value": project.value()]),
            ]
            for call in calls {
                let outcome = session.run(call)
                _ = outcome.jsonLine(call: ran)
                ran += 1
            }
        }
        // Mangled datafiles and lines are typed errors, never a trap.
        let bytes = Array(datafile.utf8)
        for _ in 0..<40 {
            var mangled = bytes
            for _ in 0..<Int.random(in: 1...4, using: &project.random) {
                let index = Int.random(in: 0..<mangled.count, using: &project.random)
                mangled[index] = UInt8.random(in: 32...126, using: &project.random)
            }
            _ = try? ProjectConfig(datafile: mangled)
            _ = try? ClientCall(line: String(decoding: mangled.prefix(200), as: UTF8.self))
        }
        return ran
    }
}
