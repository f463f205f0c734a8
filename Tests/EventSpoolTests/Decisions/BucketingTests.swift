import Testing
@testable import EventSpool

/// Bucketing (decisions.md §3, checklist §21 items 1–5), against the spec's measured vectors and
/// the checklist datafile whose buckets the official SDK computed.
@Suite struct BucketingTests {
    /// key → unsigned hash → bucket, measured with the official SDK (§3.1).
    static let vectors: [(key: String, hash: UInt32, bucket: Int)] = [
        ("ppid11886780721", 2_256_854_705, 5254),
        ("ppid21886780721", 1_846_603_100, 4299),
        ("ppid21886780722", 1_045_634_806, 2434),
        ("ppid31886780722", 3_896_665_462, 9072),
        (String(repeating: "a", count: 1000) + "1886780722", 1_814_969_254, 4225),
        ("", 1_364_076_727, 3175),
        ("abcde", 4_289_507_611, 9987),
        ("héllo", 3_542_237_226, 8247),
        ("日本語1886780721", 2_765_892_673, 6439),
        ("flag_user_110420810930", 2_795_422_215, 6508),
    ]

    @Test(arguments: vectors.indices)
    func hashAndBucketAreTheReferences(_ index: Int) {
        let vector = Self.vectors[index]
        #expect(MurmurHash3.hash32(vector.key) == vector.hash)
        #expect(Bucketer.bucketNumber(for: vector.key) == vector.bucket)
    }

    @Test func theIntegerBucketFormulaIsTheReferencesFloatFormulaForEveryKindOfHash() async {
        // CPU work on a thread of its own, so the asynchronous tests beside it are not kept waiting.
        let wrong = await offThePool { Self.hashesWhereTheFormulasDiffer() }
        #expect(wrong.isEmpty, "hashes: \(wrong.prefix(5))")
    }

    static func hashesWhereTheFormulasDiffer() -> [UInt32] {
        var random = SplitMix64(seed: 31)
        var hashes: [UInt32] = [0, 1, .max, .max - 1, 1 << 31, (1 << 31) - 1]
        // Hashes on each side of every bucket boundary, where rounding would show.
        for bucket in stride(from: 1, to: 10_000, by: 37) {
            let boundary = UInt32((UInt64(bucket) << 32 + 9_999) / 10_000)
            hashes += [boundary - 1, boundary, boundary &+ 1]
        }
        hashes += (0..<100_000).map { _ in UInt32.random(in: .min ... .max, using: &random) }
        return hashes.filter { hash in
            Int((UInt64(hash) * 10_000) >> 32) != Int((Double(hash) / 4_294_967_296.0 * 10_000).rounded(.down))
        }
    }

    @Test func aBucketIsAlwaysInRange() async {
        let outside = await offThePool {
            var random = SplitMix64(seed: 7)
            var outside: [String] = []
            for _ in 0..<20_000 {
                let length = Int.random(in: 0..<40, using: &random)
                let key = String((0..<length).map { _ in Character(Unicode.Scalar(UInt8.random(in: 32...126, using: &random))) })
                if !(0..<10_000).contains(Bucketer.bucketNumber(for: key)) { outside.append(key) }
            }
            return outside
        }
        #expect(outside.isEmpty)
    }

    @Test func theExampleFlagUserGetsOnAsTheReference() throws {
        // §21.2: flag_user_1 on new_nav_test (10420810930) has bucket 6508, in "on" (< 10000).
        let rig = try ClientRig.example()
        let decision = rig.client.createUserContext(userId: "flag_user_1", attributes: ["is_logged_in": true]).decide(key: "new_nav")
        #expect(decision.variationKey == "on" && decision.ruleKey == "new_nav_test")
        #expect(decision.variables == ["nav_color": "blue"])
    }

    @Test func aHoleAndATrailingGapGiveNoVariation() throws {
        // holey_test: [v1 < 3000, "" < 5000, v2 < 8000]; buckets measured with the official SDK:
        // h1 7551, h3 2064, h11 3504 (the hole), h8 9292 (past the last range).
        let rig = try ClientRig.checklist()
        let expected: [(user: String, variation: String?)] = [("h1", "v2"), ("h3", "v1"), ("h11", nil), ("h8", nil)]
        for (user, variation) in expected {
            #expect(rig.client.activate(experimentKey: "holey_test", userId: user) == variation, "\(user)")
        }
        #expect(rig.takeImpressions().map(\.variationKey) == ["v2", "v1"], "no impression without a variation")
    }

    @Test func aMutuallyExclusiveGroupPutsAUserInOneExperimentAtMost() throws {
        // Group 1901, [6201 < 4000, 6202 < 8000]: g_user_1 2730, g_user_2 5962, g_user_3 6842,
        // g_user_5 8545 (no experiment) — the spec's §21.4 vectors.
        let rig = try ClientRig.checklist()
        let expected: [(String, String?, String?)] = [
            ("g_user_1", "g1_a", nil), ("g_user_2", nil, "g2_a"), ("g_user_3", nil, "g2_a"), ("g_user_5", nil, nil),
        ]
        for (user, first, second) in expected {
            #expect(rig.client.getVariation(experimentKey: "group_exp_1", userId: user) == first, "\(user)")
            #expect(rig.client.getVariation(experimentKey: "group_exp_2", userId: user) == second, "\(user)")
        }
        let noGroup = rig.client.createUserContext(userId: "g_user_5").decide(key: "group_flag", options: [.includeReasons])
        #expect(noGroup.variationKey == nil && noGroup.reasons.contains("User \"g_user_5\" is in no experiment."))
    }

    @Test func aStringBucketingIdReplacesTheUserIdInTheKeyAndIsSent() throws {
        let rig = try ClientRig.checklist()
        // zzz buckets as h1 would (v2) but stays zzz everywhere else.
        #expect(rig.client.activate(experimentKey: "holey_test", userId: "zzz", attributes: ["$opt_bucketing_id": "h1"]) == "v2")
        let event = try #require(rig.recorder.takeEvents().first)
        #expect(event.userId == "zzz")
        #expect(event.attributes.contains { $0.key == "$opt_bucketing_id" && $0.value == .string("h1") })
    }

    @Test func aBucketingIdThatIsNotAStringIsReportedAndTheUserIdIsUsed() throws {
        let rig = try ClientRig.checklist()
        let user = rig.client.createUserContext(userId: "f1", attributes: ["browser": "chrome", "$opt_bucketing_id": 7])
        let decision = user.decide(key: "two_tests", options: [.includeReasons])
        #expect(decision.variationKey == "ft2_on")
        #expect(decision.reasons.contains("Bucketing ID attribute is not a string. Defaulted to user_id."))
    }
}
