import ArgumentParser
import ExoABI
import ExoSpec
import Foundation

/// `exo replay FILE --on spec`: runs a replay file (docs/replay-format.md)
/// and reports each step's result against the expected one.
struct Replay: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run a replay file and compare every result with the expected one.",
    discussion: """
      Exit status: 0 every expectation held, 1 a result or the final state differs, \
      2 the file is malformed or the target is not supported.
      """)

  /// What runs the file.
  enum Target: String, ExpressibleByArgument, CaseIterable {
    /// The executable specification, in process.
    case spec
    /// The kernel in QEMU (the differential tester; not yet available).
    case kernel
  }

  @Argument(help: "The replay file (JSON).")
  var file: String

  @Option(help: "What to run the file on: spec (kernel is not supported yet).")
  var on: Target = .spec

  @Flag(help: "Print only mismatches and the summary.")
  var quiet = false

  func run() throws {
    guard on == .spec else {
      note("error: --on kernel is not supported yet (it comes with the differential tester)")
      throw ExitCode(2)
    }
    let replay: ReplayFile
    do {
      replay = try ReplayFile.load(path: file)
    } catch {
      note("error: \(file): \(error)")
      throw ExitCode(2)
    }
    let report = replay.runOnSpec()
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
      "\(report.steps.count) steps, \(checked) checked, \(mismatches) mismatched; "
        + "final digest 0x\(String(report.finalState.digest, radix: 16))")
    if !report.passed { throw ExitCode.failure }
  }
}
