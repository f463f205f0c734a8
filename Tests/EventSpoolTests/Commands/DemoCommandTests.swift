import Foundation
import Testing
@testable import EventSpool

/// `eventspool demo`, run as the built binary.
@Suite("eventspool demo")
struct DemoCommandTests {
    let folder = TemporaryFolder()

    /// The number after `label` in the demo's summary (its last lines).
    func figure(_ label: String, in output: String) -> Int? {
        guard let line = output.split(separator: "\n").last(where: { $0.contains(label) }),
              let range = line.range(of: label) else { return nil }
        let rest = line[range.upperBound...]
        return Int(String(rest.drop { $0 == " " }.prefix { $0.isNumber }))
    }

    @Test func demoDeliversEverythingAndItsSummaryAgreesWithStats() async throws {
        let db = folder.file("demo.sqlite")
        let result = try await ChildProcess("eventspool", ["demo", "--events", "500", "--db", db, "--rate", "0"]).finish()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("progress: "), "plain progress lines when not on a terminal")
        #expect(result.stdout.contains("sqlite3 \(db) 'SELECT * FROM queue_summary'"))

        let stats = try await ChildProcess("eventspool", ["stats", "--db", db, "--json"]).finish()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any])
        #expect(object["pending"] as? Int == 0 && object["inflight"] as? Int == 0)
        #expect(object["sent"] as? Int == 500)
        #expect(figure("events queued this run", in: result.stdout) == 500)
        #expect(figure("delivered this run", in: result.stdout) == object["sent"] as? Int)
        #expect(result.stdout.contains("in \(object["batches_sent"] as? Int ?? -1) batches"))
        #expect(figure("retries", in: result.stdout) == object["retries"] as? Int)
        #expect(figure("dead letters", in: result.stdout) == object["dead"] as? Int)
        #expect((object["retries"] as? Int ?? 0) > 0, "the injected faults were retried")

        // The whole SDK: a client from an SDK key, a new revision mid-run whose arrival sent the
        // old revision's pending events at once, and a few decisions on each revision.
        #expect(result.stdout.contains("datafile revision 242 arrived"))
        #expect(result.stdout.contains("revisions 241 → 242"))
        let triggers = try #require(result.stdout.firstMatch(of: /size (\d+), age (\d+), revision (\d+) \((\d+) events of revision 241/))
        #expect(Int(triggers.output.3) ?? 0 >= 1 && Int(triggers.output.4) ?? 0 >= 1, "\(triggers.output.0)")
        #expect((Int(triggers.output.1) ?? 0) + (Int(triggers.output.2) ?? 0) + (Int(triggers.output.3) ?? 0) <= object["batches_sent"] as? Int ?? 0)
        #expect(result.stdout.contains("  revision 241\n    visitor-1 (firefox, logged in): dark_mode off"))
        #expect(result.stdout.contains("  revision 242\n    visitor-1 (firefox, logged in): dark_mode on"))
        let calls = try #require(result.stdout.firstMatch(of: /\((\d+) impressions from decide and activate, (\d+) conversions from track\)/))
        #expect((Int(calls.output.1) ?? 0) + (Int(calls.output.2) ?? 0) == 500)
    }

    @Test func badArgumentsAreOneLineErrors() async throws {
        let cases: [[String]] = [
            ["demo", "--events", "0", "--db", folder.file("a.sqlite")],
            ["demo", "--fail", "503x", "--db", folder.file("b.sqlite")],
            ["demo", "--datafile-fail", "413", "--db", folder.file("c.sqlite")],
            ["demo", "--db", folder.path],
        ]
        for arguments in cases {
            let result = try await ChildProcess("eventspool", arguments).finish()
            #expect(result.status != 0, "\(arguments)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains("Fatal error"))
        }
    }
}
