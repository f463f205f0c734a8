// swift-tools-version: 6.1
// EventSpool's benchmarks, a package of their own so that `swift test` in the project never
// builds the benchmark harness. Run from this folder: `swift package --disable-sandbox benchmark`.
import PackageDescription

let package = Package(
    name: "EventSpoolBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "EventSpool", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        benchmark("QueueBenchmarks"),
        benchmark("PayloadBenchmarks"),
        benchmark("DecisionBenchmarks"),
        benchmark("PipelineBenchmarks", also: [
            .product(name: "EventSpoolCollector", package: "EventSpool"),
            .product(name: "EventSpoolAsyncHTTPClient", package: "EventSpool"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)

/// A benchmark executable of `Benchmarks/NAME`, on EventSpool and the benchmark harness.
func benchmark(_ name: String, also dependencies: [Target.Dependency] = []) -> Target {
    .executableTarget(
        name: name,
        dependencies: [
            .product(name: "EventSpool", package: "EventSpool"),
            .product(name: "Benchmark", package: "benchmark"),
        ] + dependencies,
        path: "Benchmarks/\(name)",
        plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    )
}
