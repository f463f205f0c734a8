// The embedding example of the README, verbatim: it must compile, `ReadmeTests` checks that
// the README still shows exactly this code, and runs it against the local collector.
import EventSpool
import Foundation

// dispatcher: nil sends to the Events API over URLSession; a test passes one for a collector.
func trackPurchases(datafile: String, queueFile: String, dispatcher: (any EventDispatcher)? = nil) async throws {
    let config = try ProjectConfig(datafile: datafile)
    let factory = UserEventFactory(config: config)
    let processor = try BatchEventProcessor(queuePath: queueFile, dispatcher: dispatcher)
    processor.start()

    // Durable when `process` returns: a crash from here on loses nothing.
    let purchase = try factory.makeConversion(
        eventKey: "purchase", userId: "alice",
        attributes: ["browser": "chrome", "age": 31],
        tags: ["revenue": 1999, "value": 19.99]
    )
    try await processor.process(purchase)
    let impression = try factory.makeImpression(
        experimentKey: "checkout_button_test", variationKey: "blue_button", userId: "alice"
    )
    try await processor.process(impression)

    // On shutdown: send what is pending, waiting at most timeoutInterval.
    await processor.stop()
}
