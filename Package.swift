// swift-tools-version: 6.1
// Host side of the exokernel project: the ABI (also compiled into the kernel
// and user images by `exo build`), the SMT layer, the QEMU harness and the
// `exo` command-line tool. The kernel itself lives in `kernel/` and is built
// by `exo build` with the Embedded Swift toolchain, not by SwiftPM.
import Foundation
import PackageDescription

/// The differential tester's host side (the generator, the concrete spec,
/// the digests) is compiled optimized in debug builds too, so that
/// `swift run exo difftest` compares thousands of calls per second.
let optimized: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

/// The libOS programs' logic files, compiled on the host to run the programs
/// on the spec; every other file of `kernel/user/programs` (kernel wrappers,
/// raw-ABI programs, assembly) is only for `exo build`.
let libOSProgramSources = [
  "faultalloc/FaultAlloc.swift", "forktree/ForkTree.swift", "netecho/NetEcho.swift",
  "netecho/NetEcho+Network.swift", "netecho/ScriptedPeer.swift", "pingpong/PingPong.swift",
  "primes/Primes.swift", "revoke/Revoke.swift", "spin/Spin.swift", "threads/Threads.swift",
]
let programsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .appendingPathComponent("kernel/user/programs").path
let programsExcluded =
  ((try? FileManager.default.subpathsOfDirectory(atPath: programsFolder)) ?? [])
  .filter { path in
    var isFolder: ObjCBool = false
    let exists = FileManager.default.fileExists(
      atPath: programsFolder + "/" + path, isDirectory: &isFolder)
    return exists && !isFolder.boolValue && !libOSProgramSources.contains(path)
  }
  .sorted()

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
      name: "ExoProofs", dependencies: ["ExoABI", "ExoSpec"], path: "proofs", exclude: ["corpus"],
      swiftSettings: optimized),
    .target(name: "ExoVerify", dependencies: ["ExoABI", "ExoSpec", "ExoProofs", "SMT"]),
    .target(name: "CSharedMemory"),
    .target(
      name: "ExoDiff",
      dependencies: ["ExoABI", "ExoSpec", "ExoProofs", "ExoHarness", "CSharedMemory"],
      swiftSettings: optimized),
    // The library OS: the same files are compiled into user images by `exo build`.
    .target(name: "LibOS", dependencies: ["ExoABI"]),
    // The libOS's host kernel: the executable spec in process.
    .target(name: "CCoroutine"),
    // The libOS programs' code (each program's `main.swift` is the kernel
    // wrapper), for running them on the spec.
    .target(
      name: "LibOSPrograms", dependencies: ["LibOS", "ExoABI"], path: "kernel/user/programs",
      exclude: programsExcluded, sources: libOSProgramSources),
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
