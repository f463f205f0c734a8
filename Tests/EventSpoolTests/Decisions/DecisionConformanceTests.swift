import Foundation
import Testing
@testable import EventSpool

/// The official SDK's decisions, events and notifications on the seven decision fixtures (911
/// calls), reproduced through the library: each call runs on one client for the whole file.
@Suite("Decision conformance (library)")
struct DecisionConformanceTests {
    @Test(arguments: DecisionFixtures.names)
    func everyCallMatchesTheReference(_ name: String) throws {
        try runAndCompare(try DecisionFixtures.load(name))
    }

    @Test(arguments: DecisionFixtures.checklistNames)
    func everyChecklistCallMatchesTheReference(_ name: String) throws {
        try runAndCompare(try DecisionFixtures.load(name, from: DecisionFixtures.checklistDirectory))
    }

    private func runAndCompare(_ fixture: DecisionFixtures.Fixture) throws {
        let name = fixture.name
        let profiles = try fixture.userProfiles.map { InMemoryUserProfileService(profiles: try UserProfile.profiles(fromJSON: EventValue($0))) }
        let session = ClientCallSession(config: try ProjectConfig(datafile: fixture.datafile), userProfileService: profiles,
                                        clientName: "python-sdk", clientVersion: "5.7.0")
        #expect(fixture.calls.count == fixture.expected.count)
        var eventCount = 0
        var matched = 0
        for (index, (call, expected)) in zip(fixture.calls, fixture.expected).enumerated() {
            let outcome = session.run(try ClientCall(json: EventValue(call)))
            // The events' kinds straight from the library, besides their JSON below.
            let kinds = (expected["events"]?.arrayValue ?? []).map { $0["kind"]?.stringValue }
            #expect(outcome.events.map(\.kind.rawValue) == kinds, "\(name) call \(index): kinds")
            let line = try JSONValue.parse(outcome.jsonLine(call: index))
            #expect(line["call"] == .int(Int64(index)))
            let problems = DecisionFixtures.differences(ours: line, expected: expected, eventCount: &eventCount)
            #expect(problems.isEmpty, "\(name) call \(index) \(call.jsonText):\n\(problems.joined(separator: "\n"))")
            if problems.isEmpty { matched += 1 }
        }
        #expect(matched == fixture.calls.count, "\(name): \(matched) of \(fixture.calls.count) calls match")
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
