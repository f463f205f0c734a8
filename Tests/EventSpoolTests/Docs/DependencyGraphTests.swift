import Foundation
import Testing

/// The core product stays free of networking stacks (issue 13): a package that depends only on
/// `EventSpool` compiles SQLite's module map, swift-log and swift-metrics, and nothing of SwiftNIO,
/// AsyncHTTPClient or BoringSSL. Read from the manifests (`swift package dump-package`, no
/// build) and from the core's sources, so that nobody adds NIO back by accident.
@Suite("The core's dependency graph")
struct DependencyGraphTests {
    static let root = ReadmeTests.root
    /// What the core target may depend on: the system SQLite, and two packages with no
    /// dependencies of their own.
    static let allowedPackages = ["swift-log": "Logging", "swift-metrics": "CoreMetrics"]

    /// `swift package dump-package` of the package at `folder`, as JSON.
    static func manifest(_ folder: URL) async throws -> [String: Any] {
        // A scratch folder of its own: the build's `.build` is locked while the tests run.
        let scratch = TemporaryFolder()
        let result = try await ChildProcess(
            "/usr/bin/env", ["swift", "package", "--package-path", folder.path, "--scratch-path", scratch.path, "dump-package"]
        ).finish()
        #expect(result.status == 0, "dump-package failed: \(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    static func target(_ name: String, in manifest: [String: Any]) -> [String: Any]? {
        (manifest["targets"] as? [[String: Any]])?.first { $0["name"] as? String == name }
    }

    @Test func theCoreProductIsTheCoreTargetOnSQLiteSwiftLogAndSwiftMetrics() async throws {
        let manifest = try await Self.manifest(Self.root)
        let products = manifest["products"] as? [[String: Any]] ?? []
        let core = try #require(products.first { $0["name"] as? String == "EventSpool" })
        #expect(core["targets"] as? [String] == ["EventSpool"])
        let dependencies = try #require(Self.target("EventSpool", in: manifest)?["dependencies"] as? [[String: Any]])
        var named: [String] = []
        var packageProducts: [String: String] = [:]
        for dependency in dependencies {
            if let byName = dependency["byName"] as? [Any], let name = byName.first as? String {
                named.append(name)
            } else if let product = dependency["product"] as? [Any], let name = product[0] as? String, let package = product[1] as? String {
                packageProducts[package] = name
            } else {
                Issue.record("an unexpected kind of dependency of the core: \(dependency)")
            }
        }
        #expect(named == ["CSQLite"], "the core's own targets: the system SQLite's module map only")
        #expect(packageProducts == Self.allowedPackages, "the core's packages: swift-log and swift-metrics only; got \(packageProducts)")
        let sqlite = try #require(Self.target("CSQLite", in: manifest))
        #expect(sqlite["type"] as? String == "system")
    }

    @Test(arguments: ["swift-log", "swift-metrics"])
    func theCoresPackagesBringNoOtherPackage(package: String) async throws {
        // Their checkouts, next to the build's products (.build/checkouts).
        let checkouts = ChildProcess.productsFolder.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("checkouts")
        let folder = checkouts.appendingPathComponent(package)
        try #require(FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path), "no checkout of \(package) at \(folder.path)")
        let manifest = try await Self.manifest(folder)
        #expect((manifest["dependencies"] as? [Any])?.isEmpty == true, "\(package) now depends on other packages")
        let product = try #require(Self.allowedPackages[package])
        #expect((Self.target(product, in: manifest)?["dependencies"] as? [Any])?.isEmpty == true)
    }

    @Test func theCoresSourcesImportNoNetworkingStack() throws {
        let allowed: Set<String> = ["Foundation", "FoundationNetworking", "Dispatch", "CSQLite", "Logging", "CoreMetrics"]
        let folder = Self.root.appendingPathComponent("Sources/EventSpool")
        let files = try FileManager.default.subpathsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".swift") }
        #expect(files.count > 50)
        for file in files {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ")
                guard let index = words.firstIndex(of: "import"), index <= 2, index + 1 < words.count,
                      words[..<index].allSatisfy({ $0.hasPrefix("@") || ["public", "package", "internal"].contains($0) })
                else { continue }
                let module = String(words[index + 1].split(separator: ".")[0])
                #expect(allowed.contains(module), "Sources/EventSpool/\(file) imports \(module)")
            }
        }
    }
}
