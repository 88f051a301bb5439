// swift-tools-version:6.0
import PackageDescription

// TOMLKit imports Foundation (for its Date and Data), and without this a dependency's import
// makes Foundation's String and Data extensions visible to every file: bpstune would call them
// without saying so and link Foundation, and with it ICU's 34 MB. Each file sees what it imports.
let onlyWhatIsImported: [SwiftSetting] = [.enableUpcomingFeature("MemberImportVisibility")]

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
    // The latency probe's percentiles (HdrHistogram); no Foundation.
    .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
  ],
  targets: [
    // The thin command-line front end: parse arguments, call the library, map results to exit codes.
    .executableTarget(
      name: "bpstune",
      dependencies: [
        "BPSTune",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: onlyWhatIsImported
    ),
    // Everything else: profiles, planning, knobs (one file per kind of setting), snapshots, rendering.
    .target(
      name: "BPSTune",
      dependencies: [
        .product(name: "SystemPackage", package: "swift-system"),
        .product(name: "TOMLKit", package: "TOMLKit"),
        .product(name: "Histogram", package: "hdrhistogram-swift"),
        "CLinux",
        "CNetlink",
      ],
      swiftSettings: onlyWhatIsImported
    ),
    // The kernel's uapi headers (linux/ethtool.h, linux/sockios.h) as a Swift module.
    .systemLibrary(name: "CLinux", path: "Sources/CLinux"),
    // libnl-genl-3 (generic netlink), found with pkg-config; Debian's libnl-genl-3-dev.
    .systemLibrary(
      name: "CNetlink", path: "Sources/CNetlink", pkgConfig: "libnl-genl-3.0",
      providers: [.apt(["libnl-3-dev", "libnl-genl-3-dev"])]),
    // Fixtures shared by the test suites: temporary trees, subprocesses, network namespaces.
    .target(name: "TestSupport", path: "Tests/TestSupport"),
    // Unit tests on temporary /proc and /sys trees; no kernel changes.
    .testTarget(
      name: "BPSTuneTests",
      dependencies: [
        "BPSTune", "TestSupport", "CLinux", .product(name: "SystemPackage", package: "swift-system"),
        .product(name: "Histogram", package: "hdrhistogram-swift"),
      ]),
    // libFuzzer targets for the profile loader and the snapshot reader (`make fuzz`); built
    // normally, a replayer of files through the same checks.
    .executableTarget(
      name: "bpstune-fuzz", dependencies: ["BPSTune"], path: "Tests/Fuzz", exclude: ["profile.dict", "snapshot.dict"]),
    // Real-kernel tests inside network namespaces; run the built bpstune binary as users do,
    // and check every value with tools independent of bpstune (cat, ethtool, strace, flock).
    .testTarget(name: "HostTierTests", dependencies: ["TestSupport"]),
  ],
  swiftLanguageModes: [.v6]
)
