import Testing
@testable import EventSpool

/// The datafile model of decisions.md §2: what the reference accepts and rejects, and its
/// lookup maps.
@Suite struct DatafileModelTests {
    static var checklist: JSONValue {
        get throws { try JSONValue.parse(try String(contentsOf: DecisionFixtures.checklistDirectory.appendingPathComponent("checklist.datafile.json"), encoding: .utf8)) }
    }

    func rejection(_ change: (JSONValue) throws -> JSONValue) throws -> DatafileError? {
        let json = try change(try Self.checklist)
        do {
            _ = try ProjectConfig(json: json)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: ["projectId", "accountId", "groups", "experiments", "events", "audiences", "attributes", "version", "revision"])
    func everyMemberTheSchemaRequiresIsRequired(_ key: String) throws {
        let error = try rejection { $0.setting(key, nil) }
        #expect(error == .missingField(path: key, expected: key == "version" || key.hasSuffix("Id") || key == "revision" ? "a string" : "an array"))
    }

    @Test func featureFlagsRolloutsAndTypedAudiencesMayBeAbsent() throws {
        let config = try ProjectConfig(json: try Self.checklist.setting("featureFlags", nil).setting("rollouts", nil).setting("typedAudiences", nil))
        #expect(config.featureFlags.isEmpty && config.rollouts.isEmpty)
        #expect(config.audience(id: "7003")?.name == "Optimizely-Generated Audience for Backwards Compatibility")
    }

    @Test func anEndOfRangeMustBeAnInteger() throws {
        for value in [JSONValue.double(FiniteDouble(5000.5)!), .double(FiniteDouble(5000.0)!), .string("5000"), .bool(true)] {
            let error = try rejection { json in
                DatafileTests.replacing(json, at: [.key("experiments"), .index(0), .key("trafficAllocation"), .index(0), .key("endOfRange")], with: value)
            }
            #expect(error?.path == "experiments[0].trafficAllocation[0].endOfRange")
        }
    }

    @Test func anExperimentNeedsEveryMemberOfTheSchema() throws {
        for key in ["id", "layerId", "key", "status", "variations", "trafficAllocation", "audienceIds", "forcedVariations"] {
            let error = try rejection { json in
                DatafileTests.replacing(json, at: [.key("experiments"), .index(1), .key(key)], with: nil)
            }
            #expect(error?.path == "experiments[1].\(key)", "\(key)")
        }
    }

    @Test func aVersionOtherThanTwoThreeOrFourIsRefused() throws {
        #expect(try rejection { $0.setting("version", .string("5")) } == .unsupportedVersion(path: "version", found: "\"5\""))
        #expect(try rejection { $0.setting("version", .int(4)) }?.path == "version")
    }

    @Test func aFlagNamingAMissingExperimentOrRolloutIsRefused() throws {
        let missingExperiment = try rejection { json in
            DatafileTests.replacing(json, at: [.key("featureFlags"), .index(0), .key("experimentIds"), .index(1)], with: .string("404"))
        }
        #expect(missingExperiment == .unknownReference(path: "featureFlags[0].experimentIds[1]", id: "404", expected: "an experiment id"))
        let missingRollout = try rejection { json in
            DatafileTests.replacing(json, at: [.key("featureFlags"), .index(1), .key("rolloutId")], with: .string("404"))
        }
        #expect(missingRollout?.path == "featureFlags[1].rolloutId")
        #expect(missingRollout?.description.contains("404") == true)
    }

    @Test func aLegacyAudienceThatIsNotJSONIsRefusedUnlessATypedOneReplacesIt() throws {
        let broken = try rejection { json in
            DatafileTests.replacing(json, at: [.key("audiences"), .index(0), .key("conditions")], with: .string("[\"and\", {"))
        }
        #expect(broken?.path == "audiences[0].conditions")
        // 7003 is replaced by a typed audience, so its placeholder is never parsed.
        _ = try ProjectConfig(json: DatafileTests.replacing(try Self.checklist, at: [.key("audiences"), .index(2), .key("conditions")], with: .string("{")))
    }

    @Test func anAudienceListHoldingAListIsAccepted() throws {
        // The reference raises at construction on [["or", …]] (§2.1 item 5); EventSpool accepts it.
        let json = DatafileTests.replacing(try Self.checklist, at: [.key("experiments"), .index(3), .key("audienceConditions")],
                                           with: .array([.array([.string("or"), .string("7002")])]))
        let client = OptimizelyClient(config: try ProjectConfig(json: json), eventProcessor: RecordingEventProcessor())
        #expect(client.getVariation(experimentKey: "whitelist_test", userId: "u", attributes: ["browser": "chrome"]) != nil)
    }

    @Test func experimentsRolloutRulesAndGroupExperimentsShareOneKeySpaceTheLaterWinning() throws {
        let config = try ProjectConfig(json: try Self.checklist)
        #expect(config.experiment(key: "everyone_else_1")?.id == "2103")
        #expect(config.experiment(key: "group_exp_1")?.groupId == "1901" && config.experiment(key: "group_exp_1")?.groupPolicy == "random")
        // A rollout rule with the key of an experiment replaces it in the key space.
        let json = DatafileTests.replacing(try Self.checklist, at: [.key("rollouts"), .index(1), .key("experiments"), .index(0), .key("key")],
                                           with: .string("holey_test"))
        #expect(try ProjectConfig(json: json).experiment(key: "holey_test")?.id == "2201")
    }

    @Test func typedAudiencesReplaceLegacyOnesOfTheSameId() throws {
        let config = try ProjectConfig(json: try Self.checklist)
        #expect(config.audience(id: "7003")?.name == "adults on 2.x")
        #expect(config.audience(id: "7004")?.conditions.tree == .leaf(0), "a bare object is a one-leaf tree")
    }

    @Test func aFeatureRolloutExperimentGainsTheEveryoneElseVariation() throws {
        let config = try ProjectConfig(json: try Self.checklist)
        let experiment = try #require(config.experiment(key: "fr_test"))
        #expect(experiment.variations.map(\.key) == ["fr_on", "fr_off"])
        #expect(experiment.trafficAllocation.last == ProjectConfig.TrafficRange(entityId: "2311", endOfRange: 10_000))
        #expect(config.variations(ofFlag: "fr_flag").map(\.id) == ["5801", "2311"])
    }

    @Test func aFlagsVariationsAreThoseOfItsTestsThenItsRulesEachOnce() throws {
        let config = try ProjectConfig(json: try Self.checklist)
        #expect(config.variations(ofFlag: "two_tests").map(\.id) == ["5601", "5701", "5702", "2211"])
        #expect(config.variations(ofFlag: "rollout_flag").map(\.key) == ["r1_on", "r2_on", "off"])
        #expect(config.isFeatureTest(experimentId: "5006") && !config.isFeatureTest(experimentId: "5001"))
    }

    @Test func aStringVariableWithAJSONSubTypeIsAJSONVariable() throws {
        let config = try ProjectConfig(json: try Self.checklist)
        #expect(config.featureFlag(key: "two_tests")?.variable(key: "payload")?.type == "json")
    }

    @Test func aDatafileWithHoldoutsIsUsedWithAWarningThatTheyAreIgnored() throws {
        let json = try Self.checklist.setting("holdouts", .array([.object([.init(key: "id", value: .string("h"))])]))
        let logs = LogCapture()
        let client = OptimizelyClient(config: try ProjectConfig(json: json), eventProcessor: RecordingEventProcessor(), logger: logs.logger)
        #expect(client.config?.holdoutCount == 1)
        #expect(logs.messages.contains { $0.hasPrefix("warning") && $0.contains("holdouts") })
    }
}
