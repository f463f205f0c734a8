// The client example of the README's "Deciding" section, verbatim: it must compile, and
// `ReadmeTests` checks that the README still shows exactly this code.
import EventSpool

func decideForAlice(datafile: String, queueFile: String) async throws {
    let processor = try BatchEventProcessor(queuePath: queueFile)
    processor.start()
    let profiles = try SQLiteUserProfileService(path: queueFile)  // sticky bucketing, in the same file
    let client = try OptimizelyClient(datafile: datafile, eventProcessor: processor, userProfileService: profiles)
    let user = client.createUserContext(userId: "alice", attributes: ["browser": "chrome", "age": 31])
    let decision = user.decide(key: "new_nav")  // its impression is in SQLite when this returns
    if decision.enabled, case .string(let color)? = decision.variables["nav_color"] { print(color) }
    user.trackEvent(eventKey: "purchase", eventTags: ["revenue": 1999])
    await processor.stop()
}
