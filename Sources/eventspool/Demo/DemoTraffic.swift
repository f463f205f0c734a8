import EventSpool

/// A realistic, reproducible stream of calls on the Optimizely client for the demo: a few
/// hundred visitors deciding flags, seeing an A/B test, and some of them buying or signing up.
/// Each call queues exactly one event: an impression or a conversion.
struct DemoTraffic {
    /// What a call queued.
    enum Kind {
        case impression
        case conversion
    }

    private var state: UInt64

    init(seed: UInt64 = 0x5EED) {
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

    /// A visitor's attributes: a browser, an age, logged in or not, and sometimes a lifetime value.
    static func attributes(of user: Int) -> UserAttributes {
        let browsers = ["chrome", "firefox", "safari", "edge"]
        return [
            "browser": .string(browsers[user % browsers.count]),
            "age": .int(Int64(18 + user % 60)),
            "is_logged_in": .bool(user % 3 != 0),
            "ltv": user % 5 == 0 ? .double(Double(user) * 1.25) : .null,
        ]
    }

    /// The next visitor's call on `client`.
    mutating func step(on client: OptimizelyClient) -> Kind {
        let user = pick(400)
        let context = client.createUserContext(userId: "visitor-\(user)", attributes: Self.attributes(of: user))
        switch pick(100) {
        case 0..<25:
            _ = context.decide(key: "new_nav")  // a feature test for logged-in visitors, else the rollout
            return .impression
        case 25..<45:
            _ = context.decide(key: "dark_mode")  // a rollout: Chrome only in revision 241
            return .impression
        case 45..<60:
            client.activate(experimentKey: "checkout_button_test", userId: context.userId, attributes: context.attributes)
            return .impression
        case 60..<88:
            let cents = Int64(500 + pick(20_000))
            context.trackEvent(eventKey: "purchase", eventTags: [
                "revenue": .int(cents), "value": .double(Double(cents) / 100), "category": .string(["books", "shoes", "games"][pick(3)]),
            ])
            return .conversion
        default:
            context.trackEvent(eventKey: "signup")
            return .conversion
        }
    }
}
