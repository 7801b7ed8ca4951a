import ArgumentParser
import ExoABI
import ExoDiff
import ExoHarness
import ExoSpec
import Foundation

/// `exo replay FILE --on spec|kernel`: runs a replay file
/// (docs/replay-format.md) and reports each step's result against the
/// expected one.
struct Replay: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run a replay file and compare every result with the expected one.",
    discussion: """
      `--on kernel` boots the kernel in QEMU in difftest mode and runs the steps through \
      its in-guest agent (files that start from the initial state at the kernel's bounds \
      and first page). Exit status: 0 every expectation held, 1 a result or the final \
      state differs, 2 the file is malformed or the target cannot run it.
      """)

  /// What runs the file.
  enum Target: String, ExpressibleByArgument, CaseIterable {
    /// The executable specification, in process.
    case spec
    /// The kernel in QEMU, through the differential tester's agent.
    case kernel
    /// The spec, then the kernel if the file can start there.
    case all
    /// The spec with every theorem exoverify proves checked after every
    /// transition (`exo difftest --against audit`), at the file's bounds.
    case audit
  }

  @Argument(help: "The replay file (JSON).")
  var file: String

  @Option(
    help:
      "What to run the file on: spec, kernel, all (the kernel where it can start), or audit (the spec with exoverify's theorems checked after every transition)."
  )
  var on: Target = .spec

  @Option(help: "With --on kernel: boot this kernel image instead of building one.")
  var kernel: String?

  @Option(
    help: "With --on kernel: run the kernel with this planted bug (exo difftest --list-mutants).")
  var kernelMutant: String?

  @Flag(help: "Print only mismatches and the summary.")
  var quiet = false

  func run() throws {
    let replay: ReplayFile
    do {
      replay = try ReplayFile.load(path: file)
    } catch {
      note("error: \(file): \(error)")
      throw ExitCode(2)
    }
    let kernelCanRun =
      replay.initial == .initial && replay.bounds == .kernel
      && replay.firstPage == InfoHeader.kernelFirstPage
      && !replay.steps.contains { $0.transition == .event(.exception) }
    switch on {
    case .spec:
      try show(replay, try runOnSpec(replay), on: "spec")
    case .kernel:
      guard kernelCanRun else {
        note(
          "error: \(file): the kernel runs files that start from the initial state with bounds "
            + "kernel and firstPage \(InfoHeader.kernelFirstPage), without exception events")
        throw ExitCode(2)
      }
      try show(replay, try runOnKernel(replay), on: "kernel")
    case .audit:
      guard replay.initial == .initial else {
        note("error: \(file): the audit runs files that start from the initial state")
        throw ExitCode(2)
      }
      let target = AuditTarget(name: "audit", bounds: replay.bounds, firstPage: replay.firstPage)
      let report: ReplayReport
      do {
        report = try replay.run(on: target)
      } catch {
        print("audit: \(error)")
        throw ExitCode.failure
      }
      try show(replay, report, on: "audit")
      print("audit: every theorem held on \(target.transitionsChecked) transitions")
    case .all:
      let spec = try runOnSpec(replay)
      try? show(replay, spec, on: "spec")
      guard kernelCanRun else {
        print(
          "kernel: not run (the file starts from an explicit state, has other bounds or "
            + "an exception event)")
        if !spec.passed { throw ExitCode.failure }
        return
      }
      let kernel = try runOnKernel(replay)
      try? show(replay, kernel, on: "kernel")
      if !spec.passed || !kernel.passed { throw ExitCode.failure }
    }
  }

  /// The file on the spec; a file of the differential tester's as the
  /// tester runs it, the page contents its probes stored included.
  func runOnSpec(_ replay: ReplayFile) throws -> ReplayReport {
    guard replay.isTesterFile else { return replay.runOnSpec() }
    do {
      return try replay.runOnTesterSpec()
    } catch {
      note("error: \(file): \(error)")
      throw ExitCode(2)
    }
  }

  func runOnKernel(_ replay: ReplayFile) throws -> ReplayReport {
    let image: URL
    if let kernelMutant {
      guard let mutant = KernelMutant(rawValue: kernelMutant) else {
        note("error: no kernel mutant '\(kernelMutant)'")
        throw ExitCode(2)
      }
      image = try buildImages(quiet: true, mutants: [mutant]).mutantKernels[mutant]!
    } else if let kernel {
      image = URL(fileURLWithPath: kernel)
    } else {
      image = try buildImages(quiet: true).kernel
    }
    do {
      return try replay.run(on: try KernelTarget(kernel: image))
    } catch {
      note("error: \(error)")
      throw ExitCode(2)
    }
  }

  /// Prints each step's verdict and the summary; fails when an expectation did not hold.
  func show(_ replay: ReplayFile, _ report: ReplayReport, on target: String) throws {
    let width = String(report.steps.count).count
    for step in report.steps where !quiet || !step.matches {
      let number = String(step.index).padding(toLength: width, withPad: " ", startingAt: 0)
      let call =
        "\(step.step.transition)(\(step.step.arguments.map(WordFormat.text).joined(separator: ", ")))"
      let got = ReplayExpectation(step.result).description
      let verdict: String
      if let expected = step.step.expect {
        verdict = step.matches ? "ok" : "MISMATCH: expected \(expected)"
      } else {
        verdict = "(not checked)"
      }
      print("\(number)  \(call) → \(got)  \(verdict)")
    }
    if replay.final != nil {
      if report.finalDifferences.isEmpty {
        print("final state: as expected")
      } else {
        print("final state: MISMATCH (expected → actual)")
        for line in report.finalDifferences { print("  \(line)") }
      }
    }
    let mismatches = report.steps.filter { !$0.matches }.count
    let checked = report.steps.filter { $0.step.expect != nil }.count
    print(
      "\(target): \(report.steps.count) steps, \(checked) checked, \(mismatches) mismatched; "
        + "final digest 0x\(String(report.finalState.digest, radix: 16))")
    if !report.passed { throw ExitCode.failure }
  }
}
