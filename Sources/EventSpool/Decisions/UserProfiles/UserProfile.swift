/// What the user profile service remembers of one user: the variation of each experiment they
/// were bucketed into (sticky bucketing, spec `decisions.md` §7).
///
/// The reference's dictionary `{"user_id": …, "experiment_bucket_map": {experiment_id:
/// {"variation_id": …}}}`, typed.
public struct UserProfile: Sendable, Hashable {
    /// The user.
    public var userId: String
    /// Experiment id → variation id.
    public var experimentBucketMap: [String: String]

    /// Creates a profile.
    public init(userId: String, experimentBucketMap: [String: String] = [:]) {
        self.userId = userId
        self.experimentBucketMap = experimentBucketMap
    }
}

/// Stores user profiles so a user keeps the variation they were first bucketed into, even when
/// the experiment's traffic or audiences change.
///
/// Only experiment decisions (A/B tests and feature tests) are stored and read; rollout
/// decisions never are. A call that throws is logged and ignored, as the reference does: a
/// lookup failure decides as if there were no profile, a save failure loses the update.
///
/// ``InMemoryUserProfileService`` keeps profiles for the life of the process;
/// ``SQLiteUserProfileService`` keeps them in the event queue's file, across restarts.
public protocol UserProfileService: Sendable {
    /// The profile of `userId`, or `nil` when there is none.
    func lookup(userId: String) throws -> UserProfile?
    /// Stores `profile` whole (its earlier entries included), replacing what was stored.
    func save(_ profile: UserProfile) throws
}

/// A user profile service in memory: thread-safe, lost when the process ends.
///
/// ```swift
/// let profiles = InMemoryUserProfileService()
/// let client = try OptimizelyClient(datafile: datafile, eventProcessor: processor, userProfileService: profiles)
/// ```
public final class InMemoryUserProfileService: UserProfileService {
    private let profiles: LockedValue<[String: UserProfile]>

    /// Creates a service holding `profiles` (none by default).
    public init(profiles: [UserProfile] = []) {
        self.profiles = LockedValue(Dictionary(profiles.map { ($0.userId, $0) }, uniquingKeysWith: { _, last in last }))
    }

    /// The stored profile of `userId`.
    public func lookup(userId: String) -> UserProfile? {
        profiles.withLock { $0[userId] }
    }

    /// Stores `profile` under its user id.
    public func save(_ profile: UserProfile) {
        profiles.withLock { $0[profile.userId] = profile }
    }

    /// Every stored profile, by user id.
    public var allProfiles: [String: UserProfile] { profiles.withLock { $0 } }
}
