// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "EventSpool",
    // The Apple systems that ship the Swift 6 runtime: the code is Swift 6 (typed throws; Mutex
    // in the command and the tests). Declared, not built here: the project is built and tested
    // on Linux; see the README's "Platforms".
    platforms: [.macOS(.v15), .iOS(.v18), .tvOS(.v18), .watchOS(.v11), .visionOS(.v2)],
    products: [
        // The core: queue, processor, payload, datafile, client, and the URLSession transport, on
        // swift-log and swift-metrics only: no SwiftNIO, no AsyncHTTPClient (a test guards the
        // graph).
        .library(name: "EventSpool", targets: ["EventSpool"]),
        // The AsyncHTTPClient transport, for servers.
        .library(name: "EventSpoolAsyncHTTPClient", targets: ["EventSpoolAsyncHTTPClient"]),
        // BatchEventProcessor as a swift-service-lifecycle Service.
        .library(name: "EventSpoolServiceLifecycle", targets: ["EventSpoolServiceLifecycle"]),
        .executable(name: "eventspool", targets: ["eventspool"]),
        .library(name: "EventSpoolCollector", targets: ["EventSpoolCollector"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // `swift package generate-documentation --target EventSpool`: a command plugin, built only
        // when it is run.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // The system SQLite (Debian's libsqlite3-dev). No SQLite package is linked, so an app
        // that embeds EventSpool keeps its own choice of SQLite wrapper.
        .systemLibrary(
            name: "CSQLite",
            providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]
        ),
        // Turns Migrations/NNNN_name.sql into Swift string constants at build time.
        .executableTarget(name: "MigrationsCodegen"),
        .plugin(
            name: "MigrationsPlugin",
            capability: .buildTool(),
            dependencies: ["MigrationsCodegen"]
        ),
        .target(
            name: "EventSpool",
            dependencies: [
                "CSQLite",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            plugins: ["MigrationsPlugin"]
        ),
        .target(
            name: "EventSpoolAsyncHTTPClient",
            dependencies: [
                "EventSpool",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "EventSpoolServiceLifecycle",
            dependencies: [
                "EventSpool",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // A local stand-in for the Optimizely Events API, a product of its own for users' tests. It
        // reads JSON with the library's parser, so there is one way to parse JSON in the project.
        .target(
            name: "EventSpoolCollector",
            dependencies: [
                "EventSpool",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "eventspool",
            dependencies: [
                "EventSpool",
                "EventSpoolAsyncHTTPClient",
                "EventSpoolServiceLifecycle",
                "EventSpoolCollector",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // A child process for the crash tests: does queue work and is killed with SIGKILL.
        .executableTarget(
            name: "EventSpoolTestHelper",
            dependencies: ["EventSpool"]
        ),
        .testTarget(
            name: "EventSpoolTests",
            dependencies: [
                "EventSpool", "EventSpoolAsyncHTTPClient", "EventSpoolServiceLifecycle", "EventSpoolCollector",
                "eventspool", "EventSpoolTestHelper",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
