// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "bpstune",
  products: [
    .executable(name: "bpstune", targets: ["bpstune"]),
    .library(name: "BPSTune", targets: ["BPSTune"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
    .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
  ],
  targets: [
    // The thin command-line front end: parse arguments, call the library, map results to exit codes.
    .executableTarget(
      name: "bpstune",
      dependencies: [
        "BPSTune",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    // Everything else: profiles, planning, knobs (one file per kind of setting), snapshots, rendering.
    .target(
      name: "BPSTune",
      dependencies: [
        .product(name: "SystemPackage", package: "swift-system"),
        .product(name: "TOMLKit", package: "TOMLKit"),
      ]
    ),
    // Unit tests on temporary /proc and /sys trees; no root, no kernel changes.
    .testTarget(name: "BPSTuneTests", dependencies: ["BPSTune"]),
    // Real-kernel tests inside network namespaces; run the built bpstune binary as users do.
    .testTarget(name: "HostTierTests", dependencies: ["BPSTune"]),
  ],
  swiftLanguageModes: [.v6]
)
