import Testing
@testable import EventSpool

@Suite struct DatafileTests {
    @Test func fixtureDatafileGivesTheEventPipelineItsFields() throws {
        let config = try ConformanceFixtures.config
        #expect(config.accountId == "10367498574" && config.projectId == "10431130345" && config.revision == "241")
        #expect(config.anonymizeIP && config.botFiltering == true && config.sendFlagDecisions && config.region == .us)
        #expect(config.attribute(key: "ltv")?.id == "10401066120")
        #expect(config.event(key: "purchase")?.experimentIds.count == 3)
        #expect(config.experiment(key: "checkout_button_test")?.layerId == "10420273888")
        #expect(config.experiment(key: "dark_mode_chrome_delivery")?.id == "10412300010")
        #expect(config.variations(ofFlag: "new_nav").map(\.id) == ["10418551373", "10418551374", "10412400000"])
        #expect(config.featureFlag(key: "dark_mode")?.rolloutId == "10412100001")
    }

    static func datafile(_ change: (JSONValue) -> JSONValue) throws -> JSONValue {
        change(try ConformanceFixtures.datafileJSON)
    }

    static func replacing(_ json: JSONValue, at path: [PathStep], with value: JSONValue?) -> JSONValue {
        guard let step = path.first else { return value ?? .null }
        switch (step, json) {
        case (.key(let key), .object):
            let child = json[key] ?? .null
            return json.setting(key, path.count == 1 && value == nil ? nil : replacing(child, at: Array(path.dropFirst()), with: value))
        case (.index(let index), .array(var elements)):
            elements[index] = replacing(elements[index], at: Array(path.dropFirst()), with: value)
            return .array(elements)
        default: return json
        }
    }

    enum PathStep { case key(String), index(Int) }

    @Test(arguments: [
        ([PathStep.key("experiments"), .index(2), .key("variations"), .index(0), .key("id")], JSONValue?.some(.int(5)),
         "experiments[2].variations[0].id", "wrongType"),
        ([.key("experiments"), .index(1), .key("key")], nil, "experiments[1].key", "missingField"),
        ([.key("accountId")], nil, "accountId", "missingField"),
        ([.key("revision")], .int(241), "revision", "wrongType"),
        ([.key("version")], .string("5"), "version", "unsupportedVersion"),
        ([.key("events"), .index(1)], .string("signup"), "events[1]", "wrongType"),
        ([.key("events"), .index(0), .key("experimentIds"), .index(1)], .int(1), "events[0].experimentIds[1]", "wrongType"),
        ([.key("rollouts"), .index(1), .key("experiments"), .index(0), .key("variations")], .object([]),
         "rollouts[1].experiments[0].variations", "wrongType"),
        ([.key("attributes")], .string("none"), "attributes", "wrongType"),
        ([.key("anonymizeIP")], .string("yes"), "anonymizeIP", "wrongType"),
    ])
    func invalidDatafileNamesTheJSONPathOfTheProblem(_ path: [PathStep], _ value: JSONValue?, _ expectedPath: String, _ kind: String) throws {
        let json = try Self.datafile { Self.replacing($0, at: path, with: value) }
        do {
            _ = try ProjectConfig(json: json)
            Issue.record("accepted")
        } catch {
            #expect(error.path == expectedPath)
            #expect(Mirror(reflecting: error).children.first?.label == kind)
            #expect(error.description.contains(expectedPath))
        }
    }

    @Test func datafileThatIsNotJSONIsATypedError() {
        #expect(throws: DatafileError.self) { try ProjectConfig(datafile: "{\"version\": \"4\",") }
        #expect(throws: DatafileError.wrongType(path: "$", expected: "an object", found: "an array")) {
            try ProjectConfig(datafile: "[]")
        }
    }

    @Test func botFilteringCountsOnlyWhenABool() throws {
        for (value, expected) in [(JSONValue.bool(false), Bool?.some(false)), (.string("true"), nil), (.null, nil), (.int(1), nil)] {
            let config = try ProjectConfig(json: try Self.datafile { $0.setting("botFiltering", value) })
            #expect(config.botFiltering == expected)
        }
    }

    @Test func anonymizeIPDefaultsToFalseAndRegionEUInAnyCaseIsEU() throws {
        let config = try ProjectConfig(json: try Self.datafile { $0.setting("anonymizeIP", nil).setting("region", .string("eU")) })
        #expect(config.anonymizeIP == false)
        #expect(config.region == .eu)
        #expect(config.eventContext().endpoint == "https://eu.logx.optimizely.com/v1/events")
        let other = try ProjectConfig(json: try Self.datafile { $0.setting("region", .string("APAC")) })
        #expect(other.region == .us)
    }

    @Test func missingLayerIdFallsBackToTheExperimentIdAsCampaign() throws {
        let json = try Self.datafile { Self.replacing($0, at: [.key("experiments"), .index(0), .key("layerId")], with: .string("")) }
        let factory = UserEventFactory(config: try ProjectConfig(json: json))
        let event = try factory.makeImpression(experimentKey: "checkout_button_test", variationKey: "control", userId: "u")
        guard case .impression(let impression) = event.payload else { Issue.record("not an impression"); return }
        #expect(impression.campaignId == "10420810910")
    }

    @Test func groupExperimentsAreExperiments() throws {
        let group = try JSONValue.parse(#"""
            [{"id": "g1", "policy": "random", "trafficAllocation": [{"entityId": "555", "endOfRange": 10000}],
              "experiments": [{"id": "555", "key": "grouped", "layerId": "556", "status": "Running", "audienceIds": [],
                               "forcedVariations": {}, "trafficAllocation": [{"entityId": "557", "endOfRange": 10000}],
                               "variations": [{"id": "557", "key": "v"}]}]}]
            """#)
        let config = try ProjectConfig(json: try Self.datafile { $0.setting("groups", group) })
        #expect(config.experiment(key: "grouped")?.variation(key: "v")?.id == "557")
        #expect(config.experiment(key: "grouped")?.groupId == "g1")
    }
}
