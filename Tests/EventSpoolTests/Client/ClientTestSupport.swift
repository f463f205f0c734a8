import Foundation
@testable import EventSpool

/// A client on one of the test datafiles, with its events and notifications recorded.
struct ClientRig {
    let client: OptimizelyClient
    let recorder: RecordingEventProcessor
    let notifications: ClientNotificationLog

    /// A client on the checklist datafile (decisions.md §21), or its `sendFlagDecisions: false` twin.
    static func checklist(quiet: Bool = false, profiles: (any UserProfileService)? = nil,
                          defaultOptions: [OptimizelyDecideOption] = []) throws -> ClientRig {
        let name = quiet ? "checklist-quiet.datafile.json" : "checklist.datafile.json"
        let text = try String(contentsOf: DecisionFixtures.checklistDirectory.appendingPathComponent(name), encoding: .utf8)
        return try ClientRig(datafile: text, profiles: profiles, defaultOptions: defaultOptions)
    }

    /// A client on the example datafile of the decision fixtures.
    static func example(profiles: (any UserProfileService)? = nil) throws -> ClientRig {
        let text = try String(contentsOf: DecisionFixtures.directory.appendingPathComponent("example.datafile.json"), encoding: .utf8)
        return try ClientRig(datafile: text, profiles: profiles)
    }

    init(datafile: String, profiles: (any UserProfileService)? = nil, defaultOptions: [OptimizelyDecideOption] = []) throws {
        recorder = RecordingEventProcessor()
        notifications = ClientNotificationLog()
        client = try OptimizelyClient(datafile: datafile, eventProcessor: recorder, userProfileService: profiles,
                                      defaultDecideOptions: defaultOptions)
        notifications.listen(to: client.notificationCenter)
    }

    /// The impressions since the last call, as their wire impressions.
    func takeImpressions() -> [Impression] {
        recorder.takeEvents().compactMap { event in
            if case .impression(let impression) = event.payload { return impression }
            return nil
        }
    }
}

/// Every DECISION, ACTIVATE and TRACK notification posted, in order.
final class ClientNotificationLog: Sendable {
    private let posted = LockedValue<[ProcessorNotification]>([])

    func listen(to center: EventNotificationCenter) {
        for type in [NotificationType.decision, .activate, .track] {
            center.addListener(for: type) { [posted] notification in posted.withLock { $0.append(notification) } }
        }
    }

    /// The notifications since the last call; the log is empty afterwards.
    func take() -> [ProcessorNotification] {
        posted.withLock { posted in
            defer { posted.removeAll() }
            return posted
        }
    }

    /// The DECISION notifications since the last call (the others are dropped).
    func takeDecisions() -> [DecisionNotification] {
        take().compactMap { if case .decision(let decision) = $0 { decision } else { nil } }
    }
}
