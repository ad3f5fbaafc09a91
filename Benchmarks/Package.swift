// swift-tools-version: 6.2
// Benchmarks, run by hand (never in CI's timing): `swift run -c release --package-path Benchmarks otp-benchmark`.
import PackageDescription

let package = Package(
    name: "TwoStepBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "..")
    ],
    targets: [
        .executableTarget(
            name: "otp-benchmark",
            dependencies: [.product(name: "TwoStepCore", package: "main")],
            path: "Sources/OTPBenchmark"
        )
    ],
    swiftLanguageModes: [.v6]
)
