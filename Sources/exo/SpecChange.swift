import ArgumentParser
import ExoHarness
import Foundation

/// `exo spec-change NAME`: one change of the spec, carried through the
/// trust chain. The kernel runs the spec, so a one-line change of a
/// transition in `specs/` must show up twice: `exoverify` (built from the
/// changed spec) reports a counterexample, and the kernel built from the
/// changed spec behaves differently in the selftest.
struct SpecChangeCommand: ParsableCommand {
  /// One line of the report, on standard output in order with the rest.
  func say(_ text: String) { print("exo: \(text)") }

  static let configuration = CommandConfiguration(
    commandName: "spec-change",
    abstract: "Show that a change of the spec reaches both exoverify and the booted kernel.",
    discussion: """
      Applies the patch of planted bug NAME (`exo difftest --list-mutants`) to a copy of \
      the project in .build/spec-change/copy, builds that copy's exoverify and runs it on \
      the changed transition's obligations (it must report a counterexample), then builds \
      the kernel from the changed spec and boots the selftest on it (some check must \
      fail). Exit status: 0 both saw the change, 1 one of them did not, 2 bad arguments \
      or a build that failed.
      """)

  @Argument(help: "The planted bug whose spec patch to apply, e.g. mapSkipsRightsCheck.")
  var name: String

  @Flag(help: "Skip the exoverify half (the copy's build takes a few minutes).")
  var skipVerifier = false

  @Flag(help: "Skip the kernel half.")
  var skipKernel = false

  @Option(help: "Obligations exoverify checks in parallel.")
  var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

  func validate() throws {
    if skipVerifier && skipKernel {
      throw ValidationError("--skip-verifier and --skip-kernel together check nothing")
    }
  }

  func run() throws {
    guard let mutant = KernelMutant(rawValue: name) else {
      say(
        "error: no planted bug '\(name)'; have: "
          + KernelMutant.allCases.map(\.rawValue).joined(separator: ", "))
      throw ExitCode(2)
    }
    guard let transition = mutant.transition, mutant.patch.isSpec else {
      say(
        "error: '\(name)' is a bug in the kernel's machine code (\(mutant.patch.path)), not a "
          + "change of the spec: run it with exo difftest --kernel-mutant \(name)")
      throw ExitCode(2)
    }
    say("change: \(mutant.summary)")
    say("  \(mutant.patch.path): '\(mutant.patch.find)' -> '\(mutant.patch.replace)'")
    var seen = true
    if !skipVerifier {
      let change = SpecChange(
        project: try Project.locate(), name: name, patch: mutant.patch, progress: { say($0) })
      let result: CommandResult
      do {
        try change.prepare()
        result = try change.verify(only: transition, jobs: jobs)
      } catch {
        say("error: \(error)")
        throw ExitCode(2)
      }
      let failures = result.output.split(separator: "\n").filter {
        $0.hasSuffix(" failed") || $0.contains(" failed ") || $0.contains("replay:")
      }
      for line in failures.prefix(12) { print("exoverify: \(line)") }
      if result.status != 0 && !failures.isEmpty {
        say("exoverify on the changed spec: counterexample found (status \(result.status))")
      } else {
        say("exoverify on the changed spec: NO counterexample (status \(result.status))")
        print(result.output.split(separator: "\n").suffix(5).joined(separator: "\n"))
        seen = false
      }
    }
    if skipKernel {
      if !seen { throw ExitCode(1) }
      return
    }
    let report = try buildImages(quiet: true, mutants: [mutant])
    guard let image = report.mutantKernels[mutant] else { throw ExitCode(2) }
    var options = BootOptions(kernel: image)
    options.program = "selftest"
    options.timeout = 120
    let boot: BootResult
    do { boot = try QEMU.boot(options) } catch {
      say("error: \(error)")
      throw ExitCode(2)
    }
    let failed = boot.console.split(separator: "\n").filter { $0.hasPrefix("FAIL ") }
    for line in failed.prefix(12) { print("selftest: \(line)") }
    if boot.outcome != .success && !failed.isEmpty {
      say("kernel built from the changed spec: \(failed.count) selftest checks fail")
    } else {
      say(
        "kernel built from the changed spec: the selftest sees no change (\(boot.outcome.summary))")
      seen = false
    }
    if !seen { throw ExitCode(1) }
    say("the change reached both exoverify and the kernel")
  }
}
