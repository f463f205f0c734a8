import EventSpoolCollector
import Foundation
import Testing
@testable import EventSpool

/// Every command in the README runs, so none of them rots: the `sh` blocks are run in order in
/// a temporary folder with the built `eventspool`; the `console` blocks (the test command itself,
/// long runs, benchmarks) are checked to name things that exist; the Swift example is compiled
/// as `ReadmeExample.swift`.
@Suite("README", .serialized)
struct ReadmeTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var readme: String { (try? String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)) ?? "" }

    /// The fenced blocks of `language` in `text` (the README by default), in order.
    static func blocks(_ language: String, in text: String = readme) -> [String] {
        var result: [String] = []
        var current: [Substring]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line == "```\(language)" {
                current = []
            } else if let lines = current, line == "```" {
                result.append(lines.joined(separator: "\n"))
                current = nil
            } else {
                current?.append(line)
            }
        }
        return result
    }

    @Test func readmeOpensWithTheTwoCommands() {
        let firstLines = Self.readme.split(separator: "\n").prefix(8).joined(separator: "\n")
        #expect(firstLines.contains("swift run eventspool demo"))
        #expect(firstLines.contains("swift test --disable-xctest"))
        let ci = (try? String(contentsOf: Self.root.appendingPathComponent(".ci/run"), encoding: .utf8)) ?? ""
        #expect(ci.split(separator: "\n").contains("swift test --disable-xctest"), ".ci/run runs exactly the README's test command")
    }

    @Test func everyShellCommandRuns() async throws {
        let folder = TemporaryFolder()
        let binary = ChildProcess.productsFolder.appendingPathComponent("eventspool").path
        let port = String(Int.random(in: 20_000..<60_000))
        let fixtures = Self.root.appendingPathComponent("Tests/EventSpoolTests/Fixtures").path
        let blocks = Self.blocks("sh")
        #expect(blocks.count >= 4)
        for block in blocks {
            let script = block
                .replacingOccurrences(of: "swift run eventspool", with: "'\(binary)'")
                .replacingOccurrences(of: "Tests/EventSpoolTests/Fixtures", with: fixtures)
                .replacingOccurrences(of: "8787", with: port)
            let result = try await ChildProcess("/bin/bash", ["-euo", "pipefail", "-c", "cd '\(folder.path)' && \(script)"]).finish()
            #expect(result.status == 0, "README block failed:\n\(block)\n\(result.stderr)")
        }
        let stats = try await ChildProcess(binary, ["stats", "--db", folder.file("eventspool-demo.sqlite"), "--json"]).finish()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any])
        #expect(object["pending"] as? Int == 0 && object["inflight"] as? Int == 0)
        #expect(object["dead"] as? Int == 0)
        #expect(FileManager.default.fileExists(atPath: folder.file("requests.jsonl")))
    }

    @Test func consoleCommandsNameThingsThatExist() throws {
        let blocks = Self.blocks("console")
        #expect(blocks.contains("swift test --disable-xctest"))
        let testSources = try FileManager.default.subpathsOfDirectory(atPath: Self.root.appendingPathComponent("Tests").path)
            .filter { $0.hasSuffix(".swift") }
            .map { try String(contentsOf: Self.root.appendingPathComponent("Tests").appendingPathComponent($0), encoding: .utf8) }
            .joined()
        for block in blocks {
            for word in block.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
                if word.hasPrefix("EVENTSPOOL_"), let name = word.split(separator: "=").first {
                    #expect(testSources.contains("\"\(name)\""), "\(name) is read by a test")
                }
            }
            for line in block.split(separator: "\n") {
                guard let filter = line.range(of: "--filter ") else { continue }
                let name = line[filter.upperBound...].prefix { !$0.isWhitespace }
                #expect(testSources.contains("struct \(name)") || testSources.contains("enum \(name)"), "--filter \(name) names a test suite")
            }
            for word in block.split(whereSeparator: { $0 == " " || $0 == "\n" }) where word.hasSuffix(".sh") {
                #expect(FileManager.default.isExecutableFile(atPath: Self.root.appendingPathComponent(String(word)).path), "\(word) exists")
            }
            if block.contains("cd Benchmarks") {
                #expect(FileManager.default.fileExists(atPath: Self.root.appendingPathComponent("Benchmarks/Package.swift").path))
            }
        }
    }

    @Test func embeddingExampleIsTheCompiledOne() throws {
        let example = try #require(Self.blocks("swift").first)
        let compiled = try String(contentsOf: Self.root.appendingPathComponent("Tests/EventSpoolTests/Docs/ReadmeExample.swift"), encoding: .utf8)
        #expect(compiled.contains(example))
        #expect(example.split(separator: "\n").count <= 30)
    }

    /// Every Swift example of the README and of the DocC articles is code the tests compile
    /// (`Docs/*Example*.swift`), so none of them rots; only a manifest excerpt is exempt.
    @Test func everySwiftExampleIsCompiled() throws {
        let docs = Self.root.appendingPathComponent("Tests/EventSpoolTests/Docs")
        let compiled = try FileManager.default.contentsOfDirectory(atPath: docs.path)
            .filter { $0.hasSuffix(".swift") && $0.contains("Example") }
            .map { try String(contentsOf: docs.appendingPathComponent($0), encoding: .utf8) }
        #expect(compiled.count >= 4)
        let catalog = Self.root.appendingPathComponent("Sources/EventSpool/EventSpool.docc")
        let articles = try FileManager.default.contentsOfDirectory(atPath: catalog.path).filter { $0.hasSuffix(".md") }
        #expect(articles.count >= 8)
        var sources = [("README.md", Self.readme)]
        for article in articles {
            sources.append((article, try String(contentsOf: catalog.appendingPathComponent(article), encoding: .utf8)))
        }
        for (name, text) in sources {
            for block in Self.blocks("swift", in: text) where !block.hasPrefix("// Package.swift") {
                #expect(compiled.contains { $0.contains(block) }, "a Swift block of \(name) is not compiled by a test:\n\(block)")
            }
        }
    }

    /// The embedding example runs as a user would run it, on the core's own transport
    /// (URLSession), against the local collector: both events arrive, and the queue says sent.
    @Test func theEmbeddingExampleSendsItsEventsOverURLSession() async throws {
        let folder = TemporaryFolder()
        let collector = try await Collector.start()
        var configuration = HTTPEventDispatcher.Configuration()
        configuration.endpoint = collector.url.absoluteString
        let dispatcher = try HTTPEventDispatcher(configuration: configuration)
        #expect(dispatcher.transport is URLSessionTransport)
        let datafile = String(decoding: try ConformanceFixtures.data("datafile.json"), as: UTF8.self)
        try await trackPurchases(datafile: datafile, queueFile: folder.file("events.sqlite"), dispatcher: dispatcher)
        let received = await collector.requests.compactMap(\.batch)
        #expect(received.flatMap(\.uuids).count == 2)
        let stats = try EventQueue(path: folder.file("events.sqlite")).stats()
        #expect(stats.sent == 2 && stats.pending == 0 && stats.inflight == 0)
        try await dispatcher.shutdown()
        try await collector.shutdown()
    }

    @Test func theDecidingExampleIsTheCompiledOneInTenLines() throws {
        let examples = Self.blocks("swift").filter { $0.contains("decideForAlice") }
        #expect(examples.count == 1)
        let compiled = try String(contentsOf: Self.root.appendingPathComponent("Tests/EventSpoolTests/Docs/DecidingExample.swift"), encoding: .utf8)
        for example in examples {
            #expect(compiled.contains(example))
            #expect(example.split(separator: "\n").count <= 12, "the client in ten lines, with its function's two")
        }
    }
}
