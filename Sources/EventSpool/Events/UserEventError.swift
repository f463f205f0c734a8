/// Why a user event could not be created. Nothing is queued when one is thrown.
public enum UserEventError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The conversion's event key is not in the datafile.
    case unknownEventKey(String)
    /// The impression's experiment key is neither an experiment nor a rollout rule.
    case unknownExperimentKey(String)
    /// An impression without an experiment whose rule type is not `rollout`.
    case missingExperiment(ruleType: RuleType)
    /// The variation key is not among the flag's variations nor the experiment's.
    case unknownVariationKey(String, experimentKey: String?, flagKey: String)
    /// Both a variation key and a variation id were given and they name different variations.
    case conflictingVariation(key: String, id: String)
    /// An integer in the tags outside the signed 64-bit range (spec §3).
    case integerOutOfRange(path: String, literal: String)
    /// A value that cannot be JSON (from ``EventValue/init(any:path:)``).
    case notJSON(path: String, typeName: String)
    /// Tags nested deeper than the limit (``JSONParser/defaultMaxDepth``).
    case tooDeep(path: String, limit: Int)
    /// An empty uuid was given.
    case emptyUUID
    /// A negative timestamp was given.
    case negativeTimestamp(Int64)

    /// What is wrong with the event, in one line.
    public var description: String {
        switch self {
        case .unknownEventKey(let key):
            "the event key \"\(key)\" is not in the datafile; use the key of one of the datafile's events (or update the datafile)"
        case .unknownExperimentKey(let key):
            "the experiment key \"\(key)\" is not in the datafile (neither an experiment nor a rollout rule); use a key from the datafile"
        case .missingExperiment(let ruleType):
            "an impression without an experiment is only valid for rule type rollout (a rollout with no matching rule), not \(ruleType.rawValue); give the experiment key"
        case .unknownVariationKey(let key, let experimentKey, let flagKey):
            "the variation key \"\(key)\" is not a variation of "
                + [flagKey.isEmpty ? nil : "flag \"\(flagKey)\"", experimentKey.map { "experiment \"\($0)\"" }]
                    .compactMap { $0 }.joined(separator: " or ")
                + "; use one of its variation keys"
        case .conflictingVariation(let key, let id):
            "the variation key \"\(key)\" and the variation id \"\(id)\" name different variations; give only one of them"
        case .integerOutOfRange(let path, let literal):
            "the tag \(path) holds the integer \(literal), outside the signed 64-bit range; send it as a string or a float"
        case .notJSON(let path, let typeName):
            "\(path) is a \(typeName), which cannot be sent as JSON; convert it to a string, number, bool, array or dictionary"
        case .tooDeep(let path, let limit):
            "the tags are nested deeper than \(limit) levels at \(path); flatten them"
        case .emptyUUID:
            "the uuid is empty; give a UUID or leave it out to have one generated"
        case .negativeTimestamp(let value):
            "the timestamp \(value) is negative; give milliseconds since the Unix epoch or leave it out to use the current time"
        }
    }
}
