// swift-tools-version: 6.1
// Host side of the exokernel project: the ABI (also compiled into the kernel
// and user images by `exo build`), the SMT layer, the QEMU harness and the
// `exo` command-line tool. The kernel itself lives in `kernel/` and is built
// by `exo build` with the Embedded Swift toolchain, not by SwiftPM.
import PackageDescription

/// The differential tester's host side (the generator, the concrete spec,
/// the digests) is compiled optimized in debug builds too, so that
/// `swift run exo difftest` compares thousands of calls per second.
let optimized: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
  name: "Exokernel",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "exo", targets: ["exo"]),
    .executable(name: "exoverify", targets: ["exoverify"]),
    .library(name: "ExoABI", targets: ["ExoABI"]),
    .library(name: "SMT", targets: ["SMT"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
  ],
  targets: [
    .target(name: "ExoABI", swiftSettings: optimized),
    .systemLibrary(
      name: "CZ3", path: "Sources/CZ3", pkgConfig: "z3",
      providers: [.apt(["libz3-dev"])]),
    .target(name: "SMT", dependencies: ["CZ3"]),
    .target(name: "ExoHarness", dependencies: ["ExoABI"]),
    .target(
      name: "ExoSpec", dependencies: ["ExoABI", "SMT"], path: "specs", exclude: ["samples"],
      swiftSettings: optimized),
    .executableTarget(
      name: "exo",
      dependencies: [
        "ExoHarness", "ExoABI", "ExoSpec", "ExoDiff", "ExoVerify", "LibOS", "LibOSHost",
        "LibOSPrograms",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    .target(
      name: "ExoProofs", dependencies: ["ExoABI", "ExoSpec"], path: "proofs", exclude: ["corpus"]),
    .target(name: "ExoVerify", dependencies: ["ExoABI", "ExoSpec", "ExoProofs", "SMT"]),
    .target(name: "CSharedMemory"),
    .target(
      name: "ExoDiff", dependencies: ["ExoABI", "ExoSpec", "ExoHarness", "CSharedMemory"],
      swiftSettings: optimized),
    // The library OS: the same files are compiled into user images by `exo build`.
    .target(name: "LibOS", dependencies: ["ExoABI"]),
    // The libOS's host kernel: the executable spec in process.
    .target(name: "CCoroutine"),
    // The libOS programs' code (each program's `main.swift` is the kernel
    // wrapper), for running them on the spec.
    .target(
      name: "LibOSPrograms", dependencies: ["LibOS", "ExoABI"], path: "kernel/user/programs",
      exclude: [
        "crash", "forever", "hello", "hostile", "selftest", "faultalloc/main.swift",
        "forktree/main.swift", "pingpong/main.swift", "primes/main.swift", "revoke/main.swift",
        "spin/main.swift", "threads/main.swift",
      ],
      sources: [
        "faultalloc/FaultAlloc.swift", "forktree/ForkTree.swift", "pingpong/PingPong.swift",
        "primes/Primes.swift", "revoke/Revoke.swift", "spin/Spin.swift", "threads/Threads.swift",
      ]),
    .target(name: "LibOSHost", dependencies: ["LibOS", "ExoSpec", "ExoABI", "CCoroutine"]),
    .executableTarget(
      name: "exoverify",
      dependencies: [
        "ExoVerify", "ExoSpec", "ExoProofs", "ExoABI",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    .testTarget(name: "ExoABITests", dependencies: ["ExoABI"]),
    .testTarget(
      name: "VerifyTests", dependencies: ["ExoVerify", "ExoProofs", "ExoSpec", "ExoABI"]),
    .testTarget(name: "SMTTests", dependencies: ["SMT", "ExoABI"]),
    .testTarget(name: "HarnessTests", dependencies: ["ExoHarness", "ExoABI", "ExoSpec"]),
    .testTarget(name: "SpecTests", dependencies: ["ExoSpec", "ExoABI", "SMT"]),
    .testTarget(
      name: "LibOSTests",
      dependencies: [
        "LibOS", "LibOSHost", "LibOSPrograms", "ExoSpec", "ExoProofs", "ExoABI",
        .product(name: "PropertyBased", package: "swift-property-based"),
      ]),
    .testTarget(
      name: "DiffTests", dependencies: ["ExoDiff", "ExoVerify", "ExoSpec", "ExoABI", "ExoHarness"]),
  ]
)
