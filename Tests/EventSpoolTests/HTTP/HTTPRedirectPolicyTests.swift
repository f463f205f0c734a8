import Testing
@testable import EventSpool

/// The one redirect rule every transport follows, as plain values.
@Suite("HTTP redirect rule")
struct HTTPRedirectPolicyTests {
    static let get = HTTPRequest(
        url: "https://cdn.optimizely.com/datafiles/KEY.json",
        headers: [HTTPHeader(name: "If-Modified-Since", value: "Tue"), HTTPHeader(name: "Authorization", value: "Bearer T")]
    )

    @Test(arguments: [301, 302, 303, 307, 308])
    func everyRedirectStatusIsFollowedWhenAsked(status: Int) {
        let next = HTTPRedirectPolicy.follow().nextRequest(after: Self.get, status: status, location: "/datafiles/other.json", redirectsSoFar: 0)
        #expect(next?.url == "https://cdn.optimizely.com/datafiles/other.json")
        #expect(next?.method == "GET")
        #expect(next?.headers == Self.get.headers)
    }

    @Test(arguments: [200, 300, 304, 305, 404, 500])
    func otherStatusesAreTheAnswer(status: Int) {
        #expect(HTTPRedirectPolicy.follow().nextRequest(after: Self.get, status: status, location: "/x", redirectsSoFar: 0) == nil)
    }

    @Test func refuseFollowsNothingAndARedirectWithoutLocationIsTheAnswer() {
        #expect(HTTPRedirectPolicy.refuse.nextRequest(after: Self.get, status: 302, location: "/x", redirectsSoFar: 0) == nil)
        #expect(HTTPRedirectPolicy.follow().nextRequest(after: Self.get, status: 302, location: nil, redirectsSoFar: 0) == nil)
    }

    @Test func theLimitCountsRedirectsSoFar() {
        let policy = HTTPRedirectPolicy.follow(maxRedirects: 2)
        #expect(policy.nextRequest(after: Self.get, status: 302, location: "/x", redirectsSoFar: 1) != nil)
        #expect(policy.nextRequest(after: Self.get, status: 302, location: "/x", redirectsSoFar: 2) == nil)
    }

    @Test func aRelativeLocationIsResolvedAgainstTheRequest() {
        let next = HTTPRedirectPolicy.follow().nextRequest(after: Self.get, status: 302, location: "v2/KEY.json?a=1", redirectsSoFar: 0)
        #expect(next?.url == "https://cdn.optimizely.com/datafiles/v2/KEY.json?a=1")
    }

    @Test func plainHTTPToAnotherHostIsNotFollowedUnlessAllowed() {
        let location = "http://cdn.example.com/KEY.json"
        #expect(HTTPRedirectPolicy.follow().nextRequest(after: Self.get, status: 302, location: location, redirectsSoFar: 0) == nil)
        #expect(HTTPRedirectPolicy.follow(allowInsecureHTTP: true).nextRequest(after: Self.get, status: 302, location: location, redirectsSoFar: 0) != nil)
        #expect(HTTPRedirectPolicy.follow().nextRequest(after: Self.get, status: 302, location: "http://127.0.0.1:8787/KEY.json", redirectsSoFar: 0) != nil)
        #expect(HTTPRedirectPolicy.follow().nextRequest(after: Self.get, status: 302, location: "ftp://cdn.optimizely.com/x", redirectsSoFar: 0) == nil)
    }

    @Test func aPostBecomesAGetOn303AndOn301Or302ButKeepsItsBodyOn307And308() {
        let post = HTTPRequest(method: "POST", url: "https://logx.optimizely.com/v1/events",
                               headers: [HTTPHeader(name: "Content-Type", value: "application/json")], body: Array("{}".utf8))
        for status in [301, 302, 303] {
            let next = HTTPRedirectPolicy.follow().nextRequest(after: post, status: status, location: "/v2/events", redirectsSoFar: 0)
            #expect(next?.method == "GET" && next?.body == [] && next?.headers == [])
        }
        for status in [307, 308] {
            let next = HTTPRedirectPolicy.follow().nextRequest(after: post, status: status, location: "/v2/events", redirectsSoFar: 0)
            #expect(next?.method == "POST" && next?.body == post.body && next?.headers == post.headers)
        }
    }

    @Test(arguments: [
        ("https://cdn.optimizely.com/b", true),
        ("https://cdn.optimizely.com:443/b", true),
        ("https://CDN.optimizely.com/b", true),
        ("https://cdn.optimizely.com:8443/b", false),
        ("https://other.optimizely.com/b", false),
        ("http://127.0.0.1/b", false),
    ])
    func credentialsGoOnlyToTheSameHostAndPort(location: String, keeps: Bool) {
        let next = HTTPRedirectPolicy.follow(allowInsecureHTTP: true).nextRequest(after: Self.get, status: 302, location: location, redirectsSoFar: 0)
        #expect(next?.header("Authorization") == (keeps ? "Bearer T" : nil))
        #expect(next?.header("If-Modified-Since") == "Tue")
    }

    @Test func anUpgradeFromHTTPToHTTPSOnTheSameHostKeepsCredentials() {
        let plain = HTTPRequest(url: "http://cdn.optimizely.com/a", headers: [HTTPHeader(name: "Authorization", value: "Bearer T")])
        let next = HTTPRedirectPolicy.follow(allowInsecureHTTP: true).nextRequest(after: plain, status: 301, location: "https://cdn.optimizely.com/a", redirectsSoFar: 0)
        #expect(next?.header("Authorization") == "Bearer T")
    }
}
