import Testing
@testable import EventSpool

/// `enqueue` builds the official SDK's events from their ids: every event of the decision
/// fixtures, written as an `enqueue` line (experiment key, variation id, flag, rule, attributes,
/// tags, uuid and timestamp taken from the expected request), comes out byte for byte as the SDK
/// sent it. The variation id is looked up among the flag's variations only when there is a flag
/// key, as the reference does (cli.md).
@Suite(.serialized) struct EnqueueReproductionTests {
    @Test(arguments: DecisionFixtures.names)
    func everyFixtureEventIsRebuiltFromItsIds(_ name: String) async throws {
        // CPU work on a thread of its own, so the asynchronous tests beside it are not kept waiting.
        let (rebuilt, problems) = try await offThread { try Self.rebuild(name) }
        #expect(rebuilt > 0)
        #expect(problems.isEmpty, "\(problems.prefix(3).joined(separator: "\n"))")
    }

    /// Rebuilds the fixture's events; returns how many, and what differed.
    static func rebuild(_ name: String) throws -> (Int, [String]) {
        let fixture = try DecisionFixtures.load(name)
        let config = try ProjectConfig(datafile: fixture.datafile)
        let decoder = EventLineDecoder(factory: UserEventFactory(config: config, clientName: "python-sdk", clientVersion: "5.7.0"))
        var rebuilt = 0
        var problems: [String] = []
        for expected in fixture.expected {
            for event in expected["events"]?.arrayValue ?? [] {
                guard let params = event["log_event"]?["params"], let visitor = params["visitors"]?.arrayValue?.first else {
                    problems.append("\(name): an expected event without params")
                    continue
                }
                // A flag-level forced decision has no experiment and rule type feature-test,
                // which an enqueue line cannot say (cli.md): such an event is left out.
                guard let line = enqueueLine(visitor: visitor, config: config) else { continue }
                let built = try decoder.decode(line.jsonText)
                guard let logEvent = LogEvent.batch([built.serialized()]), sameJSON(try JSONValue.parse(logEvent.body), params) else {
                    problems.append("\(name): \(line.jsonText)")
                    continue
                }
                rebuilt += 1
            }
        }
        return (rebuilt, problems)
    }

    /// The `enqueue` line of one expected visitor; `nil` for an impression without experiment
    /// whose rule type is not `rollout`.
    static func enqueueLine(visitor: JSONValue, config: ProjectConfig) -> JSONValue? {
        guard let snapshot = visitor["snapshots"]?.arrayValue?.first, let event = snapshot["events"]?.arrayValue?.first else { return nil }
        let attributes: [JSONValue.Member] = (visitor["attributes"]?.arrayValue ?? []).compactMap { attribute in
            guard let key = attribute["key"]?.stringValue, key != VisitorAttribute.botFilteringKey, let value = attribute["value"] else { return nil }
            return .init(key: key, value: value)
        }
        var members: [JSONValue.Member] = [
            .init(key: "user_id", value: visitor["visitor_id"] ?? .null),
            .init(key: "attributes", value: .object(attributes)),
            .init(key: "uuid", value: event["uuid"] ?? .null),
            .init(key: "timestamp", value: event["timestamp"] ?? .null),
        ]
        if let decision = snapshot["decisions"]?.arrayValue?.first, let metadata = decision["metadata"] {
            let experimentId = decision["experiment_id"]?.stringValue ?? ""
            let experimentKey: JSONValue = experimentId.isEmpty ? .null : config.experiment(id: experimentId).map { .string($0.key) } ?? .null
            if experimentKey == .null && metadata["rule_type"] != .string("rollout") { return nil }
            members += [
                .init(key: "op", value: .string("impression")),
                .init(key: "experiment_key", value: experimentKey),
                .init(key: "variation_id", value: decision["variation_id"] ?? .null),
                .init(key: "flag_key", value: metadata["flag_key"] ?? .null),
                .init(key: "rule_key", value: metadata["rule_key"] ?? .null),
                .init(key: "rule_type", value: metadata["rule_type"] ?? .null),
                .init(key: "enabled", value: metadata["enabled"] ?? .null),
            ]
        } else {
            members += [
                .init(key: "op", value: .string("conversion")),
                .init(key: "event_key", value: event["key"] ?? .null),
                .init(key: "tags", value: event["tags"] ?? .null),
            ]
        }
        return .object(members)
    }
}
