// The Swift examples of the DocC articles that are not also the README's, verbatim: they must
// compile, and `ReadmeTests` checks that the articles still show exactly this code.
import EventSpool

func trackAlicesPurchase(datafile: String, queueFile: String) async throws {
    let config = try ProjectConfig(datafile: datafile)
    let factory = UserEventFactory(config: config)
    let processor = try BatchEventProcessor(queuePath: queueFile)
    processor.start()

    // Durable when `process` returns: a crash from here on loses nothing.
    try await processor.process(factory.makeConversion(eventKey: "purchase", userId: "alice", tags: ["revenue": 1999]))
    try await processor.process(factory.makeImpression(experimentKey: "checkout_button_test", variationKey: "blue_button", userId: "alice"))

    // On shutdown: send what is pending, waiting at most timeoutInterval.
    await processor.stop()
}

struct CannedTransport: HTTPTransport {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        HTTPResponse(status: 204, url: request.url)
    }
}

func runCheckout(sdkKey: String, bundledDatafile: String, queueFile: String) async throws {
    var polling = DatafilePollingSettings(sdkKey: sdkKey)
    polling.pollingInterval = 60
    let client = try OptimizelyClient(source: .polling(polling, datafile: bundledDatafile), queuePath: queueFile)
    _ = client.notificationCenter.addListener(for: .configUpdate) { notification in
        if case .configUpdate(let revision) = notification { print("now on revision \(revision)") }
    }
    await client.start()  // the bundled datafile serves at once; the first fetch goes out now
    let decision = client.createUserContext(userId: "alice").decide(key: "new_checkout")
    print(decision.variationKey ?? "no variation")
    await client.close()  // stops polling, then sends what is pending
}
