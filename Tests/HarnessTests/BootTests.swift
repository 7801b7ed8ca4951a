import ExoABI
import ExoHarness
import Foundation
import Testing

/// The images, built once for the whole suite.
enum Images {
  static let images = SuiteImages(containing: #filePath)
  static var project: Project { images.project }

  static func report() throws -> BuildReport { try images.report() }

  static func boot(program: String? = nil, kernel: URL? = nil) throws -> BootResult {
    let report = try report()
    var options = BootOptions(kernel: kernel ?? report.kernel)
    options.program = program
    options.timeout = 60
    return try QEMU.boot(options)
  }
}

@Suite("Building and booting the kernel", .serialized)
struct BootTests {
  @Test("a second build with no change runs no step")
  func incrementalBuild() throws {
    let first = try Images.report()
    #expect(FileManager.default.fileExists(atPath: first.kernel.path))
    #expect(
      Set(["crash", "hello", "hostile", "selftest", "forever"]).isSubset(of: first.programs.keys))
    #expect(FileManager.default.fileExists(atPath: first.debugKernel.path))
    let second = try KernelBuild(project: Images.project, toolchain: Toolchain.locate()).run()
    #expect(second.stepsRun == 0)
    #expect(second.stepsTotal == first.stepsTotal)
  }

  @Test("the default image boots, runs the user program in ring 3 and exits with success")
  func bootDefault() throws {
    let result = try Images.boot()
    #expect(result.outcome == .success, "console:\n\(result.console)")
    #expect(result.console.contains("exo: memory map:"))
    #expect(result.console.contains("exo: timer running"))
    #expect(result.console.contains("hello from ring 3"))
    #expect(result.console.contains("hello: timer ticks advance while user code runs"))
    #expect(result.console.contains("exo: environment 0 exited with status 0"))
    #expect(!result.console.contains("KERNEL PANIC"))
  }

  @Test("hostile system-call arguments get named errors and never panic the kernel")
  func hostileArguments() throws {
    let result = try Images.boot(program: "hostile")
    #expect(result.outcome == .success, "console:\n\(result.console)")
    #expect(result.console.contains("hostile: 7 of 7 checks passed"))
    #expect(!result.console.contains("KERNEL PANIC"))
  }

  @Test("a user program that reads kernel memory faults, and only it ends")
  func userFaultIsContained() throws {
    let result = try Images.boot(program: "crash")
    #expect(result.outcome == .userFailure, "console:\n\(result.console)")
    #expect(result.console.contains("exo: environment 0 stopped: #PF page fault"))
    #expect(result.console.contains("cr2=0x0000000000100000"))
    #expect(!result.console.contains("kernel memory is visible to user space"))
    #expect(!result.console.contains("KERNEL PANIC"))
  }

  @Test(
    "the in-QEMU selftest passes every case on the normal and the invariant-checking kernel",
    arguments: [false, true])
  func selftest(debugKernel: Bool) throws {
    let report = try Images.report()
    let result = try Images.boot(
      program: "selftest", kernel: debugKernel ? report.debugKernel : report.kernel)
    #expect(result.outcome == .success, "console:\n\(result.console)")
    #expect(!result.console.contains("KERNEL PANIC"), "console:\n\(result.console)")
    let summary = result.console.split(separator: "\n").last { $0.hasSuffix(" failed") }
    let numbers = summary.map { $0.split(separator: " ").compactMap { Int($0) } } ?? []
    #expect(numbers.count == 2, "no 'N passed, M failed' line:\n\(result.console)")
    if numbers.count == 2 {
      #expect(numbers[0] >= 80, "only \(numbers[0]) cases")
      #expect(numbers[1] == 0, "console:\n\(result.console)")
    }
    if debugKernel { #expect(result.console.contains("checking invariants after every call")) }
  }

  @Test("the invariant check catches a planted kernel bug and names the invariant")
  func plantedBugCaught() throws {
    let result = try Images.boot(program: "selftest", kernel: try Images.report().plantedBugKernel)
    #expect(result.outcome == .kernelPanic, "console:\n\(result.console)")
    #expect(result.console.contains("KERNEL PANIC: invariant mappingsCountExact"))
  }

  @Test("an unknown program name is a user failure with the list of programs")
  func unknownProgram() throws {
    let result = try Images.boot(program: "no-such-program")
    #expect(result.outcome == .userFailure)
    #expect(result.console.contains("no user program named 'no-such-program'"))
    #expect(result.console.contains("hello"))
  }

  @Test("a fault in the kernel prints a panic report and exits with the panic status")
  func kernelFaultPanics() throws {
    let result = try Images.boot(kernel: try Images.report().faultTestKernel)
    #expect(result.outcome == .kernelPanic, "console:\n\(result.console)")
    for field in [
      "KERNEL PANIC: #PF page fault (vector 14)", "error=0x0000000000000002", "rip=0x",
      "cr2=0x00000deadbeef000", "rax=0x00000deadbeef000", "r15=", "cr3=",
    ] {
      #expect(result.console.contains(field), "missing \(field)")
    }
  }

  @Test("a triple fault is reported as a reset, never as success")
  func tripleFault() throws {
    let result = try Images.boot(kernel: try Images.report().tripleFaultKernel)
    #expect(result.outcome == .reset, "console:\n\(result.console)")
    #expect(result.outcome.exitCode == 4)
    #expect(result.outcome.summary.contains("triple fault"))
  }

  @Test("a guest that runs on is stopped at the time limit and reported as a timeout")
  func timeout() throws {
    var options = BootOptions(kernel: try Images.report().kernel)
    options.program = "forever"
    options.timeout = 2
    let result = try QEMU.boot(options)
    #expect(result.outcome == .timeout)
    #expect(result.outcome.exitCode == 5)
    #expect(result.console.contains("forever: running until stopped"))
    #expect(result.seconds >= 2 && result.seconds < 10)
  }

  @Test("booting a missing image is a clear error")
  func missingImage() throws {
    let options = BootOptions(kernel: URL(fileURLWithPath: "/nonexistent/kernel.elf"))
    #expect(throws: HarnessError.imageMissing("/nonexistent/kernel.elf")) {
      try QEMU.boot(options)
    }
    #expect(HarnessError.imageMissing("x").description.contains("exo build"))
  }

  @Test("booting without QEMU is a clear error")
  func missingQEMU() throws {
    var options = BootOptions(kernel: try Images.report().kernel)
    options.qemu = "/nonexistent/qemu-system-x86_64"
    #expect(throws: HarnessError.qemuMissing("/nonexistent/qemu-system-x86_64")) {
      try QEMU.boot(options)
    }
    #expect(HarnessError.qemuMissing("q").description.contains("ci/setup"))
  }
}

/// The `exo` executable, beside the test bundle when `swift build` built it.
private let exoExecutable: String? = {
  let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
  for candidate in [folder, folder.deletingLastPathComponent()] {
    let path = candidate.appendingPathComponent("exo").path
    if FileManager.default.isExecutableFile(atPath: path) { return path }
  }
  return nil
}()

@Suite("The exo command line", .serialized, .enabled(if: exoExecutable != nil))
struct CommandLineTests {
  func exo(_ arguments: [String], environment: [String: String] = [:]) throws -> (Int32, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: exoExecutable ?? "")
    process.arguments = arguments
    process.currentDirectoryURL = Images.project.root
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
  }

  @Test("exo boot exits 0 on success and prints the time")
  func bootSucceeds() throws {
    let (status, output) = try exo(["boot"])
    #expect(status == 0, "\(output)")
    #expect(output.contains("hello from ring 3"))
    #expect(output.contains("exo: success"))
    #expect(output.contains(" s]"))
  }

  @Test(
    "exo boot reports each failure with a distinct status",
    arguments: [
      (["boot", "--program", "crash"], [:], BootOutcome.userFailure.exitCode, "failure"),
      (
        ["boot", "--kernel", ".build/exo/kernel-faulttest.elf"], [:],
        BootOutcome.kernelPanic.exitCode,
        "kernel panic"
      ),
      (
        ["boot", "--kernel", "/nonexistent/kernel.elf"], [:], BootSetupExit.imageMissing,
        "kernel image not found"
      ),
      (["boot"], ["EXO_QEMU": "/nonexistent/qemu"], BootSetupExit.qemuMissing, "QEMU not found"),
    ] as [([String], [String: String], Int32, String)])
  func bootFailures(
    arguments: [String], environment: [String: String], expected: Int32, text: String
  )
    throws
  {
    let (status, output) = try exo(arguments, environment: environment)
    #expect(status == expected, "\(output)")
    #expect(output.contains(text), "\(output)")
  }

  @Test("a non-positive timeout is rejected before anything runs")
  func badTimeout() throws {
    let (status, output) = try exo(["boot", "--timeout", "0"])
    #expect(status != 0)
    #expect(output.contains("--timeout must be positive"))
  }
}
