import Testing
@testable import EventSpool

/// The checklist of decisions.md §21 (items 12–27), one behaviour a test, on the checklist
/// datafile. Every expected value here is what the official SDK answered on the same call
/// (`Fixtures/conformance/decisions-checklist`).
@Suite struct ChecklistTests {
    // MARK: Experiments (§5, §6)

    @Test func onlyRunningExperimentsDecideAndTheOthersSendNoImpression() throws {
        let rig = try ClientRig.checklist()
        for key in ["launched_test", "paused_test"] {
            #expect(rig.client.activate(experimentKey: key, userId: "s_user") == nil)
            let notification = try #require(rig.notifications.takeDecisions().first)
            #expect(notification.type == .abTest)
            #expect(notification.decisionInfo == ["experiment_key": .string(key), "variation_key": nil])
        }
        #expect(rig.recorder.takeEvents().isEmpty)
    }

    @Test func theWhitelistBeatsAudiencesAndAWhitelistToAMissingVariationFallsThrough() throws {
        let rig = try ClientRig.checklist()
        // whitelist_test needs chrome; wl_user is whitelisted to w_b, wl_missing to a missing key.
        #expect(rig.client.activate(experimentKey: "whitelist_test", userId: "wl_user", attributes: ["browser": "safari"]) == "w_b")
        #expect(rig.client.activate(experimentKey: "whitelist_test", userId: "wl_missing", attributes: ["browser": "chrome"]) == "w_b")
        #expect(rig.client.activate(experimentKey: "whitelist_test", userId: "wl_missing", attributes: ["browser": "safari"]) == nil)
    }

    @Test func aForcedVariationBeatsTheWhitelistButNotTheStatus() throws {
        let rig = try ClientRig.checklist()
        #expect(rig.client.setForcedVariation(experimentKey: "whitelist_test", userId: "wl_user", variationKey: "w_a"))
        #expect(rig.client.activate(experimentKey: "whitelist_test", userId: "wl_user", attributes: ["browser": "safari"]) == "w_a")
        #expect(rig.client.getForcedVariation(experimentKey: "whitelist_test", userId: "wl_user") == "w_a")
        #expect(rig.client.setForcedVariation(experimentKey: "paused_test", userId: "s_user", variationKey: "only"))
        #expect(rig.client.activate(experimentKey: "paused_test", userId: "s_user") == nil)
    }

    @Test func nilClearsAForcedVariationAndBadKeysAreRefused() throws {
        let rig = try ClientRig.checklist()
        rig.client.setForcedVariation(experimentKey: "whitelist_test", userId: "u", variationKey: "w_a")
        #expect(rig.client.setForcedVariation(experimentKey: "whitelist_test", userId: "u", variationKey: nil))
        #expect(rig.client.getForcedVariation(experimentKey: "whitelist_test", userId: "u") == nil)
        #expect(rig.client.setForcedVariation(experimentKey: "whitelist_test", userId: "nobody", variationKey: nil), "clearing nothing succeeds")
        #expect(!rig.client.setForcedVariation(experimentKey: "whitelist_test", userId: "u", variationKey: ""))
        #expect(!rig.client.setForcedVariation(experimentKey: "whitelist_test", userId: "u", variationKey: "no_such"))
        #expect(!rig.client.setForcedVariation(experimentKey: "no_such_experiment", userId: "u", variationKey: "w_a"))
        #expect(!rig.client.setForcedVariation(experimentKey: "", userId: "u", variationKey: "w_a"))
    }

    @Test func aForcedVariationOfAFeatureTestAppliesToDecide() throws {
        let rig = try ClientRig.checklist()
        rig.client.setForcedVariation(experimentKey: "ft_2", userId: "forced_ft", variationKey: "ft2_off")
        let decision = rig.client.createUserContext(userId: "forced_ft", attributes: ["browser": "chrome"]).decide(key: "two_tests")
        #expect(decision.variationKey == "ft2_off" && decision.ruleKey == "ft_2" && !decision.enabled)
    }

    @Test func activateWorksOnARolloutRuleKeyAsAnExperiment() throws {
        let rig = try ClientRig.checklist()
        #expect(rig.client.activate(experimentKey: "everyone_else_1", userId: "rule_user") == "off")
        let impression = try #require(rig.takeImpressions().first)
        #expect(impression.ruleType == .experiment && impression.flagKey == "" && impression.enabled && impression.ruleKey == "everyone_else_1")
        #expect(rig.client.activate(experimentKey: "r2", userId: "rule_user", attributes: ["browser": "chrome"]) == nil, "a Paused rule is not running for activate")
    }

    // MARK: Flags and decide (§9, §10)

    @Test func aRuleWhoseAudienceMatchesButWhoseTrafficMissesJumpsToEveryoneElse() throws {
        let rig = try ClientRig.checklist()
        // r1 (firefox) gives 50% to r1_on: f1 buckets at 619, f3 at 6671.
        let f1 = rig.client.createUserContext(userId: "f1", attributes: ["browser": "firefox"]).decide(key: "rollout_flag")
        #expect(f1.variationKey == "r1_on" && f1.ruleKey == "r1")
        let f3 = rig.client.createUserContext(userId: "f3", attributes: ["browser": "firefox"]).decide(key: "rollout_flag", options: [.includeReasons])
        #expect(f3.variationKey == "off" && f3.ruleKey == "everyone_else_1")
        #expect(f3.reasons.contains("User \"f3\" not bucketed into a targeting rule 1. Checking \"Everyone Else\" rule now."))
        #expect(!f3.reasons.contains { $0.contains("rule 2") }, "rule 2 is skipped")
    }

    @Test func pausedRolloutRulesStillDeliver() throws {
        let rig = try ClientRig.checklist()
        let decision = rig.client.createUserContext(userId: "f5", attributes: ["browser": "chrome"]).decide(key: "rollout_flag")
        #expect(decision.variationKey == "r2_on" && decision.ruleKey == "r2" && decision.enabled)
    }

    @Test func withoutSendFlagDecisionsRolloutDecisionsSendNoImpression() throws {
        let rig = try ClientRig.checklist(quiet: true)
        let user = rig.client.createUserContext(userId: "f1", attributes: ["browser": "firefox"])
        #expect(user.decide(key: "rollout_flag").variationKey == "r1_on")
        #expect(rig.recorder.takeEvents().isEmpty)
        #expect(rig.notifications.takeDecisions().first?.decisionInfo["decision_event_dispatched"] == false)
        #expect(user.decide(key: "two_tests").ruleKey == "ft_1")
        #expect(rig.takeImpressions().map(\.ruleType) == [.featureTest], "feature tests always send")
    }

    @Test func aFlagLevelForcedDecisionHasNoRuleAndAnImpressionWithEmptyIds() throws {
        let rig = try ClientRig.checklist()
        var user = rig.client.createUserContext(userId: "fd_user", attributes: ["browser": "firefox"])
        user.setForcedDecision(context: OptimizelyDecisionContext(flagKey: "two_tests"), decision: OptimizelyForcedDecision(variationKey: "ft2_on"))
        let decision = user.decide(key: "two_tests")
        #expect(decision.variationKey == "ft2_on" && decision.ruleKey == nil && decision.enabled)
        let impression = try #require(rig.takeImpressions().first)
        #expect(impression.campaignId == "" && impression.experimentId == "" && impression.variationId == "5701")
        #expect(impression.ruleType == .featureTest && impression.ruleKey == "")
        let info = try #require(rig.notifications.takeDecisions().first?.decisionInfo)
        #expect(info["experiment_id"] == .null && info["variation_id"] == "5701")
    }

    @Test func anInvalidForcedVariationIsReportedAndTheFlagDecidedNormally() throws {
        let rig = try ClientRig.checklist()
        var user = rig.client.createUserContext(userId: "fd_user", attributes: ["browser": "firefox"])
        user.setForcedDecision(context: OptimizelyDecisionContext(flagKey: "two_tests"), decision: OptimizelyForcedDecision(variationKey: "bogus"))
        let decision = user.decide(key: "two_tests", options: [.includeReasons])
        #expect(decision.variationKey == "ft1_on" && decision.ruleKey == "ft_1")
        #expect(decision.reasons.first == "Invalid variation is mapped to flag (two_tests) and user (fd_user) in the forced decision map.")
    }

    @Test func aRuleForcedDecisionAppliesToAPausedFeatureTestAndMayNameAnotherRulesVariation() throws {
        let rig = try ClientRig.checklist()
        var user = rig.client.createUserContext(userId: "p_user")
        #expect(user.decide(key: "paused_flag").variationKey == nil)
        user.setForcedDecision(context: OptimizelyDecisionContext(flagKey: "paused_flag", ruleKey: "paused_ft"), decision: OptimizelyForcedDecision(variationKey: "pf_on"))
        #expect(user.decide(key: "paused_flag").variationKey == "pf_on")
        var other = rig.client.createUserContext(userId: "fd_user", attributes: ["browser": "safari"])
        other.setForcedDecision(context: OptimizelyDecisionContext(flagKey: "rollout_flag", ruleKey: "everyone_else_1"), decision: OptimizelyForcedDecision(variationKey: "r1_on"))
        let decision = other.decide(key: "rollout_flag")
        #expect(decision.variationKey == "r1_on" && decision.ruleKey == "everyone_else_1")
        #expect(rig.client.isFeatureEnabled(featureKey: "rollout_flag", userId: "fd_user", attributes: ["browser": "safari"]) == false,
                "the legacy calls do not see forced decisions")
    }

    @Test func enabledFlagsOnlyFiltersTheResultButNotTheImpressions() throws {
        let rig = try ClientRig.checklist()
        let user = rig.client.createUserContext(userId: "f4", attributes: ["browser": "chrome"])
        let filtered = user.decideAllInOrder(options: [.enabledFlagsOnly])
        #expect(filtered.map(\.flagKey) == ["cmab_flag", "two_tests", "rollout_flag", "fr_flag", "group_flag"])
        #expect(rig.recorder.takeEvents().count == 5)
        #expect(rig.notifications.takeDecisions().count == 5, "paused_flag is notified too; cmab_flag (an error) is not")
        #expect(user.decideAllInOrder().map(\.flagKey).last == "paused_flag")
    }

    @Test func unknownKeysComeFirstAndAKeyGivenTwiceIsDecidedTwice() throws {
        let rig = try ClientRig.checklist()
        let user = rig.client.createUserContext(userId: "f1", attributes: ["browser": "firefox"])
        let decisions = user.decideInOrder(keys: ["two_tests", "nope", "paused_flag", "two_tests", "rollout_flag"], options: [.enabledFlagsOnly])
        #expect(decisions.map(\.flagKey) == ["nope", "two_tests", "rollout_flag"])
        #expect(decisions[0].reasons.isEmpty && decisions[0].variationKey == nil)
        #expect(rig.recorder.takeEvents().count == 4, "two_tests twice, paused_flag (nothing matched), rollout_flag")
        let unknown = user.decide(key: "nope")
        #expect(unknown.reasons == ["No flag was found for key \"nope\"."], "without INCLUDE_REASONS too")
        #expect(unknown.ruleKey == nil && !unknown.enabled && unknown.variables.isEmpty)
    }

    @Test func reasonsRepeatOncePerFeatureTestAsTheReferences() throws {
        // §5 quirk: with ft_1 failing its audience, its reasons appear twice before ft_2's.
        let rig = try ClientRig.checklist()
        let decision = rig.client.createUserContext(userId: "f1", attributes: ["browser": "chrome"]).decide(key: "two_tests", options: [.includeReasons])
        let first = [
            "Evaluating audiences for experiment \"ft_1\": [\"or\", \"7001\"].",
            "Audiences for experiment \"ft_1\" collectively evaluated to FALSE.",
            "User \"f1\" does not meet conditions to be in experiment \"ft_1\".",
        ]
        #expect(decision.reasons == first + first + [
            "Evaluating audiences for experiment \"ft_2\": [].",
            "Audiences for experiment \"ft_2\" collectively evaluated to TRUE.",
            "User \"f1\" is in variation \"ft2_on\" of experiment ft_2.",
        ])
    }

    @Test func variablesAreCastByTypeAndADisabledVariationUsesTheDefaults() throws {
        let rig = try ClientRig.checklist()
        let on = rig.client.createUserContext(userId: "f1", attributes: ["browser": "chrome"]).decide(key: "two_tests")
        #expect(on.variables == ["color": "blue", "flag_on": false, "count": 7, "ratio": 2.5, "payload": ["k": 2], "when": "2020-01-01"])
        // ft2_off sets color but is disabled: defaults, "1.5" is no integer, "1e3" is 1000.0.
        let off = rig.client.createUserContext(userId: "f6", attributes: ["browser": "chrome"]).decide(key: "two_tests")
        #expect(off.variables == ["color": "grey", "flag_on": true, "count": nil, "ratio": 1000.0, "payload": ["k": 1], "when": "2020-01-01"])
        #expect(rig.client.createUserContext(userId: "f6").decide(key: "two_tests", options: [.excludeVariables]).variables.isEmpty)
    }

    @Test func aFeatureRolloutGivesTheEveryoneElseVariationInsideTheFeatureTest() throws {
        // fr_test (type "fr") gives 30% to fr_on; the others get everyone_else_3's fr_off.
        let rig = try ClientRig.checklist()
        let f1 = rig.client.createUserContext(userId: "f1").decide(key: "fr_flag")
        #expect(f1.variationKey == "fr_off" && f1.ruleKey == "fr_test")
        let impression = try #require(rig.takeImpressions().first)
        #expect(impression.ruleType == .featureTest && impression.experimentId == "5008" && impression.variationId == "2311")
        #expect(rig.client.createUserContext(userId: "f4").decide(key: "fr_flag").variationKey == "fr_on")
    }

    @Test func aContextualBanditExperimentGivesAnErrorDecisionInItsTraffic() throws {
        let rig = try ClientRig.checklist()
        let inTraffic = rig.client.createUserContext(userId: "f4").decide(key: "cmab_flag")
        #expect(inTraffic.variationKey == nil && inTraffic.reasons == ["Failed to fetch CMAB data for experiment cmab_test."])
        #expect(rig.recorder.takeEvents().isEmpty && rig.notifications.takeDecisions().isEmpty)
        let outside = rig.client.createUserContext(userId: "f1").decide(key: "cmab_flag")
        #expect(outside.variationKey == "cm_off" && outside.ruleKey == "everyone_else_4")
        #expect(rig.client.activate(experimentKey: "cmab_test", userId: "f4") == nil)
    }

    // MARK: Events and notifications (§14, §15)

    @Test func isFeatureEnabledSendsAFeatureTestImpressionAndAFeatureNotification() throws {
        let rig = try ClientRig.checklist()
        #expect(rig.client.isFeatureEnabled(featureKey: "two_tests", userId: "f1", attributes: ["browser": "chrome"]))
        #expect(rig.takeImpressions().map(\.ruleKey) == ["ft_2"])
        let notification = try #require(rig.notifications.takeDecisions().first)
        #expect(notification.type == .feature)
        #expect(notification.decisionInfo == [
            "feature_key": "two_tests", "feature_enabled": true, "source": "feature-test",
            "source_info": ["experiment_key": "ft_2", "variation_key": "ft2_on"],
        ])
    }

    @Test func theVariableGettersSendNoImpressionAndNotifyTheirValues() throws {
        let rig = try ClientRig.checklist()
        let values = try #require(rig.client.getAllFeatureVariables(featureKey: "two_tests", userId: "f1", attributes: ["browser": "chrome"]))
        #expect(values["count"] == 7)
        #expect(rig.client.getFeatureVariableInteger(featureKey: "two_tests", variableKey: "count", userId: "f1", attributes: ["browser": "chrome"]) == 7)
        #expect(rig.client.getFeatureVariableString(featureKey: "two_tests", variableKey: "count", userId: "f1") == nil, "wrong type")
        #expect(rig.client.getFeatureVariableDouble(featureKey: "two_tests", variableKey: "ratio", userId: "f6", attributes: ["browser": "chrome"]) == 1000)
        #expect(rig.client.getFeatureVariableJSON(featureKey: "two_tests", variableKey: "payload", userId: "f6") == ["k": 1])
        #expect(rig.client.getFeatureVariableBoolean(featureKey: "two_tests", variableKey: "flag_on", userId: "f6") == true)
        #expect(rig.client.getFeatureVariable(featureKey: "two_tests", variableKey: "when", userId: "f6") == "2020-01-01")
        #expect(rig.client.getFeatureVariable(featureKey: "two_tests", variableKey: "nope", userId: "f6") == nil)
        #expect(rig.recorder.takeEvents().isEmpty)
        let types = rig.notifications.takeDecisions().map(\.type)
        #expect(types == [.allFeatureVariables, .featureVariable, .featureVariable, .featureVariable, .featureVariable, .featureVariable])
    }

    @Test func activateAndTrackPostActivateAndTrackNotificationsWithTheirRequests() throws {
        let rig = try ClientRig.checklist()
        rig.client.activate(experimentKey: "holey_test", userId: "h1")
        rig.client.track(eventKey: "purchase", userId: "t_user", attributes: ["browser": "chrome"], eventTags: ["revenue": 1999])
        let posted = rig.notifications.take()
        #expect(posted.map(\.type) == [.decision, .activate, .track])
        if case .activate(let activate) = posted[1] {
            #expect(activate.experiment.key == "holey_test" && activate.variation?.key == "v2")
            #expect(activate.logEvent.bodyText.contains("\"campaign_activated\""))
        }
        if case .track(let track) = posted[2] {
            #expect(track.eventKey == "purchase" && track.eventTags == ["revenue": 1999])
            #expect(track.logEvent.bodyText.contains("\"revenue\": 1999"))
        }
        #expect(!rig.client.track(eventKey: "no_such_event", userId: "t_user"))
        #expect(rig.recorder.takeEvents().count == 2)
    }
}
