import Testing
@testable import EventSpool

/// Bounded, seeded property tests of the factory and the encoder.
@Suite struct PayloadPropertyTests {
    static let keys = ["browser", "age", "ltv", "is_logged_in", "$opt_x", "$opt_bot_filtering", "other", "revenue", "value",
                       "tags", "decisions", "é😀", "quote\"back\\slash", "ctl\u{01}\u{7F}", ""]

    static func randomString(_ random: inout SplitMix64) -> String {
        let pieces = ["a", "Z", "0", " ", "é", "€", "😀", "\"", "\\", "\n", "\u{00}", "\u{1F}", "\u{7F}", "/", "\u{2028}", "\u{FFFF}"]
        return (0..<Int.random(in: 0...8, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
    }

    static func randomDouble(_ random: inout SplitMix64) -> Double {
        switch random.next() % 10 {
        case 0: return .nan
        case 1: return [Double.infinity, -.infinity].randomElement(using: &random)!
        case 2: return Double(bitPattern: random.next())  // any bit pattern, NaNs and subnormals included
        case 3: return [9_007_199_254_740_992, 9_007_199_254_740_994, -0.0, 1e16, .leastNonzeroMagnitude, .greatestFiniteMagnitude].randomElement(using: &random)!
        default: return Double.random(in: -1e6...1e6, using: &random)
        }
    }

    static func randomValue(_ random: inout SplitMix64, depth: Int = 0) -> EventValue {
        switch random.next() % (depth < 3 ? 10 : 7) {
        case 0: return .null
        case 1: return .bool(random.next() & 1 == 0)
        case 2: return .int(Int64(bitPattern: random.next()) >> Int64.random(in: 0...63, using: &random))
        case 3: return .double(randomDouble(&random))
        case 4: return .string(randomString(&random))
        case 5: return .string(["1_000.5", " 12 ", "nan", "1e400", "0x1", "3.14"].randomElement(using: &random)!)
        case 6: return random.next() % 20 == 0 ? .integerOutOfRange("99999999999999999999") : .int(Int64.random(in: -100...100, using: &random))
        case 7: return .array((0..<Int.random(in: 0...3, using: &random)).map { _ in randomValue(&random, depth: depth + 1) })
        default: return .object(randomDictionary(&random, depth: depth + 1))
        }
    }

    static func randomDictionary(_ random: inout SplitMix64, depth: Int = 0) -> EventDictionary {
        EventDictionary(members: (0..<Int.random(in: 0...5, using: &random)).map { _ in
            .init(key: keys.randomElement(using: &random)!, value: randomValue(&random, depth: depth))
        })
    }

    static func holdsOutOfRangeInteger(_ value: EventValue) -> Bool {
        switch value {
        case .integerOutOfRange: return true
        case .array(let values): return values.contains(where: holdsOutOfRangeInteger)
        case .object(let dictionary): return dictionary.contains { holdsOutOfRangeInteger($0.value) }
        default: return false
        }
    }

    @Test func randomAttributesAndTagsAlwaysGiveValidJSONThatParsesBackToTheEvent() throws {
        var random = SplitMix64(seed: 0x5EED_0042)
        let factory = UserEventFactory(config: try ConformanceFixtures.config)
        var encoded = 0
        var rejected = 0
        for round in 0..<1_500 {
            let attributes = Self.randomDictionary(&random)
            let tags: EventTags? = random.next() % 5 == 0 ? nil : Self.randomDictionary(&random)
            let userId = Self.randomString(&random)
            let event: UserEvent
            do {
                if round % 3 == 0 {
                    event = try factory.makeImpression(experimentKey: "new_nav_test", variationKey: "on", flagKey: "new_nav",
                                                       ruleType: .featureTest, userId: userId, attributes: attributes,
                                                       cmabUUID: Self.randomString(&random))
                } else {
                    event = try factory.makeConversion(eventKey: "purchase", userId: userId, attributes: attributes, tags: tags)
                }
            } catch {
                // Only an out-of-range integer in the tags may reject a conversion.
                guard case .integerOutOfRange = error, let tags else { throw error }
                #expect(tags.contains { Self.holdsOutOfRangeInteger($0.value) })
                rejected += 1
                continue
            }
            let visitorText = event.serialized().visitorJSON
            let visitor = try JSONValue.parse(visitorText)
            #expect(visitor["visitor_id"] == .string(userId))
            let parsedAttributes = try #require(visitor["attributes"]?.arrayValue)
            #expect(parsedAttributes.count == event.attributes.count)
            for (parsed, kept) in zip(parsedAttributes, event.attributes) {
                #expect(parsed["key"] == .string(kept.key) && parsed["entity_id"] == .string(kept.entityId))
                #expect(parsed["value"] == kept.value && parsed["type"] == .string("custom"))
            }
            if case .conversion(let conversion) = event.payload {
                let snapshotEvent = try #require(visitor["snapshots"]?.arrayValue?.first?["events"]?.arrayValue?.first)
                #expect(snapshotEvent["tags"] == conversion.tags.map { JSONValue.object($0) })
                #expect(snapshotEvent["value"] == conversion.value.map { .double($0) })
                #expect(snapshotEvent["revenue"] == conversion.revenue.map { .int($0) })
            }
            let body = EventSpool.LogEvent.batch(context: event.context, visitors: [visitorText, visitorText])
            #expect(try JSONValue.parse(body.body)["visitors"]?.arrayValue?.count == 2)
            encoded += 1
        }
        #expect(encoded > 1_000 && rejected > 0)
    }

    @Test func attributeFilteringIsIdempotent() throws {
        var random = SplitMix64(seed: 0xA77_0001)
        let datafile = try ConformanceFixtures.datafileJSON.setting("botFiltering", nil)
        let factory = UserEventFactory(config: try ProjectConfig(json: datafile))
        for _ in 0..<2_000 {
            let once = factory.visitorAttributes(Self.randomDictionary(&random))
            let again = factory.visitorAttributes(EventDictionary(members: once.map { .init(key: $0.key, value: EventValue($0.value)) }))
            #expect(again == once)
        }
    }

    @Test func tagSanitizingIsIdempotent() throws {
        var random = SplitMix64(seed: 0x7A6_0002)
        let factory = UserEventFactory(config: try ConformanceFixtures.config)
        for _ in 0..<2_000 {
            guard let first = try? factory.makeConversion(eventKey: "purchase", userId: "u", tags: Self.randomDictionary(&random)),
                  case .conversion(let once) = first.payload, let tags = once.tags
            else { continue }
            let second = try factory.makeConversion(eventKey: "purchase", userId: "u",
                                                    tags: EventDictionary(members: tags.map { .init(key: $0.key, value: EventValue($0.value)) }))
            guard case .conversion(let twice) = second.payload else { Issue.record("not a conversion"); continue }
            #expect(twice == once)
        }
    }

    @Test func randomJSONValuesRoundTripThroughTheWriterAndParser() throws {
        var random = SplitMix64(seed: 0x0DD_0003)
        func json(_ depth: Int) -> JSONValue {
            switch random.next() % (depth < 3 ? 8 : 6) {
            case 0: return .null
            case 1: return .bool(random.next() & 1 == 1)
            case 2: return .int(Int64(bitPattern: random.next()))
            case 3: return FiniteDouble(Double(bitPattern: random.next())).map(JSONValue.double) ?? .double(FiniteDouble(0.5)!)
            case 4, 5: return .string(Self.randomString(&random))
            case 6: return .array((0..<Int.random(in: 0...4, using: &random)).map { _ in json(depth + 1) })
            default: return .object((0..<Int.random(in: 0...4, using: &random)).map { _ in .init(key: Self.randomString(&random), value: json(depth + 1)) })
            }
        }
        for _ in 0..<3_000 {
            let value = json(0)
            let parsed = try JSONValue.parse(value.jsonText)
            #expect(parsed == value)
            #expect(bitwiseEqual(parsed, value))
        }
    }

    /// `==` on doubles treats -0.0 and 0.0 alike; the wire must keep the sign too.
    func bitwiseEqual(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.double(let a), .double(let b)): return a.value.bitPattern == b.value.bitPattern
        case (.array(let a), .array(let b)): return a.count == b.count && zip(a, b).allSatisfy(bitwiseEqual)
        case (.object(let a), .object(let b)): return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && bitwiseEqual($0.value, $1.value) }
        default: return lhs == rhs
        }
    }
}
