extension UserProfile {
    /// Reads profiles from the reference's JSON form, `{user_id: {"user_id": …,
    /// "experiment_bucket_map": {experiment_id: {"variation_id": …}}}}` (what `eventspool
    /// decide --user-profiles` reads).
    ///
    /// A profile without `user_id` or `experiment_bucket_map` is left out, and so is an entry
    /// that is not `{"variation_id": "…"}`: the reference ignores the first and raises on the
    /// second (spec §19).
    ///
    /// - Throws: ``UserProfileFileError`` when the JSON is not an object of profiles.
    public static func profiles(fromJSON json: EventValue) throws(UserProfileFileError) -> [UserProfile] {
        guard case .object(let users) = json else { throw .notAnObject(found: json.typeName) }
        var profiles: [UserProfile] = []
        for member in users.deduplicated {
            guard case .object(let fields) = member.value,
                  case .string(let userId)? = fields["user_id"],
                  case .object(let buckets)? = fields["experiment_bucket_map"]
            else { continue }
            var map: [String: String] = [:]
            for bucket in buckets.deduplicated {
                if case .object(let entry) = bucket.value, case .string(let variationId)? = entry["variation_id"] {
                    map[bucket.key] = variationId
                }
            }
            profiles.append(UserProfile(userId: userId, experimentBucketMap: map))
        }
        return profiles
    }
}

/// Why a file of user profiles could not be read.
public enum UserProfileFileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The JSON is not an object of profiles by user id.
    case notAnObject(found: String)

    /// One line saying what is wrong and how to fix it.
    public var description: String {
        switch self {
        case .notAnObject(let found):
            "the user profiles are a JSON \(found); give an object {user_id: {\"user_id\": …, \"experiment_bucket_map\": {…}}} ({} for none)"
        }
    }
}
