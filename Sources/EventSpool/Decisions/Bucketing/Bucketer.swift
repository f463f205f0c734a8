/// Puts a user into a variation by hashing (spec `decisions.md` §3): pure and deterministic.
///
/// The bucket number of a key is `floor(murmur3(key) / 2^32 * 10000)`, in `0..<10000`; the key
/// is the bucketing id followed by the experiment id (or the group id, for a mutually exclusive
/// group). The first traffic range whose `endOfRange` is above the bucket number wins, in
/// datafile order, without sorting or checking that ranges are contiguous.
///
/// ```swift
/// Bucketer.bucketNumber(for: "flag_user_110420810930")   // 6508
/// ```
enum Bucketer {
    /// The number of buckets.
    static let bucketCount = 10_000

    /// The bucket number in `0..<10000` of a bucketing key.
    static func bucketNumber(for key: String) -> Int {
        // Equal to floor(hash / 2^32 * 10000) in double precision for every 32-bit hash.
        Int((UInt64(MurmurHash3.hash32(key)) * UInt64(bucketCount)) >> 32)
    }

    /// The entity of the first range the user's bucket falls in, or `nil` past the last range.
    static func findBucket(bucketingId: String, parentId: String, allocation: [ProjectConfig.TrafficRange]) -> String? {
        let bucket = bucketNumber(for: bucketingId + parentId)
        for range in allocation {
            if let end = range.endOfRange, bucket < end { return range.entityId }
        }
        return nil
    }

    /// The entity id the user buckets into for `experiment`: first the group, when the
    /// experiment is in a mutually exclusive one, then the experiment's own ranges (or its CMAB
    /// range, `"$"`). `nil` for nobody.
    static func entityId(for experiment: ProjectConfig.Experiment, config: ProjectConfig, userId: String,
                         bucketingId: String, reasons: inout DecisionReasons) -> String? {
        if let groupId = experiment.groupId, experiment.groupPolicy == "random" {
            guard let group = config.group(id: groupId) else { return nil }
            let chosen = findBucket(bucketingId: bucketingId, parentId: groupId, allocation: group.trafficAllocation)
            guard let chosen, !chosen.isEmpty else {
                reasons.add("User \"\(userId)\" is in no experiment.")
                return nil
            }
            guard chosen == experiment.id else {
                reasons.add("User \"\(userId)\" is not in experiment \"\(experiment.key)\" of group \(groupId).")
                return nil
            }
            reasons.add("User \"\(userId)\" is in experiment \(experiment.key) of group \(groupId).")
        }
        var allocation = experiment.trafficAllocation
        if experiment.isContextualBandit {
            allocation = [ProjectConfig.TrafficRange(entityId: "$", endOfRange: experiment.cmabTrafficAllocation)]
        }
        return findBucket(bucketingId: bucketingId, parentId: experiment.id, allocation: allocation)
    }

    /// The variation the user buckets into for `experiment`, or `nil` (a hole, a gap, another
    /// experiment of the group, or a range naming no variation of the experiment).
    static func variation(for experiment: ProjectConfig.Experiment, config: ProjectConfig, userId: String,
                          bucketingId: String, reasons: inout DecisionReasons) -> ProjectConfig.Variation? {
        // An experiment whose key is empty or white space is never bucketed (no reason given).
        guard experiment.key.unicodeScalars.contains(where: { !NumericString.isPythonWhitespace($0) }) else { return nil }
        let entityId = entityId(for: experiment, config: config, userId: userId, bucketingId: bucketingId, reasons: &reasons)
        guard let entityId, !entityId.isEmpty else {
            reasons.add("Bucketed into an empty traffic range. Returning nil.")
            return nil
        }
        return experiment.variation(id: entityId)
    }
}
