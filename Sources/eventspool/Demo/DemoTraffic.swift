import EventSpool

/// A realistic, reproducible stream of user events for the demo: a few hundred visitors seeing
/// experiments and flags, and some of them buying or signing up.
struct DemoTraffic {
    private var state: UInt64
    private let factory: UserEventFactory

    init(factory: UserEventFactory, seed: UInt64 = 0x5EED) {
        self.factory = factory
        state = seed
    }

    /// SplitMix64: small, fast and the same on every machine.
    private mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private mutating func pick(_ count: Int) -> Int { Int(next() % UInt64(count)) }

    /// The next user event.
    mutating func nextEvent() throws(UserEventError) -> UserEvent {
        let user = pick(400)
        let userId = "visitor-\(user)"
        let browsers = ["chrome", "firefox", "safari", "edge"]
        let attributes: UserAttributes = [
            "browser": .string(browsers[user % browsers.count]),
            "age": .int(Int64(18 + user % 60)),
            "is_logged_in": .bool(user % 3 != 0),
            "ltv": user % 5 == 0 ? .double(Double(user) * 1.25) : .null,
        ]
        switch pick(100) {
        case 0..<35:
            return try factory.makeImpression(
                experimentKey: "checkout_button_test", variationKey: user % 2 == 0 ? "control" : "blue_button",
                userId: userId, attributes: attributes
            )
        case 35..<50:
            return try factory.makeImpression(
                experimentKey: "new_nav_test", variationKey: user % 2 == 0 ? "on" : "off",
                flagKey: "new_nav", ruleType: .featureTest, enabled: user % 2 == 0,
                userId: userId, attributes: attributes
            )
        case 50..<60:
            return try factory.makeImpression(
                experimentKey: "dark_mode_chrome_delivery", variationKey: "on",
                flagKey: "dark_mode", ruleType: .rollout, userId: userId, attributes: attributes
            )
        case 60..<88:
            let cents = Int64(500 + pick(20_000))
            return try factory.makeConversion(
                eventKey: "purchase", userId: userId, attributes: attributes,
                tags: ["revenue": .int(cents), "value": .double(Double(cents) / 100), "category": .string(["books", "shoes", "games"][pick(3)])]
            )
        default:
            return try factory.makeConversion(eventKey: "signup", userId: userId, attributes: attributes)
        }
    }
}
