import ArgumentParser
import ExoABI
import Foundation
import LibOS
import LibOSHost
import LibOSPrograms

/// `exo spec-run`: a libOS program on the executable spec, in process,
/// before it is booted.
struct SpecRun: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "spec-run",
    abstract: "Run a libOS program on the executable spec instead of the kernel.",
    discussion: """
      The program's code is the same as in its user image; the spec is the
      kernel (see Sources/LibOSHost). Exits 0 when environment 0 exits with
      status 0, 2 otherwise.
      """)

  /// The libOS programs that run on the spec.
  static let names = [
    "faultalloc", "forktree", "netecho", "pingpong", "primes", "revoke", "spin", "threads",
  ]

  /// Program `name`'s shared code (kernel/user/programs/NAME/TYPE.swift).
  static func program(_ name: String)
    -> ((LibOS<SimulatedKernel>, ForkStart?) throws(ExoError) -> UInt64)?
  {
    switch name {
    case "faultalloc": { os, start throws(ExoError) in try FaultAlloc.main(os, start) }
    case "forktree": { os, start throws(ExoError) in try ForkTree.main(os, start) }
    case "netecho": { os, start throws(ExoError) in try NetEcho.main(os, start) }
    case "pingpong": { os, start throws(ExoError) in try PingPong.main(os, start) }
    case "primes": { os, start throws(ExoError) in try Primes.main(os, start) }
    case "spin": { os, start throws(ExoError) in try Spin.main(os, start) }
    case "revoke": { os, start throws(ExoError) in try Revoke.main(os, start) }
    case "threads": { os, start throws(ExoError) in try Threads.main(os, start) }
    default: nil
    }
  }

  @Option(help: "The program (\(SpecRun.names.joined(separator: ", "))).")
  var program: String

  @Option(help: "A slice ends (tick) after every N operations; 0 for never.")
  var tickEvery = 97

  @Option(help: "Stop after this many operations.")
  var operationLimit = 2_000_000

  func validate() throws {
    guard SpecRun.program(program) != nil else {
      throw ValidationError(
        "no libOS program '\(program)' runs on the spec; known: \(SpecRun.names.joined(separator: ", "))"
      )
    }
    guard tickEvery >= 0 else { throw ValidationError("--tick-every must be 0 or more") }
    guard operationLimit > 0 else { throw ValidationError("--operation-limit must be positive") }
  }

  func run() throws {
    guard let body = SpecRun.program(program) else { throw ExitCode(2) }
    let name = program
    let machine = Machine(
      bounds: .kernel, tickEvery: tickEvery, operationLimit: operationLimit
    ) { kernel in LibOS.start(kernel: kernel, name: name, body) }
    let start = Date()
    let ending = machine.run()
    let seconds = String(format: "%.3f", Date().timeIntervalSince(start))
    FileHandle.standardOutput.write(Data(machine.console.utf8))
    let status = machine.spec.environments.exitStatus[0]
    let state = EnvironmentState(rawValue: machine.spec.environments.state[0])
    switch ending {
    case .stepLimit:
      note(
        "stopped after \(operationLimit) operations (\(machine.transitions) transitions) [\(seconds) s]"
      )
      throw ExitCode(5)
    case .idle:
      guard state == .dying || state == .free else {
        note("nothing can run and environment 0 is \(state.map { "\($0)" } ?? "?") [\(seconds) s]")
        throw ExitCode(2)
      }
      note(
        "environment 0 exited with status \(status) after \(machine.transitions) transitions, \(machine.spec.tickCount) ticks [\(seconds) s]"
      )
      if status != 0 { throw ExitCode(2) }
    }
  }
}
