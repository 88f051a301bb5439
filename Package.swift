// swift-tools-version:6.0
import PackageDescription

// TOMLKit imports Foundation (for its Date and Data), and without this a dependency's import
// makes Foundation's String and Data extensions visible to every file: bpstune would call them
// without saying so and link Foundation, and with it ICU's 34 MB. Each file sees what it imports.
let onlyWhatIsImported: [SwiftSetting] = [.enableUpcomingFeature("MemberImportVisibility")]

let package = Package(
  name: "bpstune",
  products: [
    .executable(name: "bpstune", targets: ["bpstune"])
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
    .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    // The latency probe's percentiles (HdrHistogram); no Foundation.
    .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    // Already there for HdrHistogram; the probe's chart takes its logarithms from RealModule.
    .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
  ],
  // The layers (docs/architecture.md), each a target the compiler keeps apart: a target sees only
  // the targets it names, so a lower layer cannot reach a higher one.
  //
  //   bpstune (CLI) -> BPSTunePersistence, BPSTuneProbe -> BPSTuneCore -> BPSTuneKernel -> CLinux, CNetlink
  targets: [
    // The thin command-line front end: parse arguments, call the library, print, map results to
    // exit codes.
    .executableTarget(
      name: "bpstune",
      dependencies: [
        "BPSTuneCore", "BPSTunePersistence", "BPSTuneProbe", "BPSTuneKernel",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: onlyWhatIsImported
    ),
    // The kernel layer: every system call (files, ioctls, netlink, scheduling, sockets), and the
    // only target that imports the C modules.
    .target(
      name: "BPSTuneKernel",
      dependencies: [.product(name: "SystemPackage", package: "swift-system"), "CLinux", "CNetlink"],
      swiftSettings: onlyWhatIsImported
    ),
    // The pipeline: profiles, the model of settings, knobs (one file per kind of setting), the
    // plan, apply and rollback, snapshots and their history, and the reports of these.
    .target(
      name: "BPSTuneCore",
      dependencies: [
        "BPSTuneKernel",
        .product(name: "SystemPackage", package: "swift-system"),
        .product(name: "TOMLKit", package: "TOMLKit"),
      ],
      swiftSettings: onlyWhatIsImported
    ),
    // Persistence under systemd and udev: enable's record and pinned copy, the units, the boot,
    // hot-plug and drift-check workflows, status.
    .target(
      name: "BPSTunePersistence",
      dependencies: ["BPSTuneCore", "BPSTuneKernel"],
      swiftSettings: onlyWhatIsImported
    ),
    // The latency probe: server, client, compare (through the core's apply and rollback), its
    // reports; the only target that links HdrHistogram.
    .target(
      name: "BPSTuneProbe",
      dependencies: [
        "BPSTuneCore", "BPSTuneKernel",
        .product(name: "Histogram", package: "hdrhistogram-swift"),
        .product(name: "RealModule", package: "swift-numerics"),
      ],
      swiftSettings: onlyWhatIsImported
    ),
    // The kernel's uapi headers (linux/ethtool.h, linux/sockios.h) as a Swift module.
    .systemLibrary(name: "CLinux", path: "Sources/CLinux"),
    // libnl-genl-3 (generic netlink), found with pkg-config; Debian's libnl-genl-3-dev.
    .systemLibrary(
      name: "CNetlink", path: "Sources/CNetlink", pkgConfig: "libnl-genl-3.0",
      providers: [.apt(["libnl-3-dev", "libnl-genl-3-dev"])]),
    // What both test targets share, and no bpstune code: temporary trees, the fake kernel tree,
    // subprocesses, network namespaces, what a test needs of the host.
    .target(name: "TestSupport", path: "Tests/TestSupport"),
    // Unit tests of the library on temporary /proc and /sys trees (fakes of the kernel's
    // interfaces in Fixtures/); no kernel changes, no binary run.
    .testTarget(
      name: "BPSTuneTests",
      dependencies: [
        "BPSTuneKernel", "BPSTuneCore", "BPSTunePersistence", "BPSTuneProbe", "TestSupport", "CLinux",
        .product(name: "SystemPackage", package: "swift-system"),
        .product(name: "Histogram", package: "hdrhistogram-swift"),
      ],
      // init's golden profiles, read by InitTests from beside its source (#filePath), not bundled.
      exclude: ["Fixtures/init"]),
    // libFuzzer targets for the profile loader and the snapshot reader (`make fuzz`); built
    // normally, a replayer of files through the same checks.
    .executableTarget(
      name: "bpstune-fuzz", dependencies: ["BPSTuneCore", "BPSTuneKernel"], path: "Tests/Fuzz",
      exclude: ["profile.dict", "snapshot.dict"]),
    // End-to-end tests: the built bpstune binary run as users run it (Run.bpstune, beside the
    // test bundle), never the library. Depending on the executable makes the build of these tests
    // build the binary they run. HostTier/: real-kernel tests inside network namespaces (root),
    // every value checked with tools independent of bpstune (cat, ethtool, strace, flock); the
    // others on temporary /proc and /sys trees (--root) or none: the hostile-input corpus, the
    // help text, a run stopped while it waits for the lock.
    .testTarget(name: "EndToEndTests", dependencies: ["bpstune", "TestSupport"]),
  ],
  swiftLanguageModes: [.v6]
)
