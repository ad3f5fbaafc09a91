// swift-tools-version: 6.2
import PackageDescription

/// Upcoming features every target builds with, so the whole package reads the same way.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "TwoStep",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "TwoStepCore", targets: ["TwoStepCore"]),
        .library(name: "TwoStepStore", targets: ["TwoStepStore"]),
        .library(name: "TwoStepServer", targets: ["TwoStepServer"]),
        .executable(name: "twostep", targets: ["twostep"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.20.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit.git", from: "2.17.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        .target(
            name: "TwoStepCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TwoStepStore",
            dependencies: [
                "TwoStepCore",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TwoStepServer",
            dependencies: [
                "TwoStepCore",
                "TwoStepStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            // Compiled into the binary (`PackageResources.<file_name>`), so `twostep` alone still deploys.
            resources: [
                .embedInCode("Resources/openapi.json"),
                .embedInCode("Resources/app.css"),
                .embedInCode("Resources/webauthn.js"),
                .embedInCode("Resources/templates"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "twostep",
            dependencies: [
                "TwoStepCore",
                "TwoStepStore",
                "TwoStepServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TwoStepCoreTests",
            dependencies: ["TwoStepCore", "WebAuthnTestSupport", "ChildProcessSupport"],
            swiftSettings: swiftSettings
        ),
        // Starts the programs tests run (twostep, oathtool, the SMTP server) with posix_spawn, not Foundation's
        // Process, whose Linux run() crashes when more than ~1,360 descriptors are open.
        .target(
            name: "ChildProcessSupport",
            path: "Tests/ChildProcessSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ChildProcessSupportTests",
            dependencies: ["ChildProcessSupport"],
            swiftSettings: swiftSettings
        ),
        // A software authenticator that builds the exact bytes a browser sends, for the core's and the server's WebAuthn tests.
        .target(
            name: "WebAuthnTestSupport",
            dependencies: [
                "TwoStepCore", .product(name: "Crypto", package: "swift-crypto"), .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            path: "Tests/WebAuthnTestSupport",
            swiftSettings: swiftSettings
        ),
        // What both the store and the server tests need: which database they run on.
        .target(
            name: "TwoStepTestSupport",
            dependencies: ["TwoStepStore", .product(name: "SQLKit", package: "sql-kit"), .product(name: "Logging", package: "swift-log")],
            path: "Tests/TwoStepTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TwoStepStoreTests",
            dependencies: [
                "TwoStepStore", "TwoStepTestSupport", .product(name: "SQLKit", package: "sql-kit"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TwoStepServerTests",
            dependencies: [
                "TwoStepServer",
                "TwoStepTestSupport",
                "WebAuthnTestSupport",
                "ChildProcessSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "twostepTests",
            dependencies: ["twostep", "TwoStepCore", "ChildProcessSupport"],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
