import ExoABI
import Foundation

/// What a build produced.
public struct BuildReport: Sendable {
  /// The kernel image with every user program linked in.
  public var kernel: URL
  /// The same kernel whose boot self-test faults on purpose.
  public var faultTestKernel: URL
  /// The kernel whose boot self-test triple-faults on purpose.
  public var tripleFaultKernel: URL
  /// The kernel that checks its invariants after every call.
  public var debugKernel: URL
  /// The invariant-checking kernel with a planted bug (an uncounted
  /// mapping), which the check must catch.
  public var plantedBugKernel: URL
  /// The invariant-checking kernel with a planted revocation bug (an abort
  /// step records a page twice), which the check must catch.
  public var plantedRevocationBugKernel: URL
  /// The kernels with planted bugs that were asked for.
  public var mutantKernels: [KernelMutant: URL]
  /// Each user program's own ELF image.
  public var programs: [String: URL]
  /// How many steps ran (0: everything was up to date).
  public var stepsRun: Int
  /// How many steps the build has.
  public var stepsTotal: Int
}

/// Builds the kernel and user images with the Embedded Swift toolchain:
///
///     Sources/ExoABI ──► ExoABI (kernel flavour: no SSE) ──► Kernel ──► kernel.elf
///                   └──► ExoABI (user flavour) ──► ExoUser ──► each program's .elf ─┘
///
/// The ExoABI sources are the same files the host targets compile; each
/// flavour is one module object. Steps run in stages, the steps of a stage
/// in parallel, and a step whose inputs are unchanged is skipped.
public struct KernelBuild {
  public var project: Project
  public var toolchain: Toolchain
  /// Called with a line for each step that runs.
  public var progress: @Sendable (String) -> Void

  public init(
    project: Project, toolchain: Toolchain,
    progress: @escaping @Sendable (String) -> Void = { _ in }
  ) {
    self.project = project
    self.toolchain = toolchain
    self.progress = progress
  }

  static let swiftCommon = [
    "-enable-experimental-feature", "Embedded", "-target", "x86_64-unknown-none-elf", "-wmo",
    "-parse-as-library", "-Osize", "-Xfrontend", "-disable-stack-protector", "-Xfrontend",
    "-function-sections", "-Xcc", "-mno-red-zone",
  ]
  static let noSIMD = ["-Xcc", "-mno-sse", "-Xcc", "-mno-sse2", "-Xcc", "-mno-mmx"]
  /// The kernel module: no SIMD, and optimized for speed (the spec's
  /// transitions are generic code whose checks and effects are closures:
  /// `-O` inlines them into straight-line code).
  static let kernelFlags = noSIMD + ["-O"]
  static let clangCommon = [
    "--target=x86_64-unknown-none-elf", "-ffreestanding", "-fno-stack-protector", "-mno-red-zone",
    "-O2",
  ]
  static let clangKernel = clangCommon + ["-fno-pic", "-mno-sse", "-mno-sse2", "-mno-mmx"]
  static let clangUser = clangCommon + ["-fpic"]

  /// Builds whatever is out of date, and the kernels with `mutants`
  /// compiled in (`kernel-mutant-NAME.elf`, built only when asked for).
  public func run(mutants: [KernelMutant] = []) throws(HarnessError) -> BuildReport {
    let out = project.buildFolder
    let o = { (name: String) in out.appendingPathComponent(name).path }
    try? FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    for folder in [
      "abi-kernel", "abi-user", "kernel", "kernel-debug", "kernel-planted",
      "kernel-planted-revocation", "user", "programs",
    ] + mutants.map({ "kernel-mutant-\($0.rawValue)" }) {
      try? FileManager.default.createDirectory(
        at: out.appendingPathComponent(folder), withIntermediateDirectories: true)
    }
    // One build at a time per build folder (tests and `exo boot` may race).
    let lock = open(o("build.lock"), O_CREAT | O_RDWR, 0o644)
    if lock >= 0 { flock(lock, LOCK_EX) }
    defer { if lock >= 0 { close(lock) } }
    let moduleCache = ["-module-cache-path", o("module-cache")]
    let abiSources = project.files(in: "Sources/ExoABI", suffix: ".swift")
    // The kernel runs the spec: its transition code (the top level of
    // `specs/`; `specs/Host` holds the host's interpretations) is compiled
    // into the kernel module over the kernel's domain.
    let kernelCore = project.files(in: "kernel/core", suffix: ".swift")
    let kernelSources = kernelCore + project.specSources
    // The invariant-checking kernels evaluate the proofs' invariants too.
    let checkingSources = kernelSources + project.proofSources
    /// The kernel's sources with `patch` made to a copy of the spec in
    /// `folder`.
    func patchedSources(_ patch: SpecPatch, folder: String) throws(HarnessError) -> [String] {
      func copies(of sources: [String], into sub: String) throws(HarnessError) -> [String] {
        try? FileManager.default.createDirectory(
          atPath: o("\(folder)/\(sub)"), withIntermediateDirectories: true)
        var out: [String] = []
        for source in sources {
          let name = (source as NSString).lastPathComponent
          var text = (try? String(contentsOfFile: source, encoding: .utf8)) ?? ""
          if name == patch.file { text = try patch.apply(to: text) }
          let copy = o("\(folder)/\(sub)/\(name)")
          writeIfChanged(copy, text)
          out.append(copy)
        }
        return out
      }
      switch patch.folder {
      case "specs":
        guard project.specSources.contains(where: { $0.hasSuffix("/" + patch.file) }) else {
          throw .patchFailed(file: patch.path, reason: "no such file of the spec")
        }
        return kernelCore + (try copies(of: project.specSources, into: "specs"))
          + project.proofSources
      case "kernel/core":
        guard kernelCore.contains(where: { $0.hasSuffix("/" + patch.file) }) else {
          throw .patchFailed(file: patch.path, reason: "no such file of the kernel")
        }
        return (try copies(of: kernelCore, into: "core")) + project.specSources
          + project.proofSources
      case "kernel/arch":
        // The Swift is the kernel's own; the patched assembly is
        // assembled into the mutant's folder (``patchedAssembly``).
        return kernelCore + project.specSources + project.proofSources
      default:
        throw .patchFailed(
          file: patch.path, reason: "patches change specs, kernel/core or kernel/arch")
      }
    }
    /// For a patch of `kernel/arch/entry.S`: the patched copy's assembly
    /// step and its object (relative to the build folder).
    func patchedAssembly(_ patch: SpecPatch, folder: String) throws(HarnessError) -> (
      step: BuildStep, object: String
    )? {
      guard patch.folder == "kernel/arch" else { return nil }
      guard patch.file == "entry.S" else {
        throw .patchFailed(file: patch.path, reason: "only entry.S of kernel/arch can be patched")
      }
      let text =
        (try? String(contentsOfFile: project.path("kernel/arch/entry.S"), encoding: .utf8)) ?? ""
      let copy = o("\(folder)/entry.S")
      try? FileManager.default.createDirectory(
        atPath: o(folder), withIntermediateDirectories: true)
      writeIfChanged(copy, try patch.apply(to: text))
      let step = clang(
        "entry.S (\(folder))", flags: KernelBuild.clangKernel + ["-I", o("user")], source: copy,
        object: "\(folder)/entry.o", headers: [o("user/abi_layout.h")])
      return (step, "\(folder)/entry.o")
    }
    let kernelHeaders = project.files(in: "kernel/include", suffix: "")
    let userLibSources = project.files(in: "kernel/user/lib", suffix: ".swift")
    let userHeaders = project.files(in: "kernel/user/include", suffix: "")
    let libOSSources = project.files(in: "Sources/LibOS", suffix: ".swift")
    let libOSKernelSources = project.files(in: "kernel/user/libos", suffix: ".swift")
    let programs = project.programNames

    func swiftModule(
      _ name: String, module: String, flags: [String], sources: [String], headers: [String],
      folder: String, emitModule: Bool, imports: [String]
    ) -> BuildStep {
      var arguments = KernelBuild.swiftCommon + flags + moduleCache + ["-module-name", module]
      for path in imports { arguments += ["-I", path] }
      var outputs = [o("\(folder)/\(module).o")]
      if emitModule {
        arguments += ["-emit-module", "-emit-module-path", o("\(folder)/\(module).swiftmodule")]
        outputs.append(o("\(folder)/\(module).swiftmodule"))
      }
      arguments += ["-c", "-o", o("\(folder)/\(module).o")] + sources
      // The modules this one imports are inputs too: a changed ExoABI
      // rebuilds everything that imports it.
      let moduleInputs = [
        ("abi-kernel", "ExoABI"), ("abi-user", "ExoABI"), ("user", "ExoUser"), ("user", "LibOS"),
        ("user", "LibOSKernel"),
      ]
      .filter { imports.contains(o($0.0)) && $0.1 != module }
      .map { o("\($0.0)/\($0.1).swiftmodule") }
      return BuildStep(
        name: name, tool: toolchain.swiftc, arguments: arguments,
        inputs: sources + headers + moduleInputs, outputs: outputs)
    }
    func clang(
      _ name: String, flags: [String], source: String, object: String, headers: [String] = []
    ) -> BuildStep {
      BuildStep(
        name: name, tool: toolchain.clang, arguments: flags + ["-c", source, "-o", o(object)],
        inputs: [source] + headers, outputs: [o(object)])
    }
    func link(_ name: String, script: String, objects: [String], image: String) -> BuildStep {
      BuildStep(
        name: name, tool: toolchain.lld,
        arguments: [
          "-static", "-nostdlib", "--gc-sections", "-T", project.path(script), "-o", o(image),
        ]
          + objects.map(o),
        inputs: [project.path(script)] + objects.map(o), outputs: [o(image)])
    }

    writeIfChanged(o("user/abi_layout.h"), abiLayoutHeader())
    var stages: [[BuildStep]] = []
    // Stage 1: the ABI in both flavours, assembly and C.
    stages.append([
      swiftModule(
        "ExoABI (kernel)", module: "ExoABI", flags: KernelBuild.noSIMD, sources: abiSources,
        headers: [], folder: "abi-kernel", emitModule: true, imports: []),
      swiftModule(
        "ExoABI (user)", module: "ExoABI", flags: [], sources: abiSources, headers: [],
        folder: "abi-user", emitModule: true, imports: []),
      clang(
        "boot.S", flags: KernelBuild.clangKernel, source: project.path("kernel/arch/boot.S"),
        object: "kernel/boot.o"),
      clang(
        "entry.S", flags: KernelBuild.clangKernel + ["-I", o("user")],
        source: project.path("kernel/arch/entry.S"), object: "kernel/entry.o",
        headers: [o("user/abi_layout.h")]),
      clang(
        "selftest_none.S", flags: KernelBuild.clangKernel,
        source: project.path("kernel/arch/selftest_none.S"), object: "kernel/selftest_none.o"),
      clang(
        "selftest_fault.S", flags: KernelBuild.clangKernel,
        source: project.path("kernel/test/selftest_fault.S"), object: "kernel/selftest_fault.o"),
      clang(
        "selftest_triplefault.S", flags: KernelBuild.clangKernel,
        source: project.path("kernel/test/selftest_triplefault.S"),
        object: "kernel/selftest_triplefault.o"),
      clang(
        "storage.c", flags: KernelBuild.clangKernel + ["-I", project.path("kernel/include")],
        source: project.path("kernel/arch/storage.c"), object: "kernel/storage.o",
        headers: kernelHeaders),
      clang(
        "memory.c (kernel)", flags: KernelBuild.clangKernel,
        source: project.path("kernel/common/memory.c"), object: "kernel/memory.o"),
      clang(
        "memory.c (user)", flags: KernelBuild.clangUser,
        source: project.path("kernel/common/memory.c"), object: "user/memory.o"),
      clang(
        "crt0.S", flags: KernelBuild.clangUser, source: project.path("kernel/user/crt0.S"),
        object: "user/crt0.o"),
      clang(
        "upcall.S", flags: KernelBuild.clangUser + ["-I", o("user")],
        source: project.path("kernel/user/upcall.S"), object: "user/upcall.o",
        headers: [o("user/abi_layout.h")]),
      clang(
        "context.S", flags: KernelBuild.clangUser, source: project.path("kernel/user/context.S"),
        object: "user/context.o"),
      clang(
        "libc.c (user)", flags: KernelBuild.clangUser, source: project.path("kernel/user/libc.c"),
        object: "user/libc.o"),
    ])
    // Stage 2: the kernel module and the user library.
    stages.append(
      [
        swiftModule(
          "Kernel", module: "Kernel", flags: KernelBuild.kernelFlags, sources: kernelSources,
          headers: kernelHeaders, folder: "kernel", emitModule: false,
          imports: [o("abi-kernel"), project.path("kernel/include")]),
        swiftModule(
          "Kernel (invariants)", module: "Kernel",
          flags: KernelBuild.kernelFlags + ["-D", "INVARIANTS"],
          sources: checkingSources, headers: kernelHeaders, folder: "kernel-debug",
          emitModule: false,
          imports: [o("abi-kernel"), project.path("kernel/include")]),
        swiftModule(
          "Kernel (planted bug)", module: "Kernel",
          flags: KernelBuild.kernelFlags + ["-D", "INVARIANTS"],
          sources: try patchedSources(.plantedMapping, folder: "kernel-planted"),
          headers: kernelHeaders, folder: "kernel-planted", emitModule: false,
          imports: [o("abi-kernel"), project.path("kernel/include")]),
        swiftModule(
          "Kernel (planted revocation bug)", module: "Kernel",
          flags: KernelBuild.kernelFlags + ["-D", "INVARIANTS"],
          sources: try patchedSources(.plantedRevocation, folder: "kernel-planted-revocation"),
          headers: kernelHeaders, folder: "kernel-planted-revocation", emitModule: false,
          imports: [o("abi-kernel"), project.path("kernel/include")]),
        swiftModule(
          "ExoUser", module: "ExoUser", flags: [], sources: userLibSources, headers: userHeaders,
          folder: "user", emitModule: true,
          imports: [o("abi-user"), project.path("kernel/user/include")]),
        swiftModule(
          "LibOS (user)", module: "LibOS", flags: [], sources: libOSSources, headers: [],
          folder: "user", emitModule: true, imports: [o("abi-user")]),
      ]
        + (try mutants.map { mutant throws(HarnessError) in
          swiftModule(
            "Kernel (mutant \(mutant.rawValue))", module: "Kernel",
            flags: KernelBuild.kernelFlags,
            sources: try patchedSources(mutant.patch, folder: "kernel-mutant-\(mutant.rawValue)"),
            headers: kernelHeaders, folder: "kernel-mutant-\(mutant.rawValue)", emitModule: false,
            imports: [o("abi-kernel"), project.path("kernel/include")])
        }))
    // The libOS's system-call kernel, over the user runtime and the libOS.
    stages.append([
      swiftModule(
        "LibOSKernel", module: "LibOSKernel", flags: [], sources: libOSKernelSources,
        headers: userHeaders, folder: "user", emitModule: true,
        imports: [o("abi-user"), o("user"), project.path("kernel/user/include")])
    ])
    // Stage 3: each program's module; stage 4: its image.
    stages.append(
      programs.map { name in
        swiftModule(
          "program \(name)", module: name, flags: [],
          sources: project.programSources(name),
          headers: userHeaders, folder: "programs", emitModule: false,
          imports: [o("abi-user"), o("user"), project.path("kernel/user/include")])
      })
    // A program's own assembly (`NAME/*.S`) links right after crt0, so
    // a page-aligned section in it starts at imageBase + 0x1000.
    func programAssembly(_ name: String) -> [(source: String, object: String)] {
      project.files(in: "kernel/user/programs/\(name)", suffix: ".S").map { source in
        let base = (source as NSString).lastPathComponent.replacingOccurrences(of: ".S", with: "")
        return (source, "programs/\(name)-\(base).o")
      }
    }
    // Mutants of entry.S assemble their own copy.
    for mutant in mutants {
      if let a = try patchedAssembly(mutant.patch, folder: "kernel-mutant-\(mutant.rawValue)") {
        stages[0].append(a.step)
      }
    }
    stages[0] += programs.flatMap { name in
      programAssembly(name).map { a in
        clang(
          "\(name)/\((a.source as NSString).lastPathComponent)", flags: KernelBuild.clangUser,
          source: a.source, object: a.object)
      }
    }
    stages.append(
      programs.map { name in
        link(
          "link \(name)", script: "kernel/user/user.ld",
          objects: ["user/crt0.o"] + programAssembly(name).map(\.object) + [
            "programs/\(name).o", "user/ExoUser.o", "user/LibOS.o", "user/LibOSKernel.o",
            "user/upcall.o", "user/context.o",
            "abi-user/ExoABI.o",
            "user/libc.o", "user/memory.o",
          ],
          image: "programs/\(name).elf")
      })
    // Stage 5: the table of programs, then the two kernel images.
    let table = o("kernel/programs.S")
    writeIfChanged(table, programTable(programs, folder: o("programs")))
    var tableStep = clang(
      "programs.S", flags: KernelBuild.clangKernel, source: table, object: "kernel/programs.o")
    tableStep.inputs += programs.map { o("programs/\($0).elf") }
    stages.append([tableStep])
    let support = [
      "kernel/boot.o", "kernel/entry.o", "abi-kernel/ExoABI.o", "kernel/memory.o",
      "kernel/storage.o",
      "kernel/programs.o",
    ]
    let kernelObjects = ["kernel/Kernel.o"] + support
    stages.append(
      [
        link(
          "link kernel", script: "kernel/kernel.ld",
          objects: kernelObjects + ["kernel/selftest_none.o"], image: "kernel.elf"),
        link(
          "link fault-test kernel", script: "kernel/kernel.ld",
          objects: kernelObjects + ["kernel/selftest_fault.o"], image: "kernel-faulttest.elf"),
        link(
          "link debug kernel", script: "kernel/kernel.ld",
          objects: ["kernel-debug/Kernel.o"] + support + ["kernel/selftest_none.o"],
          image: "kernel-debug.elf"),
        link(
          "link triple-fault kernel", script: "kernel/kernel.ld",
          objects: kernelObjects + ["kernel/selftest_triplefault.o"],
          image: "kernel-triplefault.elf"),
        link(
          "link planted-bug kernel", script: "kernel/kernel.ld",
          objects: ["kernel-planted/Kernel.o"] + support + ["kernel/selftest_none.o"],
          image: "kernel-planted.elf"),
        link(
          "link planted-revocation-bug kernel", script: "kernel/kernel.ld",
          objects: ["kernel-planted-revocation/Kernel.o"] + support + ["kernel/selftest_none.o"],
          image: "kernel-planted-revocation.elf"),
      ]
        + (try mutants.map { mutant throws(HarnessError) in
          let folder = "kernel-mutant-\(mutant.rawValue)"
          let entry = try patchedAssembly(mutant.patch, folder: folder)?.object ?? "kernel/entry.o"
          return link(
            "link mutant kernel \(mutant.rawValue)", script: "kernel/kernel.ld",
            objects: ["\(folder)/Kernel.o"] + support.map { $0 == "kernel/entry.o" ? entry : $0 }
              + ["kernel/selftest_none.o"],
            image: mutant.imageName)
        }))

    var ran = 0
    var total = 0
    for stage in stages {
      total += stage.count
      let stale = stage.filter { !$0.isUpToDate(stampFolder: out) }
      ran += stale.count
      for step in stale { progress("building \(step.name)") }
      let failures = Failures()
      DispatchQueue.concurrentPerform(iterations: stale.count) { i in
        do throws(HarnessError) {
          try stale[i].run(stampFolder: out)
        } catch {
          failures.record(error)
        }
      }
      if let first = failures.first { throw first }
    }
    return BuildReport(
      kernel: project.kernelImage, faultTestKernel: project.faultTestImage,
      tripleFaultKernel: out.appendingPathComponent("kernel-triplefault.elf"),
      debugKernel: out.appendingPathComponent("kernel-debug.elf"),
      plantedBugKernel: out.appendingPathComponent("kernel-planted.elf"),
      plantedRevocationBugKernel: out.appendingPathComponent("kernel-planted-revocation.elf"),
      mutantKernels: Dictionary(
        uniqueKeysWithValues: mutants.map { ($0, out.appendingPathComponent($0.imageName)) }),
      programs: Dictionary(
        uniqueKeysWithValues: programs.map { ($0, URL(fileURLWithPath: o("programs/\($0).elf"))) }),
      stepsRun: ran, stepsTotal: total)
  }

  /// The assembly that links every program's ELF image into the kernel as
  /// the `exo_user_images` table (include/arch.h).
  func programTable(_ programs: [String], folder: String) -> String {
    var text = "// Generated by `exo build`: the user programs linked into the kernel.\n"
    text += "  .section .rodata\n"
    for (i, name) in programs.enumerated() {
      text +=
        "name_\(i): .asciz \"\(name)\"\n  .p2align 4\nimage_\(i): .incbin \"\(folder)/\(name).elf\"\nimage_end_\(i):\n"
    }
    text += "  .p2align 3\n  .globl exo_user_images\nexo_user_images:\n"
    for i in programs.indices {
      text += "  .quad name_\(i), image_\(i), image_end_\(i) - image_\(i)\n"
    }
    text += "  .globl exo_user_image_count\nexo_user_image_count: .quad \(programs.count)\n"
    return text
  }

  /// The ExoABI constants assembly needs, generated from ExoABI itself so
  /// that there is no second definition: ExceptionFrame offsets and the user
  /// selectors.
  func abiLayoutHeader() -> String {
    var text = "// Generated by `exo build` from Sources/ExoABI. Do not edit.\n"
    for field in ExceptionFrame.allCases {
      text +=
        "#define EXO_FRAME_\(String(describing: field).uppercased()) \(ExceptionFrame.offset(field))\n"
    }
    text += "#define EXO_FRAME_SIZE \(ExceptionFrame.size)\n"
    text += "#define EXO_USER_CODE_SELECTOR \(UserSelectors.code)\n"
    text += "#define EXO_USER_DATA_SELECTOR \(UserSelectors.data)\n"
    return text
  }

  func writeIfChanged(_ path: String, _ text: String) {
    let data = Data(text.utf8)
    if FileManager.default.contents(atPath: path) != data {
      _ = FileManager.default.createFile(atPath: path, contents: data)
    }
  }
}

/// Collects the first error of steps that run in parallel.
private final class Failures: @unchecked Sendable {
  private let lock = NSLock()
  private(set) var first: HarnessError?
  func record(_ error: HarnessError) {
    lock.lock()
    if first == nil { first = error }
    lock.unlock()
  }
}
