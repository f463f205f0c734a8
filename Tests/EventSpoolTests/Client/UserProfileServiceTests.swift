import Foundation
import Testing
@testable import EventSpool

/// Sticky bucketing (decisions.md §7): the in-memory service, the durable one in the queue's
/// file, and how the client reads and writes them.
@Suite struct UserProfileServiceTests {
    let folder = TemporaryFolder()

    @Test func aStoredVariationBeatsAudiencesAndTraffic() throws {
        // ups_user is stored in ft2_off; as a chrome user they would bucket into ft2_on.
        let profiles = InMemoryUserProfileService(profiles: [UserProfile(userId: "ups_user", experimentBucketMap: ["5007": "5702"])])
        let rig = try ClientRig.checklist(profiles: profiles)
        let decision = rig.client.createUserContext(userId: "ups_user", attributes: ["browser": "chrome"]).decide(key: "two_tests", options: [.includeReasons])
        #expect(decision.variationKey == "ft2_off")
        #expect(decision.reasons.contains("Returning previously activated variation ID \"ft2_off\" of experiment \"ft_2\" for user \"ups_user\" from user profile."))
    }

    @Test func aStoredVariationNotInTheExperimentIsDecidedAgainAndReplaced() throws {
        let profiles = InMemoryUserProfileService(profiles: [UserProfile(userId: "ups_bad", experimentBucketMap: ["5007": "5999"])])
        let rig = try ClientRig.checklist(profiles: profiles)
        #expect(rig.client.createUserContext(userId: "ups_bad", attributes: ["browser": "chrome"]).decide(key: "two_tests").variationKey == "ft2_on")
        #expect(profiles.lookup(userId: "ups_bad")?.experimentBucketMap == ["5007": "5701"])
    }

    @Test func ignoreUserProfileServiceNeitherReadsNorWrites() throws {
        let profiles = InMemoryUserProfileService(profiles: [UserProfile(userId: "ups_user", experimentBucketMap: ["5007": "5702"])])
        let rig = try ClientRig.checklist(profiles: profiles)
        let user = rig.client.createUserContext(userId: "ups_user", attributes: ["browser": "chrome"])
        #expect(user.decide(key: "two_tests", options: [.ignoreUserProfileService]).variationKey == "ft2_on")
        let newcomer = rig.client.createUserContext(userId: "newcomer", attributes: ["browser": "chrome"])
        _ = newcomer.decide(key: "two_tests", options: [.ignoreUserProfileService])
        #expect(profiles.lookup(userId: "newcomer") == nil)
        #expect(profiles.lookup(userId: "ups_user")?.experimentBucketMap == ["5007": "5702"])
    }

    @Test func activateStoresTheExperimentsVariationAndRolloutsAreNeverStored() throws {
        let profiles = InMemoryUserProfileService()
        let rig = try ClientRig.checklist(profiles: profiles)
        #expect(rig.client.activate(experimentKey: "holey_test", userId: "h1") == "v2")
        #expect(profiles.lookup(userId: "h1") == UserProfile(userId: "h1", experimentBucketMap: ["5001": "5102"]))
        _ = rig.client.createUserContext(userId: "roller", attributes: ["browser": "firefox"]).decide(key: "rollout_flag")
        #expect(profiles.lookup(userId: "roller") == nil)
    }

    @Test func oneLookupAndOneSaveForAllTheFlagsOfACall() throws {
        let counting = CountingProfileService()
        let rig = try ClientRig.checklist(profiles: counting)
        _ = rig.client.createUserContext(userId: "f6", attributes: ["browser": "chrome"]).decideAll()
        #expect(counting.lookups.withLock { $0 } == 1 && counting.saves.withLock { $0 } == 1)
        _ = rig.client.createUserContext(userId: "f6", attributes: ["browser": "chrome"]).decideAll()
        #expect(counting.saves.withLock { $0 } == 1, "nothing new to save")
    }

    @Test func aFailingServiceIsLoggedAndTheDecisionIsMadeWithoutIt() throws {
        let rig = try ClientRig.checklist(profiles: FailingProfileService())
        let decision = rig.client.createUserContext(userId: "f1", attributes: ["browser": "chrome"]).decide(key: "two_tests")
        #expect(decision.variationKey == "ft2_on")
    }

    // MARK: In the queue's file

    @Test func profilesInTheQueueFileSurviveReopening() throws {
        let path = folder.file("events.sqlite")
        do {
            let service = try SQLiteUserProfileService(path: path)
            let rig = try ClientRig.checklist(profiles: service)
            #expect(rig.client.activate(experimentKey: "holey_test", userId: "h1") == "v2")
            service.close()
        }
        let reopened = try SQLiteUserProfileService(path: path)
        #expect(try reopened.lookup(userId: "h1") == UserProfile(userId: "h1", experimentBucketMap: ["5001": "5102"]))
        #expect(try reopened.lookup(userId: "nobody") == nil)
        // A stored variation wins after the restart too: v1 is stored for h1, who would bucket into v2.
        try reopened.save(UserProfile(userId: "h1", experimentBucketMap: ["5001": "5101"]))
        let rig = try ClientRig.checklist(profiles: try SQLiteUserProfileService(path: path))
        #expect(rig.client.activate(experimentKey: "holey_test", userId: "h1") == "v1")
    }

    @Test func theProfileTableLivesBesideTheQueueInTheSameFile() throws {
        let path = folder.file("events.sqlite")
        let service = try SQLiteUserProfileService(path: path)
        try service.save(UserProfile(userId: "u", experimentBucketMap: ["e1": "v1"]))
        let queue = try QueueFixtures.open(path)
        #expect(try queue.schemaVersion() == Migration.latestVersion)
        #expect(try queue.stats().pending == 0)
        // And the other way round: a queue made first gets the table when the service opens it.
        let other = folder.file("other.sqlite")
        _ = try QueueFixtures.open(other)
        try SQLiteUserProfileService(path: other).save(UserProfile(userId: "u", experimentBucketMap: ["e": "v"]))
    }

    @Test func aSaveNeverDeletesSoTwoWritersKeepBothEntries() throws {
        let path = folder.file("events.sqlite")
        let first = try SQLiteUserProfileService(path: path)
        let second = try SQLiteUserProfileService(path: path)
        try first.save(UserProfile(userId: "u", experimentBucketMap: ["e1": "a"]))
        try second.save(UserProfile(userId: "u", experimentBucketMap: ["e2": "b"]))
        try first.save(UserProfile(userId: "u", experimentBucketMap: ["e1": "c"]))
        #expect(try first.lookup(userId: "u")?.experimentBucketMap == ["e1": "c", "e2": "b"])
    }

    @Test func manyThreadsDecidingWithTheDurableServiceAgree() async throws {
        let service = try SQLiteUserProfileService(path: folder.file("events.sqlite"))
        let rig = try ClientRig.checklist(profiles: service)
        let client = rig.client
        let collected = LockedValue<[String: Set<String?>]>([:])
        // Threads of their own, not the test pool's.
        await offThePool {
            DispatchQueue.concurrentPerform(iterations: 200) { index in
                let user = "h\(index % 20)"
                let variation = client.activate(experimentKey: "holey_test", userId: user)
                collected.withLock { _ = $0[user, default: []].insert(variation) }
            }
        }
        let results = collected.withLock { $0 }
        #expect(results.values.allSatisfy { $0.count == 1 }, "each user gets one variation")
        let ids = ["v1": "5101", "v2": "5102"]
        for (user, variations) in results {
            let variation = variations.first.flatMap { $0 }
            #expect(try service.lookup(userId: user)?.experimentBucketMap["5001"] == variation.flatMap { ids[$0] }, "\(user)")
        }
    }

    @Test func aFileThatCannotBeAQueueIsATypedError() throws {
        #expect(throws: QueueError.self) { try SQLiteUserProfileService(path: folder.path) }
    }

    @Test func profilesAreReadFromTheReferencesJSONSkippingMalformedEntries() throws {
        let bytes = Array(#"""
            {"a": {"user_id": "a", "experiment_bucket_map": {"e1": {"variation_id": "v1"}, "e2": "not an entry", "e3": {"variation_id": 5}}},
             "b": {"user_id": "b"}, "c": 7}
            """#.utf8)
        let json = try bytes.withUnsafeBufferPointer { buffer throws(JSONParseError) in try EventValue.parse(buffer) }
        #expect(try UserProfile.profiles(fromJSON: json) == [UserProfile(userId: "a", experimentBucketMap: ["e1": "v1"])])
        #expect(throws: UserProfileFileError.self) { try UserProfile.profiles(fromJSON: [1, 2]) }
    }
}

/// Counts lookups and saves.
final class CountingProfileService: UserProfileService {
    let inner = InMemoryUserProfileService()
    let lookups = LockedValue(0)
    let saves = LockedValue(0)

    func lookup(userId: String) -> UserProfile? {
        lookups.withLock { $0 += 1 }
        return inner.lookup(userId: userId)
    }

    func save(_ profile: UserProfile) {
        saves.withLock { $0 += 1 }
        inner.save(profile)
    }
}

/// Fails every call.
struct FailingProfileService: UserProfileService {
    struct Failure: Error {}
    func lookup(userId: String) throws -> UserProfile? { throw Failure() }
    func save(_ profile: UserProfile) throws { throw Failure() }
}
