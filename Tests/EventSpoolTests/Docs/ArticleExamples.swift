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
