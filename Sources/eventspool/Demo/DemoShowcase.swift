import EventSpool

/// A few visitors' decisions on each revision the demo ran on, for its summary. They are made
/// with `disableDecisionEvent`, so the showcase queues no event of its own.
struct DemoShowcase {
    /// The visitors shown: one per browser, logged in or not.
    static let visitors = [1, 2, 3, 4]

    private var rows: [(revision: String, decisions: [String])] = []

    /// Records the visitors' decisions on the client's current datafile.
    mutating func record(_ client: OptimizelyClient) {
        let decisions = Self.visitors.map { visitor in
            let attributes = DemoTraffic.attributes(of: visitor)
            let user = client.createUserContext(userId: "visitor-\(visitor)", attributes: attributes)
            let darkMode = user.decide(key: "dark_mode", options: [.disableDecisionEvent])
            let newNav = user.decide(key: "new_nav", options: [.disableDecisionEvent])
            let color = newNav.variables["nav_color"].flatMap { if case .string(let value) = $0 { value } else { nil } } ?? "?"
            let browser = attributes["browser"].flatMap { if case .string(let value) = $0 { value } else { nil } } ?? "?"
            let loggedIn = attributes["is_logged_in"] == .bool(true) ? "logged in" : "anonymous"
            return "visitor-\(visitor) (\(browser), \(loggedIn)): dark_mode \(darkMode.enabled ? "on" : "off") [\(darkMode.ruleKey ?? "no rule")], "
                + "new_nav \(newNav.variationKey ?? "none") (nav_color \(color)) [\(newNav.ruleKey ?? "no rule")]"
        }
        rows.append((client.config?.revision ?? "none", decisions))
    }

    /// The decisions, revision by revision.
    func table() -> String {
        var lines = ["a few decisions, by revision:"]
        for row in rows {
            lines.append("  revision \(row.revision)")
            lines += row.decisions.map { "    " + $0 }
        }
        return lines.joined(separator: "\n")
    }
}
