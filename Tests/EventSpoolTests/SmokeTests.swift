import Testing
@testable import EventSpool

@Test func bundledMigrationsAreNumberedFromOne() {
    #expect(Migration.bundled.map(\.version) == Array(1...Migration.bundled.count))
}
