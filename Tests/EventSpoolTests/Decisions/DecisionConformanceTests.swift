import Foundation
import Testing
@testable import EventSpool

/// The official SDK's decisions, events and notifications on the seven decision fixtures (911
/// calls), reproduced through the library: each call runs on one client for the whole file.
@Suite("Decision conformance (library)", .serialized)
struct DecisionConformanceTests {
    @Test(arguments: DecisionFixtures.names)
    func everyCallMatchesTheReference(_ name: String) async throws {
        try await expectAllMatch(try DecisionFixtures.load(name))
    }

    @Test(arguments: DecisionFixtures.checklistNames)
    func everyChecklistCallMatchesTheReference(_ name: String) async throws {
        try await expectAllMatch(try DecisionFixtures.load(name, from: DecisionFixtures.checklistDirectory))
    }

    /// Runs the fixture's calls on a thread of its own (they are CPU work the asynchronous
    /// tests beside them should not wait for) and expects every one to match.
    private func expectAllMatch(_ fixture: DecisionFixtures.Fixture) async throws {
        #expect(fixture.calls.count == fixture.expected.count)
        let problems = try await offThread { try Self.differences(fixture) }
        #expect(problems.isEmpty, "\(fixture.name): \(problems.count) of \(fixture.calls.count) calls differ:\n\(problems.prefix(3).joined(separator: "\n"))")
    }

    /// What differs, call by call, between the library's run of the fixture and the reference's.
    static func differences(_ fixture: DecisionFixtures.Fixture) throws -> [String] {
        let profiles = try fixture.userProfiles.map { InMemoryUserProfileService(profiles: try UserProfile.profiles(fromJSON: EventValue($0))) }
        let session = ClientCallSession(config: try ProjectConfig(datafile: fixture.datafile), userProfileService: profiles,
                                        clientName: "python-sdk", clientVersion: "5.7.0")
        var eventCount = 0
        var problems: [String] = []
        for (index, (call, expected)) in zip(fixture.calls, fixture.expected).enumerated() {
            let outcome = session.run(try ClientCall(json: EventValue(call)))
            var found: [String] = []
            // The events' kinds straight from the library, besides their JSON below.
            let kinds = (expected["events"]?.arrayValue ?? []).map { $0["kind"]?.stringValue }
            if outcome.events.map(\.kind.rawValue) != kinds { found.append("kinds \(outcome.events.map(\.kind.rawValue))") }
            let line = try JSONValue.parse(outcome.jsonLine(call: index))
            if line["call"] != .int(Int64(index)) { found.append("call number") }
            found += DecisionFixtures.differences(ours: line, expected: expected, eventCount: &eventCount)
            if !found.isEmpty { problems.append("call \(index) \(call.jsonText):\n\(found.joined(separator: "\n"))") }
        }
        return problems
    }

    @Test func theFixturesHoldNineHundredElevenCalls() throws {
        let counts = try DecisionFixtures.names.map { try DecisionFixtures.load($0).calls.count }
        #expect(counts.reduce(0, +) == 911)
    }

    @Test func eventsOfTheClientAreFreshAndDistinct() throws {
        let fixture = try DecisionFixtures.load("generated1")
        let session = ClientCallSession(config: try ProjectConfig(datafile: fixture.datafile))
        let events = try fixture.calls.flatMap { session.run(try ClientCall(json: EventValue($0))).events }
        #expect(events.count > 100)
        #expect(Set(events.map(\.uuid)).count == events.count)
        #expect(events.allSatisfy { $0.uuid.count == 36 && $0.timestampMillis > 1_700_000_000_000 })
    }
}
