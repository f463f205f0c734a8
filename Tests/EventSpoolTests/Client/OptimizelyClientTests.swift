import Foundation
import Testing
@testable import EventSpool

/// The client's API as a user of it sees it: contexts, options, notifications, the durable
/// processor, threads.
@Suite struct OptimizelyClientTests {
    let folder = TemporaryFolder()

    @Test func theClientSendsItsImpressionsThroughTheDurableProcessorAndSharesItsCenter() async throws {
        let processor = try BatchEventProcessor(queuePath: folder.file("events.sqlite"), dispatcher: ScriptedDispatcher())
        let datafile = try String(contentsOf: DecisionFixtures.directory.appendingPathComponent("example.datafile.json"), encoding: .utf8)
        let client = try OptimizelyClient(datafile: datafile, eventProcessor: processor)
        #expect(client.notificationCenter === processor.notificationCenter)
        let user = client.createUserContext(userId: "flag_user_1", attributes: ["is_logged_in": true])
        #expect(user.decide(key: "new_nav").variationKey == "on")
        user.trackEvent(eventKey: "purchase", eventTags: ["revenue": 1999])
        #expect(try processor.queue.stats().pending == 2, "both events are in SQLite when the calls return")
        await processor.stop()
    }

    @Test func decidingNeverChangesTheClientsDefaultOptions() throws {
        // The reference drops ENABLED_FLAGS_ONLY from its defaults on the first decide (§10.2).
        let rig = try ClientRig.checklist(defaultOptions: [.enabledFlagsOnly])
        let user = rig.client.createUserContext(userId: "f1", attributes: ["browser": "firefox"])
        #expect(user.decide(key: "paused_flag").flagKey == "paused_flag", "decide always returns its decision")
        #expect(rig.client.defaultDecideOptions == [.enabledFlagsOnly])
        #expect(!user.decideAllInOrder().contains { $0.flagKey == "paused_flag" }, "decideAll still filters")
    }

    @Test func theDecisionNotificationCarriesTheReferencesKeysAndReasonsOnlyWhenAsked() throws {
        let rig = try ClientRig.example()
        let user = rig.client.createUserContext(userId: "flag_user_1", attributes: ["is_logged_in": true])
        _ = user.decide(key: "new_nav")
        _ = user.decide(key: "new_nav", options: [.includeReasons, .disableDecisionEvent])
        let notifications = rig.notifications.takeDecisions()
        #expect(notifications.map(\.type) == [.flag, .flag])
        #expect(notifications[0].decisionInfo.members.map(\.key) == [
            "flag_key", "enabled", "variables", "variation_key", "rule_key", "reasons", "decision_event_dispatched", "experiment_id", "variation_id",
        ])
        #expect(notifications[0].decisionInfo["reasons"] == [] && notifications[0].decisionInfo["decision_event_dispatched"] == true)
        #expect(notifications[1].decisionInfo["reasons"] != [] && notifications[1].decisionInfo["decision_event_dispatched"] == false)
        #expect(notifications[0].attributes == ["is_logged_in": true])
    }

    @Test func aUserContextIsAValueSoACopyChangesAlone() throws {
        let rig = try ClientRig.example()
        var user = rig.client.createUserContext(userId: "u2", attributes: ["browser": "chrome", "browser": "firefox"])
        #expect(user.attributes == ["browser": "firefox"], "a repeated key keeps its last value")
        var copy = user
        copy.setForcedDecision(context: OptimizelyDecisionContext(flagKey: "dark_mode"), decision: OptimizelyForcedDecision(variationKey: "on"))
        copy.setAttribute(key: "browser", value: "chrome")
        #expect(user.getForcedDecision(context: OptimizelyDecisionContext(flagKey: "dark_mode")) == nil)
        #expect(user.decide(key: "dark_mode").variationKey == "off")
        #expect(copy.decide(key: "dark_mode").variationKey == "on")
        let removed = copy.removeForcedDecision(context: OptimizelyDecisionContext(flagKey: "dark_mode"))
        let removedAgain = copy.removeForcedDecision(context: OptimizelyDecisionContext(flagKey: "dark_mode"))
        #expect(removed && !removedAgain)
        #expect(copy.decide(key: "dark_mode").ruleKey == "dark_mode_chrome_delivery")
        user.setAttribute(key: "browser", value: "chrome")
        #expect(user == copy)
    }

    @Test func decideForKeysAndDecideAllAreKeyedByFlag() throws {
        let rig = try ClientRig.example()
        let user = rig.client.createUserContext(userId: "flag_user_2", attributes: ["browser": "firefox"])
        #expect(Set(user.decideAll().keys) == ["new_nav", "dark_mode"])
        let decisions = user.decide(keys: ["dark_mode", "nope"])
        #expect(decisions["dark_mode"]?.variationKey == "off" && decisions["nope"]?.variationKey == nil)
    }

    @Test func qualifiedSegmentsSetOnTheContextAreWhatQualifiedConditionsCheck() throws {
        let datafile = try String(contentsOf: DecisionFixtures.directory.appendingPathComponent("example.datafile.json"), encoding: .utf8)
            .replacingOccurrences(of: #"{\"name\": \"browser\", \"type\": \"custom_attribute\", \"match\": \"exact\", \"value\": \"chrome\"}"#,
                                  with: #"{\"name\": \"ignored\", \"type\": \"custom_attribute\", \"match\": \"qualified\", \"value\": \"vip\"}"#)
        let client = try OptimizelyClient(datafile: datafile, eventProcessor: RecordingEventProcessor())
        var user = client.createUserContext(userId: "u")
        #expect(user.decide(key: "dark_mode").variationKey == "off")
        user.setQualifiedSegments(["vip"])
        #expect(user.decide(key: "dark_mode").variationKey == "on")
    }

    @Test func manyThreadsDecidingAndForcingAtOnceSeeTheirOwnForcedVariations() async throws {
        let rig = try ClientRig.checklist(profiles: InMemoryUserProfileService())
        let client = rig.client
        let mismatches = LockedValue(0)
        // Threads of their own, not the test pool's.
        await offThePool {
            DispatchQueue.concurrentPerform(iterations: 8) { thread in
                for round in 0..<100 {
                    let user = "user-\(thread)-\(round)"
                    let variation = round.isMultiple(of: 2) ? "w_a" : "w_b"
                    client.setForcedVariation(experimentKey: "whitelist_test", userId: user, variationKey: variation)
                    if client.activate(experimentKey: "whitelist_test", userId: user) != variation { mismatches.withLock { $0 += 1 } }
                    _ = client.createUserContext(userId: user, attributes: ["browser": "chrome"]).decideAll()
                }
            }
        }
        #expect(mismatches.withLock { $0 } == 0)
        #expect(rig.recorder.takeEvents().count > 800)
    }

    @Test func badKeysGiveTheReferencesFailureValuesAndNeverThrow() throws {
        let rig = try ClientRig.checklist()
        let client = rig.client
        #expect(client.activate(experimentKey: "", userId: "u") == nil)
        #expect(client.activate(experimentKey: "nope", userId: "u") == nil)
        #expect(client.getVariation(experimentKey: "nope", userId: "u") == nil)
        #expect(client.isFeatureEnabled(featureKey: "", userId: "u") == false)
        #expect(client.isFeatureEnabled(featureKey: "nope", userId: "u") == false)
        #expect(client.getAllFeatureVariables(featureKey: "nope", userId: "u") == nil)
        #expect(client.getFeatureVariable(featureKey: "two_tests", variableKey: "", userId: "u") == nil)
        #expect(client.getForcedVariation(experimentKey: "nope", userId: "u") == nil)
        #expect(!client.track(eventKey: "", userId: "u"))
        #expect(client.createUserContext(userId: "").decide(key: "").reasons == ["No flag was found for key \"\"."])
        #expect(rig.notifications.takeDecisions().isEmpty, "no notification for invalid input")
        #expect(rig.recorder.takeEvents().isEmpty)
    }

    @Test func tagsTheWireCannotCarryAreLoggedAndNothingIsSent() throws {
        let logs = LogCapture()
        let recorder = RecordingEventProcessor()
        let datafile = try String(contentsOf: DecisionFixtures.directory.appendingPathComponent("example.datafile.json"), encoding: .utf8)
        let client = try OptimizelyClient(datafile: datafile, eventProcessor: recorder, logger: logs.logger)
        #expect(!client.track(eventKey: "purchase", userId: "u", eventTags: ["big": .integerOutOfRange("123456789012345678901")]))
        #expect(recorder.takeEvents().isEmpty)
        #expect(logs.messages.contains { $0.hasPrefix("error") && $0.contains("purchase") })
    }

    @Test func theImpressionsOfOneCallAreHandedOverTogetherUnlessSomeoneListensToActivate() throws {
        let processor = GroupCountingProcessor()
        let datafile = try String(contentsOf: DecisionFixtures.directory.appendingPathComponent("example.datafile.json"), encoding: .utf8)
        let client = try OptimizelyClient(datafile: datafile, eventProcessor: processor)
        let user = client.createUserContext(userId: "flag_user_2", attributes: ["browser": "firefox"])
        _ = user.decideAll()
        #expect(processor.groups.withLock { $0 } == [2], "both impressions in one group")
        // With an ACTIVATE listener, each impression goes alone, before its notification.
        let order = LockedValue<[String]>([])
        client.notificationCenter.addListener(for: .activate) { _ in
            order.withLock { $0.append("activate after \(processor.groups.withLock { $0.count }) groups") }
        }
        _ = user.decideAll()
        #expect(processor.groups.withLock { $0 } == [2, 1, 1])
        #expect(order.withLock { $0 } == ["activate after 2 groups", "activate after 3 groups"])
    }

    @Test func aProcessorWithoutGroupsTakesEachEventAndReportsTheFirstFailure() throws {
        let processor = FailingOnceProcessor()
        let datafile = try String(contentsOf: DecisionFixtures.directory.appendingPathComponent("example.datafile.json"), encoding: .utf8)
        let logs = LogCapture()
        let client = try OptimizelyClient(datafile: datafile, eventProcessor: processor, logger: logs.logger)
        _ = client.createUserContext(userId: "flag_user_2", attributes: ["browser": "firefox"]).decideAll()
        #expect(processor.taken.withLock { $0 } == 2, "the second event is taken after the first failed")
        #expect(logs.messages.contains { $0.hasPrefix("error") && $0.contains("did not take") })
    }
}

/// Counts the events of each hand-over.
final class GroupCountingProcessor: EventProcessor {
    let groups = LockedValue<[Int]>([])
    func process(_ event: UserEvent) throws(ProcessorError) { groups.withLock { $0.append(1) } }
    func process(contentsOf events: [UserEvent]) throws(ProcessorError) { groups.withLock { $0.append(events.count) } }
}

/// Refuses its first event, takes the others one by one (the protocol's default for groups).
final class FailingOnceProcessor: EventProcessor {
    let taken = LockedValue(0)
    func process(_ event: UserEvent) throws(ProcessorError) {
        let count = taken.withLock { taken in
            taken += 1
            return taken
        }
        if count == 1 { throw .stopped }
    }
}
