import EventSpoolCollector
import EventSpoolServiceLifecycle
import Foundation
import ServiceLifecycle
import Testing
@testable import EventSpool

/// The client's life from an SDK key: start, live revisions end to end, close; against the
/// collector's datafile and events routes over loopback, polling in virtual time.
@Suite("Client lifecycle and live datafile updates")
struct ClientLifecycleTests {
    let folder = TemporaryFolder()

    /// A durable processor sending to the rig's collector, with a flush interval of an hour and
    /// batches of 100, so only a flush (or a stop) sends anything in these tests.
    func processor(_ rig: DatafileRig, center: EventNotificationCenter = EventNotificationCenter(),
                   startOnInit: Bool = false) throws -> BatchEventProcessor {
        var configuration = ProcessorConfiguration()
        configuration.batchSize = 100
        configuration.flushInterval = 3_600
        configuration.startOnInit = startOnInit
        var dispatch = HTTPEventDispatcher.Configuration()
        dispatch.endpoint = rig.collector.url.absoluteString
        return try BatchEventProcessor(
            queuePath: folder.file("events-\(UUID().uuidString).sqlite"), configuration: configuration,
            dispatcher: try HTTPEventDispatcher(configuration: dispatch), notificationCenter: center
        )
    }

    /// Every configUpdate posted on `center`, in order.
    func configUpdates(on center: EventNotificationCenter) -> LockedValue<[String]> {
        let updates = LockedValue<[String]>([])
        center.addListener(for: .configUpdate) { notification in
            if case .configUpdate(let revision) = notification { updates.withLock { $0.append(revision) } }
        }
        return updates
    }

    @Test func aNewRevisionSendsTheOldRevisionsPendingEventsAtOnceAndDecisionsUseIt() async throws {
        let rig = try await DatafileRig.start()
        let processor = try processor(rig)
        let updates = configUpdates(on: processor.notificationCenter)
        let client = try OptimizelyClient(source: .polling(rig.settings), eventProcessor: processor, clock: rig.clock)
        #expect(await client.start())
        #expect(await rig.settle())
        #expect(client.config?.revision == "241")
        #expect(updates.withLock { $0 } == ["241"], "the first datafile is a config update too")

        let user = client.createUserContext(userId: "visitor-1")
        #expect(user.decide(key: "new_nav").variables["nav_color"] == .string("grey"))
        for index in 0..<5 { user.trackEvent(eventKey: "purchase", eventTags: ["revenue": .int(Int64(index))]) }
        await processor.worker.idle()
        #expect(await rig.collector.requests.isEmpty, "an hour's flush interval: nothing goes by age")
        #expect(try processor.queue.stats().pending == 6)

        await rig.collector.setDatafile(try DatafileRig.datafile(revision: "242", navColor: "green"), sdkKey: DatafileRig.sdkKey)
        #expect(await rig.advance(byMillis: 60_000))
        #expect(updates.withLock { $0 } == ["241", "242"])
        #expect(await CollectorFixtures.eventually(within: 30) { await rig.collector.acceptedUUIDs.count == 6 },
                "the old revision's pending events went at once")
        #expect(await rig.collector.requests.compactMap(\.batch?.revision) == ["241"])

        #expect(client.config?.revision == "242")
        #expect(user.decide(key: "new_nav").variables["nav_color"] == .string("green"), "the next call decides on the new revision")
        await processor.worker.idle()
        #expect(try processor.queue.stats().pending == 1, "the new revision's impression waits for its own trigger")

        // The same revision again, newer Last-Modified: no notification, no flush.
        await rig.collector.setDatafile(try DatafileRig.datafile(revision: "242", navColor: "green"), sdkKey: DatafileRig.sdkKey)
        #expect(await rig.advance(byMillis: 60_000))
        #expect(updates.withLock { $0 } == ["241", "242"])
        await processor.worker.idle()
        #expect(try processor.queue.stats().pending == 1)

        await client.close()
        #expect(await rig.collector.acceptedUUIDs.count == 7, "close stops the processor, which sends what is pending")
        try await rig.collector.shutdown()
    }

    @Test func aProcessorWithACenterOfItsOwnIsToldThroughConfigDidChange() async throws {
        let rig = try await DatafileRig.start()
        let processor = try processor(rig)
        let clientCenter = EventNotificationCenter()
        let clientUpdates = configUpdates(on: clientCenter)
        let client = try OptimizelyClient(source: .polling(rig.settings), eventProcessor: processor, clock: rig.clock,
                                          notificationCenter: clientCenter)
        #expect(await client.start())
        #expect(await rig.settle())
        client.createUserContext(userId: "visitor-2").trackEvent(eventKey: "signup")
        await rig.collector.setDatafile(try DatafileRig.datafile(revision: "243"), sdkKey: DatafileRig.sdkKey)
        #expect(await rig.advance(byMillis: 60_000))
        #expect(clientUpdates.withLock { $0 } == ["241", "243"])
        #expect(await CollectorFixtures.eventually(within: 30) { await rig.collector.acceptedUUIDs.count == 1 })
        await client.close()
        try await rig.collector.shutdown()
    }

    @Test func aBundledDatafileServesAtOnceAndAnUnreachableServerLeavesItInUse() async throws {
        var rig = try await DatafileRig.start()
        try await rig.collector.shutdown()
        rig.settings.maxRetries = 3
        let log = LogCapture()
        let recorder = RecordingEventProcessor()
        let client = try OptimizelyClient(source: .polling(rig.settings, datafile: try DatafileRig.datafile()),
                                          eventProcessor: recorder, clock: rig.clock, logger: log.logger)
        #expect(client.config?.revision == "241", "usable before start")
        #expect(await client.start(), "ready at once with the bundled datafile")
        for _ in 0..<4 { #expect(await rig.advance(byMillis: 4_000)) }
        #expect(client.config?.revision == "241")
        #expect(client.createUserContext(userId: "u").trackEvent(eventKey: "purchase"))
        #expect(recorder.takeEvents().count == 1)
        #expect(log.entries.contains { $0.level == .warning && $0.message.contains("keeping the last good datafile") })
        await client.close()
    }

    @Test func aBrokenDatafileLeavesTheClientDecidingOnTheLastGoodOne() async throws {
        let rig = try await DatafileRig.start()
        let log = LogCapture()
        let processor = try processor(rig)
        let updates = configUpdates(on: processor.notificationCenter)
        let client = try OptimizelyClient(source: .polling(rig.settings), eventProcessor: processor, clock: rig.clock, logger: log.logger)
        #expect(await client.start())
        #expect(await rig.settle())
        // A cut-off body, then a JSON body that is no datafile, each with a newer Last-Modified.
        await rig.collector.setDatafilePlan(try DatafileFaultPlan(parsing: "invalid"))
        #expect(await rig.advance(byMillis: 60_000))
        await rig.collector.setDatafilePlan(.alwaysServe)
        await rig.collector.setDatafile(#"{"version": "4", "revision": "999"}"#, sdkKey: DatafileRig.sdkKey)
        #expect(await rig.advance(byMillis: 60_000))
        #expect(await rig.requests.map(\.status) == [200, 200, 200])
        #expect(client.config?.revision == "241")
        #expect(updates.withLock { $0 } == ["241"], "no config update for a broken datafile")
        let user = client.createUserContext(userId: "visitor-1")
        #expect(user.decide(key: "new_nav").variables["nav_color"] == .string("grey"), "decisions go on with the last good datafile")
        #expect(user.trackEvent(eventKey: "purchase"))
        #expect(log.entries.filter { $0.level == .warning && $0.message.contains("is not valid") }.count == 2)
        await client.close()
        #expect(await rig.collector.acceptedUUIDs.count == 2, "its events were sent on close")
        try await rig.collector.shutdown()
    }

    @Test func beforeAnyDatafileEveryCallReturnsTheNoConfigFailureValue() async throws {
        let rig = try await DatafileRig.start(serving: false)  // 404 for the key
        let log = LogCapture()
        let recorder = RecordingEventProcessor()
        let client = try OptimizelyClient(source: .polling(rig.settings), eventProcessor: recorder, clock: rig.clock, logger: log.logger)
        #expect(await client.start() == false, "the first poll ended without a datafile")
        #expect(client.config == nil)

        var user = client.createUserContext(userId: "alice", attributes: ["browser": "chrome"])
        let decision = user.decide(key: "new_nav", options: [])
        #expect(decision.variationKey == nil && !decision.enabled && decision.ruleKey == nil && decision.variables == [:])
        #expect(decision.reasons == ["Optimizely SDK not configured properly yet."])
        #expect(user.decideAll().isEmpty && user.decide(keys: ["new_nav"]).isEmpty)
        #expect(!user.trackEvent(eventKey: "purchase"))
        #expect(client.activate(experimentKey: "checkout_button_test", userId: "alice") == nil)
        #expect(client.getVariation(experimentKey: "checkout_button_test", userId: "alice") == nil)
        #expect(!client.isFeatureEnabled(featureKey: "new_nav", userId: "alice"))
        #expect(client.getEnabledFeatures(userId: "alice").isEmpty)
        #expect(client.getFeatureVariableString(featureKey: "new_nav", variableKey: "nav_color", userId: "alice") == nil)
        #expect(client.getAllFeatureVariables(featureKey: "new_nav", userId: "alice") == nil)
        #expect(!client.setForcedVariation(experimentKey: "checkout_button_test", userId: "alice", variationKey: "control"))
        #expect(client.getForcedVariation(experimentKey: "checkout_button_test", userId: "alice") == nil)
        let forced = user.setForcedDecision(context: OptimizelyDecisionContext(flagKey: "new_nav"), decision: OptimizelyForcedDecision(variationKey: "on"))
        #expect(forced, "forced decisions never fail")
        #expect(recorder.takeEvents().isEmpty)
        let failing = log.entries.filter { $0.level == .error }.map(\.message)
        #expect(failing.contains(#"Invalid config. Optimizely instance is not valid. Failing "decide"."#))
        #expect(failing.contains(#"Invalid config. Optimizely instance is not valid. Failing "track"."#))

        // The datafile appears: the next poll brings it, and the calls work.
        await rig.collector.setDatafile(try DatafileRig.datafile(), sdkKey: DatafileRig.sdkKey)
        #expect(await rig.advance(byMillis: 60_000))
        #expect(client.config?.revision == "241")
        #expect(user.trackEvent(eventKey: "purchase"))
        #expect(await rig.requests.map(\.status) == [404, 200])
        await client.close()
        try await rig.collector.shutdown()
    }

    @Test func closeDuringTheFirstFetchStopsPollingAndTheProcessor() async throws {
        var rig = try await DatafileRig.start(plan: try DatafileFaultPlan(parsing: "timeout"))
        rig.settings.requestTimeout = 60
        rig.settings.blockingTimeout = 60
        let processor = try processor(rig)
        let client = try OptimizelyClient(source: .polling(rig.settings), eventProcessor: processor, clock: rig.clock)
        let starting = Task { await client.start() }
        #expect(await CollectorFixtures.eventually(within: 30) { await rig.requests.count == 1 }, "the first fetch is held")
        let began = Date()
        await client.close()
        #expect(Date().timeIntervalSince(began) < 30, "close cancels the fetch instead of waiting for it")
        #expect(await starting.value == false)
        #expect(client.isClosed && !processor.isRunning)
        #expect(throws: ProcessorError.stopped) { try processor.process(QueueFixtures.event(1)) }
        await rig.collector.setDatafilePlan(.alwaysServe)
        rig.clock.advance(byMillis: 3_600_000)
        #expect(rig.clock.sleepers.isEmpty, "nothing polls after close")
        #expect(await rig.requests.count == 1)
        #expect(client.config == nil)
        #expect(await client.start() == false, "start after close does nothing")
        await client.close()  // twice is safe
        try await rig.collector.shutdown()
    }

    @Test func aClientDroppedWithoutCloseStopsPolling() async throws {
        let rig = try await DatafileRig.start()
        weak var released: OptimizelyClient?
        do {
            let client = try OptimizelyClient(source: .polling(rig.settings), eventProcessor: RecordingEventProcessor(), clock: rig.clock)
            released = client
            #expect(await client.start())
            #expect(await rig.settle())
        }
        #expect(released == nil, "polling does not keep the client alive")
        #expect(await CollectorFixtures.eventually(within: 30) { rig.clock.sleepers.isEmpty }, "its polling ended")
        rig.clock.advance(byMillis: 3_600_000)
        #expect(await rig.requests.count == 1)
        try await rig.collector.shutdown()
    }

    @Test func aClientDroppedWithoutCloseStopsTheProcessorItMade() async throws {
        let rig = try await DatafileRig.start()
        var processorConfiguration = ProcessorConfiguration()
        processorConfiguration.flushInterval = 3_600
        var dispatch = HTTPEventDispatcher.Configuration()
        dispatch.endpoint = rig.collector.url.absoluteString
        weak var released: BatchEventProcessor?
        do {
            let client = try OptimizelyClient(source: .polling(rig.settings), queuePath: folder.file("dropped.sqlite"),
                                              processorConfiguration: processorConfiguration,
                                              dispatcher: try HTTPEventDispatcher(configuration: dispatch), clock: rig.clock)
            let processor = try #require(client.eventProcessor as? BatchEventProcessor)
            released = processor
            #expect(await client.start())
            #expect(processor.isRunning)
            #expect(client.createUserContext(userId: "dave").trackEvent(eventKey: "signup"))
        }
        // An hour's flush interval: only the stop that the client's deinit asks for sends it.
        #expect(await CollectorFixtures.eventually(within: 30) { await rig.collector.acceptedUUIDs.count == 1 },
                "the dropped client's processor was stopped, which sent what was pending")
        #expect(await CollectorFixtures.eventually(within: 30) { released == nil }, "its worker ended and let it go")
        try await rig.collector.shutdown()
    }

    @Test func aGivenProcessorIsNotStoppedWhenTheClientIsDropped() async throws {
        let rig = try await DatafileRig.start()
        let processor = try processor(rig)
        do {
            let client = try OptimizelyClient(source: .datafile(try DatafileRig.datafile()), eventProcessor: processor)
            #expect(await client.start())
        }
        #expect(processor.isRunning, "the application's processor is the application's to stop")
        #expect(throws: Never.self) { try processor.process(QueueFixtures.event(1)) }
        await processor.stop()
        try await rig.collector.shutdown()
    }

    @Test func aGracefulShutdownWhileStartWaitsForTheFirstDatafileClosesTheClientAtOnce() async throws {
        var rig = try await DatafileRig.start(plan: try DatafileFaultPlan(parsing: "timeout"))
        rig.settings.requestTimeout = 3_600  // only the close can end the held fetch
        rig.settings.blockingTimeout = 3_600  // in virtual time, which this test does not move
        let processor = try processor(rig)
        let client = try OptimizelyClient(source: .polling(rig.settings), eventProcessor: processor, clock: rig.clock)
        let group = ServiceGroup(services: [client], logger: UserEventFactory.silentLogger)
        let ended = LockedValue(false)
        let running = Task {
            try await group.run()
            ended.withLock { $0 = true }
        }
        #expect(await CollectorFixtures.eventually(within: 30) { await rig.requests.count == 1 }, "the first fetch is held")
        await group.triggerGracefulShutdown()
        #expect(await CollectorFixtures.eventually(within: 30) { ended.withLock { $0 } },
                "the service did not wait for the first datafile before closing")
        #expect(client.isClosed && !processor.isRunning)
        if !ended.withLock({ $0 }) {
            // Without the fix: release the wait so that the test ends.
            rig.clock.advance(byMillis: 3_600_000)
            await client.close()
        }
        try await running.value
        try await rig.collector.shutdown()
    }

    @Test func theProcessorStartsWithStartUnlessStartOnInit() async throws {
        let rig = try await DatafileRig.start()
        let waiting = try processor(rig)
        #expect(!waiting.isRunning, "start_on_init is false by default")
        let client = try OptimizelyClient(source: .datafile(try DatafileRig.datafile()), eventProcessor: waiting)
        #expect(await client.start())
        #expect(waiting.isRunning, "the client's start starts it")
        await client.close()
        #expect(!waiting.isRunning)

        let eager = try processor(rig, startOnInit: true)
        #expect(eager.isRunning)
        await eager.stop()
        try await rig.collector.shutdown()
    }

    @Test func aClientOnAQueueFileOwnsItsDurableProcessor() async throws {
        let rig = try await DatafileRig.start()
        let path = folder.file("owned.sqlite")
        var processorConfiguration = ProcessorConfiguration()
        processorConfiguration.flushInterval = 3_600
        var dispatch = HTTPEventDispatcher.Configuration()
        dispatch.endpoint = rig.collector.url.absoluteString
        let client = try OptimizelyClient(source: .polling(rig.settings), queuePath: path, processorConfiguration: processorConfiguration,
                                          dispatcher: try HTTPEventDispatcher(configuration: dispatch), clock: rig.clock)
        #expect(await client.start())
        #expect(client.createUserContext(userId: "bob").trackEvent(eventKey: "signup"))
        await client.close()
        #expect(await rig.collector.acceptedUUIDs.count == 1, "close sent what was pending")
        #expect(try EventQueue(path: path).stats().sent == 1)
        #expect(throws: OptimizelyClientError.noDatafileSource) { try OptimizelyClient(source: DatafileSource(), queuePath: folder.file("none.sqlite")) }
        #expect(!FileManager.default.fileExists(atPath: folder.file("none.sqlite")), "a bad source leaves no file")
        try await rig.collector.shutdown()
    }

    @Test func aBadSourceOnAQueueFileLeavesNoFileBehind() throws {
        let cases: [(source: DatafileSource, name: String)] = [
            (.datafile(#"{"version": "4"}"#), "invalid-datafile.sqlite"),
            (.sdkKey("KEY", datafile: "not json"), "invalid-bundled.sqlite"),
            (.sdkKey("KEY", accessToken: ""), "empty-token.sqlite"),
            (DatafileSource(), "no-source.sqlite"),
        ]
        for (source, name) in cases {
            #expect(throws: OptimizelyClientError.self, "\(name)") { try OptimizelyClient(source: source, queuePath: folder.file(name)) }
            #expect(!FileManager.default.fileExists(atPath: folder.file(name)), "\(name)")
        }
    }

    @Test func aClientServiceStartsAndClosesWithItsGroup() async throws {
        let rig = try await DatafileRig.start()
        let processor = try processor(rig)
        let client = try OptimizelyClient(source: .polling(rig.settings), eventProcessor: processor, clock: rig.clock)
        let group = ServiceGroup(services: [client], logger: UserEventFactory.silentLogger)
        let running = Task { try await group.run() }
        #expect(await CollectorFixtures.eventually(within: 30) { client.config != nil && processor.isRunning })
        #expect(client.createUserContext(userId: "carol").trackEvent(eventKey: "purchase"))
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(client.isClosed)
        #expect(await rig.collector.acceptedUUIDs.count == 1)
        try await rig.collector.shutdown()
    }
}
