import EventSpool
import Testing

@Suite("Datafile polling settings")
struct DatafilePollingSettingsTests {
    @Test func theDefaultsAreTheReferences() throws {
        let resolved = try DatafilePollingSettings(sdkKey: "KEY").resolved()
        #expect(resolved.url == "https://cdn.optimizely.com/datafiles/KEY.json")
        #expect(resolved.pollingIntervalMillis == 300_000)
        #expect(resolved.blockingTimeoutMillis == 10_000)
        #expect(resolved.requestTimeoutMillis == 10_000)
        #expect(resolved.settings.maxRetries == 3)
        #expect(resolved.warnings.isEmpty)
    }

    @Test func anAccessTokenSwitchesToTheAuthenticatedURL() throws {
        let resolved = try DatafilePollingSettings(sdkKey: "KEY", accessToken: "token").resolved()
        #expect(resolved.url == "https://config.optimizely.com/datafiles/auth/KEY.json")
    }

    @Test func aTemplateOfOurOwnWinsOverTheAuthenticatedDefault() throws {
        let resolved = try DatafilePollingSettings(sdkKey: "KEY", accessToken: "token", urlTemplate: "https://mirror.example/{sdk_key}").resolved()
        #expect(resolved.url == "https://mirror.example/KEY")
    }

    @Test func anEmptyAccessTokenIsAnError() {
        #expect(throws: DatafileSettingsError.emptyAccessToken) { try DatafilePollingSettings(sdkKey: "KEY", accessToken: "").resolved() }
    }

    @Test(arguments: [
        ("https://cdn.example/{sdk_key}.json", "https://cdn.example/AB-c_9.json"),
        ("https://cdn.example/{sdk_key}/{sdk_key}", "https://cdn.example/AB-c_9/AB-c_9"),
        ("https://cdn.example/fixed.json", "https://cdn.example/fixed.json"),
        ("https://cdn.example/{{literal}}/{sdk_key}", "https://cdn.example/{literal}/AB-c_9"),
    ])
    func theKeyReplacesItsFieldAndATemplateWithoutItIsVerbatim(template: String, url: String) throws {
        #expect(try DatafileURLTemplate.url(template: template, sdkKey: "AB-c_9") == url)
    }

    @Test(arguments: [
        ("https://cdn.example/{key}.json", "key"),
        ("https://cdn.example/{sdk_key}/{env}", "env"),
        ("https://cdn.example/{}.json", ""),
        ("https://cdn.example/{sdk_key:>5}.json", "sdk_key:>5"),
    ])
    func aTemplateWithAnotherFieldIsAnError(template: String, field: String) {
        #expect(throws: DatafileSettingsError.unknownTemplateField(template: template, field: field)) {
            try DatafileURLTemplate.url(template: template, sdkKey: "KEY")
        }
    }

    @Test(arguments: ["https://cdn.example/{sdk_key", "https://cdn.example/sdk_key}", "https://cdn.example/{a{sdk_key}}"])
    func anUnmatchedBraceIsAnError(template: String) {
        #expect(throws: DatafileSettingsError.unbalancedBrace(template: template)) {
            try DatafileURLTemplate.url(template: template, sdkKey: "KEY")
        }
    }

    @Test func anEmptyKeyIsAnErrorOnlyWhenTheTemplateUsesIt() throws {
        #expect(throws: DatafileSettingsError.emptySDKKey(template: DatafilePollingSettings.Defaults.urlTemplate)) {
            try DatafilePollingSettings(sdkKey: "").resolved()
        }
        #expect(try DatafilePollingSettings(sdkKey: "", urlTemplate: "https://mirror.example/datafile.json").resolved().url == "https://mirror.example/datafile.json")
    }

    @Test func theErrorSaysWhatIsWrongAndHowToFixIt() {
        let error = DatafileSettingsError.unknownTemplateField(template: "https://x/{key}", field: "key")
        #expect(error.description == "the datafile URL template https://x/{key} has an unknown field {key}; only {sdk_key} is replaced (write {{ and }} for literal braces)")
    }

    @Test(arguments: [
        "http://127.0.0.1:8787/datafiles/{sdk_key}.json",
        "http://localhost/datafiles/{sdk_key}.json",
        "http://[::1]:9000/datafiles/{sdk_key}.json",
        "https://example.com/{sdk_key}.json",
    ])
    func plainHTTPIsAllowedOnlyToLoopback(template: String) throws {
        _ = try DatafilePollingSettings(sdkKey: "KEY", urlTemplate: template).resolved()
    }

    @Test func plainHTTPToAnotherHostIsRefusedUnlessAllowed() throws {
        var settings = DatafilePollingSettings(sdkKey: "KEY", urlTemplate: "http://example.com/{sdk_key}.json")
        #expect(throws: DatafileSettingsError.unusableURL(url: "http://example.com/KEY.json", problem: .plainHTTPToRemoteHost)) {
            try settings.resolved()
        }
        settings.allowInsecureHTTP = true
        #expect(try settings.resolved().url == "http://example.com/KEY.json")
    }

    @Test(arguments: ["ftp://example.com/{sdk_key}", "/datafiles/{sdk_key}.json", "https:///{sdk_key}"])
    func aURLThatIsNotAbsoluteHTTPIsRefused(template: String) {
        #expect(throws: DatafileSettingsError.self) { try DatafilePollingSettings(sdkKey: "KEY", urlTemplate: template).resolved() }
    }

    @Test(arguments: [0.0, -5, .nan, .infinity, -.infinity])
    func anInvalidIntervalFallsBackToTheDefaultWithAWarning(value: Double) throws {
        var settings = DatafilePollingSettings(sdkKey: "KEY")
        settings.pollingInterval = value
        let resolved = try settings.resolved()
        #expect(resolved.pollingIntervalMillis == 300_000)
        #expect(resolved.warnings == [.invalidValue(setting: "pollingInterval", value: "\(value)", default: "300.0")])
    }

    @Test func anIntervalBelowThirtySecondsIsKeptWithAWarning() throws {
        var settings = DatafilePollingSettings(sdkKey: "KEY")
        settings.pollingInterval = 5
        let resolved = try settings.resolved()
        #expect(resolved.pollingIntervalMillis == 5_000)
        #expect(resolved.warnings == [.intervalBelowRecommended(seconds: 5)])
        #expect(resolved.warnings.first?.description == "polling interval 5.0 s: polling intervals below 30 seconds are not recommended")
        settings.pollingInterval = 30
        #expect(try settings.resolved().warnings.isEmpty)
    }

    @Test func aBlockingTimeoutOfZeroIsAllowedANegativeOneFallsBack() throws {
        var settings = DatafilePollingSettings(sdkKey: "KEY")
        settings.blockingTimeout = 0
        #expect(try settings.resolved().blockingTimeoutMillis == 0)
        #expect(try settings.resolved().warnings.isEmpty)
        settings.blockingTimeout = -1
        #expect(try settings.resolved().blockingTimeoutMillis == 10_000)
        #expect(try settings.resolved().warnings == [.invalidValue(setting: "blockingTimeout", value: "-1.0", default: "10.0")])
    }

    @Test func otherInvalidNumbersFallBackWithAWarningEach() throws {
        var settings = DatafilePollingSettings(sdkKey: "KEY")
        settings.requestTimeout = 0
        settings.maxRetries = -1
        settings.retryBaseDelay = .nan
        settings.retryMaxDelay = -2
        let resolved = try settings.resolved()
        #expect(resolved.settings.requestTimeout == 10)
        #expect(resolved.settings.maxRetries == 3)
        #expect(resolved.settings.retryBaseDelay == 0.5)
        #expect(resolved.settings.retryMaxDelay == 4)
        #expect(resolved.warnings.map { if case .invalidValue(let setting, _, _) = $0 { setting } else { "" } } == [
            "requestTimeout", "maxRetries", "retryBaseDelay", "retryMaxDelay",
        ])
    }

    @Test func aHugeIntervalDoesNotOverflowTheSchedule() throws {
        var settings = DatafilePollingSettings(sdkKey: "KEY")
        settings.pollingInterval = 1e300
        var poller = DatafilePollingStateMachine(try settings.resolved())
        _ = poller.start(nowMillis: 1_700_000_000_000)
        let actions = poller.transportFailed("refused", nowMillis: 1_700_000_000_000, jitter: 0)
        #expect(actions.count == 2)
        #expect((poller.nextFetchAtMillis ?? 0) >= 1_700_000_000_000)
    }
}

@Suite("HTTP dates and the loopback rule")
struct HTTPSharedRulesTests {
    @Test func anHTTPDateIsWrittenAndReadBack() {
        #expect(HTTPDate.string(millis: 784_111_777_000) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.string(millis: 1_700_000_000_999) == "Tue, 14 Nov 2023 22:13:20 GMT")
        #expect(HTTPDate.string(millis: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.string(millis: 951_782_400_000) == "Tue, 29 Feb 2000 00:00:00 GMT")
        for seconds in stride(from: Int64(0), to: 4_000_000_000, by: 86_399_937) {
            #expect(HTTPDate.millis(HTTPDate.string(millis: seconds * 1000)) == seconds * 1000)
        }
    }

    @Test(arguments: ["Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "yesterday", "", "Sun, 06 Nov 1994 25:00:00 GMT"])
    func anUnreadableHTTPDateIsNil(text: String) {
        #expect(HTTPDate.millis(text) == nil)
    }

    @Test(arguments: [("localhost", true), ("127.0.0.1", true), ("127.10.20.30", true), ("[::1]", true), ("::1", true), ("LOCALHOST", true),
                      ("128.0.0.1", false), ("127.0.0", false), ("127.0.0.256", false), ("example.com", false), ("127.0.0.1.example.com", false)])
    func loopbackHostsAreThisMachineOnly(host: String, loopback: Bool) {
        #expect(SecureURLRule.isLoopback(host: host) == loopback)
    }
}
