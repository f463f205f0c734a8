import EventSpoolCollector
import Foundation
import Testing
@testable import EventSpool

/// A loopback collector serving a project's datafile by SDK key, the polling settings that point
/// at it, and a virtual clock that polling sleeps on: time is the test's to move, and only the
/// requests are real I/O.
struct DatafileRig {
    static let sdkKey = "RigSdkKey"
    static let token = "rig-access-token"

    let collector: Collector
    let clock = ManualEventClock()
    var settings: DatafilePollingSettings

    /// The conformance datafile (project 10431130345, revision 241), with another revision and
    /// `new_nav`'s `nav_color` default set to `color` when asked.
    static func datafile(revision: String = "241", navColor: String = "grey") throws -> String {
        let text = String(decoding: try ConformanceFixtures.data("datafile.json"), as: UTF8.self)
        return text
            .replacingOccurrences(of: #""revision": "241""#, with: #""revision": "\#(revision)""#)
            .replacingOccurrences(of: #""defaultValue": "grey""#, with: #""defaultValue": "\#(navColor)""#)
    }

    /// A collector serving revision 241 (with the access token when `authenticated`), and
    /// settings polling it every 60 s without retries unless changed.
    static func start(authenticated: Bool = false, serving: Bool = true, plan: DatafileFaultPlan = .alwaysServe) async throws -> DatafileRig {
        let collector = try await Collector.start(datafilePlan: plan)
        if serving { await collector.setDatafile(try datafile(), sdkKey: sdkKey, accessToken: authenticated ? token : nil) }
        var settings = DatafilePollingSettings(
            sdkKey: sdkKey, accessToken: authenticated ? token : nil,
            urlTemplate: collector.datafileURLTemplate(authenticated: authenticated)
        )
        settings.pollingInterval = 60
        settings.maxRetries = 0
        return DatafileRig(collector: collector, settings: settings)
    }

    var resolved: DatafilePollingSettings.Resolved {
        get throws { try settings.resolved() }
    }

    /// Returns once polling sleeps again on the virtual clock for a time still to come: the
    /// requests due by now were sent and answered (real I/O, generously bounded).
    func settle() async -> Bool {
        await CollectorFixtures.eventually(within: 30) {
            let sleepers = clock.sleepers
            return !sleepers.isEmpty && sleepers.allSatisfy { $0 > clock.nowMillis() }
        }
    }

    /// Moves virtual time on by `millis` and waits for polling to settle.
    func advance(byMillis millis: Int64) async -> Bool {
        clock.advance(byMillis: millis)
        return await settle()
    }

    /// The datafile requests answered so far.
    var requests: [ReceivedDatafileRequest] {
        get async { await collector.datafileRequests }
    }
}

/// The configs a poller handed over, in order.
final class ConfigChanges: Sendable {
    private let seen = LockedValue<[(config: ProjectConfig, previous: DatafileIdentity?)]>([])

    var revisions: [String] { seen.withLock { $0.map(\.config.revision) } }
    var previous: [DatafileIdentity?] { seen.withLock { $0.map(\.previous) } }

    func record(_ config: ProjectConfig, _ previous: DatafileIdentity?) {
        seen.withLock { $0.append((config, previous)) }
    }
}
