import Testing
@testable import EventSpool

/// Every user event of every conformance scenario, rebuilt with EventSpool, against what the
/// official Python SDK 5.7.0 sent.
@Suite struct ConformanceTests {
    /// One user event a scenario step made (or asked for), with what the reference did.
    struct Case: CustomStringConvertible {
        var scenario: String
        var step: Int
        var op: String
        var input: JSONValue
        var config: ProjectConfig
        /// From the expected file: the user event the reference created (nil: none).
        var userEvent: JSONValue?
        /// The reference's LogEvent for it (nil when it made none).
        var logEvent: JSONValue?
        var result: JSONValue?
        var description: String { "\(scenario) step \(step) (\(op))" }
    }

    static func cases() throws -> [Case] {
        var cases: [Case] = []
        let base = try ConformanceFixtures.datafileJSON
        for name in ConformanceFixtures.scenarioNames {
            let input = try ConformanceFixtures.json("scenarios/\(name).json")
            let expected = try ConformanceFixtures.json("scenarios/\(name).expected.json")
            var scenarioDatafile = base
            for member in input["datafile_overrides"]?.objectMembers ?? [] {
                scenarioDatafile = scenarioDatafile.setting(member.key, member.value == .null ? nil : member.value)
            }
            let steps = input["steps"]?.arrayValue ?? []
            let expectedSteps = expected["steps"]?.arrayValue ?? []
            let logEvents = expected["log_events"]?.arrayValue ?? []
            for (index, step) in steps.enumerated() {
                let op = step["op"]?.stringValue ?? ""
                guard ["impression", "conversion", "decide", "track", "activate"].contains(op) else { continue }
                var datafile = scenarioDatafile
                if let variant = step["config"]?.stringValue {
                    for member in input["configs"]?[variant]?.objectMembers ?? [] {
                        datafile = datafile.setting(member.key, member.value == .null ? nil : member.value)
                    }
                }
                let config = try ProjectConfig(json: datafile)
                let expectedStep = expectedSteps.first { $0["step"]?.intValue == Int64(index) }
                let userEvents = expectedStep?["user_events"]?.arrayValue ?? []
                if userEvents.isEmpty {
                    cases.append(Case(scenario: name, step: index, op: op, input: step, config: config,
                                      userEvent: nil, logEvent: nil, result: expectedStep?["result"]))
                }
                for userEvent in userEvents {
                    let uuid = userEvent["uuid"]
                    let logEvent = logEvents.first { $0["uuid"] == uuid }?["log_event"]
                    cases.append(Case(scenario: name, step: index, op: op, input: step, config: config,
                                      userEvent: userEvent, logEvent: logEvent == .null ? nil : logEvent,
                                      result: expectedStep?["result"]))
                }
            }
        }
        return cases
    }

    /// Builds the event a case describes, as a caller of EventSpool would.
    static func makeEvent(_ testCase: Case, logger: Logging.Logger = UserEventFactory.silentLogger) throws(UserEventError) -> UserEvent {
        let factory = UserEventFactory(config: testCase.config, logger: logger)
        let step = testCase.input
        let uuid = testCase.userEvent?["uuid"]?.stringValue ?? "00000000-0000-4000-8000-00000000ffff"
        let timestamp = testCase.userEvent?["timestamp"]?.intValue ?? 1_700_000_000_000
        let userId = step["user_id"]?.stringValue ?? ""
        let attributes = callerDictionary(step["attributes"]) ?? [:]
        switch testCase.op {
        case "impression":
            let useDefault = step["use_default_experiment"]?.boolValue ?? false
            return try factory.makeImpression(
                experimentKey: useDefault ? nil : step["experiment_key"]?.stringValue,
                variationKey: step["variation_key"]?.stringValue,
                variationId: step["variation_id"]?.stringValue,
                flagKey: step["flag_key"]?.stringValue ?? "",
                ruleKey: step["rule_key"]?.stringValue,
                ruleType: RuleType(rawValue: step["rule_type"]?.stringValue ?? "experiment") ?? .experiment,
                enabled: step["enabled"]?.boolValue ?? true,
                userId: userId, attributes: attributes,
                cmabUUID: step["cmab_uuid"]?.stringValue,
                uuid: uuid, timestampMillis: timestamp)
        case "conversion", "track":
            return try factory.makeConversion(
                eventKey: step["event_key"]?.stringValue ?? "", userId: userId, attributes: attributes,
                tags: callerDictionary(step["tags"]), uuid: uuid, timestampMillis: timestamp)
        case "decide":
            // The decision the reference's client made: its rule is an A/B test of the flag
            // (feature-test) or a rule of the flag's rollout.
            let flagKey = testCase.result?["flag_key"]?.stringValue ?? ""
            let ruleKey = testCase.result?["rule_key"]?.stringValue ?? ""
            let experiment = testCase.config.experiment(key: ruleKey)
            let isTest = testCase.config.featureFlag(key: flagKey)?.experimentIds.contains(experiment?.id ?? "-") ?? false
            // The decision's variation is its rule's own: name it by id, as the client does,
            // since rules of one flag may share a variation key.
            let variation = testCase.result?["variation_key"]?.stringValue.flatMap { experiment?.variation(key: $0) }
            return try factory.makeImpression(
                experimentKey: ruleKey, variationId: variation?.id,
                flagKey: flagKey, ruleKey: ruleKey, ruleType: isTest ? .featureTest : .rollout,
                enabled: testCase.result?["enabled"]?.boolValue ?? false,
                userId: userId, attributes: attributes, uuid: uuid, timestampMillis: timestamp)
        case "activate":
            let experimentKey = step["experiment_key"]?.stringValue ?? ""
            return try factory.makeImpression(
                experimentKey: experimentKey, variationKey: testCase.result?["variation_key"]?.stringValue,
                flagKey: "", ruleKey: experimentKey, ruleType: .experiment, enabled: true,
                userId: userId, attributes: attributes, uuid: uuid, timestampMillis: timestamp)
        default:
            throw .unknownEventKey("unsupported op \(testCase.op)")
        }
    }

    static func casesWithLogEvents() throws -> [Case] {
        try cases().filter { $0.logEvent != nil && !holdsNonFinite($0.input["tags"] ?? .null) }
    }

    @Test(arguments: try casesWithLogEvents())
    func visitorAndHeaderMatchTheReference(_ testCase: Case) throws {
        let event = try Self.makeEvent(testCase)
        let expected = try #require(testCase.logEvent)
        let logEvent = EventSpool.LogEvent.batch(context: event.context, visitors: [event.serialized().visitorJSON])
        let ours = try bodyJSON(logEvent)
        let theirs = try #require(expected["params"])
        let clientFields: Set<String> = ["client_name", "client_version", "visitors"]
        #expect(equivalent(ours.removing(clientFields), theirs.removing(clientFields)), "header of \(testCase)")
        let ourVisitors = try #require(ours["visitors"]?.arrayValue)
        let theirVisitors = try #require(theirs["visitors"]?.arrayValue)
        #expect(ourVisitors.count == 1 && theirVisitors.count == 1)
        #expect(equivalent(ourVisitors[0], theirVisitors[0]), "visitor of \(testCase)")
        #expect(logEvent.url == expected["url"]?.stringValue)
        #expect(logEvent.httpVerb == expected["http_verb"]?.stringValue)
        #expect(logEvent.headers == ["Content-Type": "application/json"])
    }

    @Test(arguments: try casesWithLogEvents())
    func bodyBytesEqualTheReferenceApartFromTheClient(_ testCase: Case) throws {
        let event = try Self.makeEvent(testCase)
        let expected = try #require(testCase.logEvent?["body"]?.stringValue)
        let ours = EventSpool.LogEvent.batch(context: event.context, visitors: [event.serialized().visitorJSON]).bodyText
        let theirs = expected.replacingOccurrences(
            of: #""client_name": "python-sdk", "client_version": "5.7.0""#,
            with: #""client_name": "\#(EventContext.defaultClientName)", "client_version": "\#(EventContext.defaultClientVersion)""#)
        #expect(ours == theirs)
    }

    /// Where the reference made no event (unknown event key), EventSpool throws a typed error.
    @Test(arguments: try cases().filter { $0.logEvent == nil && ["conversion", "track", "impression"].contains($0.op) })
    func noReferenceEventIsATypedError(_ testCase: Case) throws {
        #expect(throws: UserEventError.unknownEventKey(testCase.input["event_key"]?.stringValue ?? "")) {
            try Self.makeEvent(testCase)
        }
    }

    @Test func everyScenarioStepWithAnEventIsCovered() throws {
        let all = try Self.cases()
        // 4 + 14 + 7 + 8 + 12 + 2 user events, one decide without an event, one track without.
        #expect(all.filter { $0.userEvent != nil }.count == 47)
        #expect(all.filter { $0.logEvent == nil }.count == 3)
    }

    /// Spec §3's deliberate difference: a non-finite number in tags is dropped from the tags
    /// (and logged) instead of reaching the wire as a bare NaN/Infinity token; the rest of the
    /// event equals the reference's.
    @Test(arguments: try cases().filter { $0.logEvent != nil && holdsNonFinite($0.input["tags"] ?? .null) })
    func nonFiniteTagsAreDroppedAndLogged(_ testCase: Case) throws {
        let logs = LogCapture()
        let event = try Self.makeEvent(testCase, logger: logs.logger)
        let logEvent = EventSpool.LogEvent.batch(context: event.context, visitors: [event.serialized().visitorJSON])
        #expect(!logEvent.bodyText.contains("NaN") && !logEvent.bodyText.contains("Infinity"))
        let ours = try bodyJSON(logEvent)  // parses: valid JSON
        let theirs = try #require(testCase.logEvent?["params"])
        let theirVisitor = try #require(theirs["visitors"]?.arrayValue?.first)
        #expect(equivalent(try #require(ours["visitors"]?.arrayValue?.first), droppingNonFinite(theirVisitor)))
        let dropped = (testCase.input["tags"]?.objectMembers ?? []).filter { isNonFiniteWrapper($0.value) }.map(\.key)
        #expect(!dropped.isEmpty)
        let logged = logs.entries.filter { $0.level == .warning }.map { $0.metadata["tag"]?.description ?? "" }
        #expect(logged == dropped.map { "tags.\($0)" })
    }
}

import Logging
