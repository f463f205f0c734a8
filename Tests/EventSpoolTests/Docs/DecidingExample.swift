// The client example of the README's "Deciding" section, verbatim: it must compile, and
// `ReadmeTests` checks that the README still shows exactly this code.
import EventSpool

func decideForAlice(sdkKey: String, bundledDatafile: String, queueFile: String) async throws {
    let profiles = try SQLiteUserProfileService(path: queueFile)  // sticky bucketing, in the same file
    let client = try OptimizelyClient(source: .sdkKey(sdkKey, datafile: bundledDatafile), queuePath: queueFile, userProfileService: profiles)
    await client.start()  // the worker, and live datafile updates; the bundled datafile serves at once
    let user = client.createUserContext(userId: "alice", attributes: ["browser": "chrome", "age": 31])
    let decision = user.decide(key: "new_nav")  // its impression is in SQLite when this returns
    if decision.enabled, case .string(let color)? = decision.variables["nav_color"] { print(color) }
    user.trackEvent(eventKey: "purchase", eventTags: ["revenue": 1999])
    await client.close()  // stops polling, then sends what is pending (waiting at most timeoutInterval)
}
