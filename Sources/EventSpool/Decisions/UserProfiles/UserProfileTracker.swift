import Logging

/// One call's view of a user's profile: looked up once before the call's decisions, saved once
/// after them, and only when a decision added to it (spec `decisions.md` §7).
struct UserProfileTracker {
    /// The profile as the call's decisions see it.
    private(set) var profile: UserProfile
    /// Whether a decision recorded a variation.
    private(set) var isUpdated = false

    /// Looks the user's profile up; a failure or no profile gives an empty one.
    init(userId: String, service: any UserProfileService, logger: Logger) {
        profile = UserProfile(userId: userId)
        do {
            if let stored = try service.lookup(userId: userId) { profile = stored }
        } catch {
            logger.error("Unable to retrieve user profile for user \"\(userId)\" as lookup failed.", metadata: ["error": "\(error)"])
        }
    }

    /// The stored variation id of an experiment.
    func variationId(forExperiment id: String) -> String? {
        profile.experimentBucketMap[id].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Records the variation a user was bucketed into.
    mutating func record(experimentId: String, variationId: String) {
        profile.experimentBucketMap[experimentId] = variationId
        isUpdated = true
    }

    /// Saves the profile when a decision changed it; a failure is logged.
    func saveIfUpdated(to service: any UserProfileService, logger: Logger) {
        guard isUpdated else { return }
        do {
            try service.save(profile)
        } catch {
            logger.warning("Failed to save user profile of user \"\(profile.userId)\".", metadata: ["error": "\(error)"])
        }
    }
}
