// swift-tools-version: 6.1
// EventSpool's benchmarks, a package of their own so that `swift test` in the project never
// builds the benchmark harness. Run from this folder: `swift package --disable-sandbox benchmark`.
import PackageDescription

let package = Package(
    name: "EventSpoolBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "EventSpool", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "QueueBenchmarks",
            dependencies: [
                .product(name: "EventSpool", package: "EventSpool"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/QueueBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "PayloadBenchmarks",
            dependencies: [
                .product(name: "EventSpool", package: "EventSpool"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/PayloadBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "PipelineBenchmarks",
            dependencies: [
                .product(name: "EventSpool", package: "EventSpool"),
                .product(name: "EventSpoolCollector", package: "EventSpool"),
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Benchmarks/PipelineBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
