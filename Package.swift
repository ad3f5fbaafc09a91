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
        .executable(name: "twostep", targets: ["twostep"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
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
        .executableTarget(
            name: "twostep",
            dependencies: [
                "TwoStepCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TwoStepCoreTests",
            dependencies: ["TwoStepCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "twostepTests",
            dependencies: ["twostep", "TwoStepCore"],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
