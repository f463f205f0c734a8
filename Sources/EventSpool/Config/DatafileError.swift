/// Why a datafile could not be used, where (a JSON path such as
/// `experiments[2].variations[0].id`), and how to fix it.
public enum DatafileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The datafile is not JSON at all.
    case notJSON(JSONParseError)
    /// A required member is absent (or `null`).
    case missingField(path: String, expected: String)
    /// A member has the wrong JSON type.
    case wrongType(path: String, expected: String, found: String)
    /// The `version` is not one the event pipeline understands.
    case unsupportedVersion(path: String, found: String)
    /// A legacy audience's `conditions` string is not JSON.
    case invalidConditions(path: String, JSONParseError)
    /// An id names nothing in the datafile (a flag's experiment or rollout).
    case unknownReference(path: String, id: String, expected: String)

    /// Where in the datafile the problem is, as a JSON path (`$` is the whole datafile).
    public var path: String {
        switch self {
        case .notJSON: "$"
        case .missingField(let path, _), .wrongType(let path, _, _), .unsupportedVersion(let path, _),
             .invalidConditions(let path, _), .unknownReference(let path, _, _): path
        }
    }

    /// One line saying what is wrong, where, and how to fix it.
    public var description: String {
        switch self {
        case .notJSON(let error):
            "the datafile is not valid JSON: \(error); download it again from the Optimizely CDN or the SDK key's datafile URL"
        case .missingField(let path, let expected):
            "the datafile has no \(path) (expected \(expected)); this is not a complete v4 datafile: download it again from the Optimizely CDN"
        case .wrongType(let path, let expected, let found):
            "the datafile's \(path) is \(found) where \(expected) is required; fix that member or download the datafile again"
        case .unsupportedVersion(let path, let found):
            "the datafile's \(path) is \(found), but only versions \"2\", \"3\" and \"4\" are supported; use a v4 datafile"
        case .invalidConditions(let path, let error):
            "the datafile's \(path) is not a JSON audience condition (\(error)); fix the audience or download the datafile again"
        case .unknownReference(let path, let id, let expected):
            "the datafile's \(path) is \"\(id)\", which is not \(expected) of the datafile; download the datafile again"
        }
    }
}
