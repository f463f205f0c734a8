/// The datafile routes: `GET /datafiles/{sdk_key}.json` (a public datafile) and
/// `GET /datafiles/auth/{sdk_key}.json` (an authenticated one, with
/// `Authorization: Bearer TOKEN`), as the Optimizely CDN and config service serve them.
public struct DatafileRoute: Sendable, Hashable {
    /// The SDK key named by the path.
    public var sdkKey: String
    /// Whether it is the authenticated route.
    public var authenticated: Bool

    /// The path prefix of every datafile route.
    public static let prefix = "/datafiles/"

    /// The template of the public route's path.
    public static let pathTemplate = "/datafiles/{sdk_key}.json"
    /// The template of the authenticated route's path.
    public static let authenticatedPathTemplate = "/datafiles/auth/{sdk_key}.json"

    /// Whether the collector sends `path` to the datafile routes: it starts with
    /// `/datafiles/` and is not an events path (which any path ending in `/v1/events` is).
    static func claims(_ path: String) -> Bool {
        path.hasPrefix(prefix) && !RequestValidation.isEventsPath(path)
    }

    /// The route `path` names (its query string aside), or `nil` when it names none.
    public init?(path: String) {
        let route = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard route.hasPrefix(Self.prefix), route.hasSuffix(".json") else { return nil }
        var name = route.dropFirst(Self.prefix.count).dropLast(".json".count)
        authenticated = name.hasPrefix("auth/")
        if authenticated { name = name.dropFirst("auth/".count) }
        guard !name.isEmpty, !name.contains("/") else { return nil }
        sdkKey = String(name)
    }
}
