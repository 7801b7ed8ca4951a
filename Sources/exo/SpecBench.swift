import ArgumentParser
import ExoABI
import ExoSpec
import Foundation

/// `exo bench-spec`: concrete transitions per second of the executable spec
/// at `Bounds.kernel`, on a realistic mix of mostly successful calls.
struct SpecBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench-spec",
    abstract: "Measure concrete spec transitions per second at the kernel's bounds.",
    discussion: """
      Runs a self-balancing workload (allocate, derive, map, protect, unmap, delete, \
      yield, tick, plus failing calls) repeatedly from the initial state on one core \
      and prints transitions per second. Build with -c release for a meaningful figure.
      """)

  @Option(help: "Minimum seconds to measure.")
  var seconds: Double = 2

  func validate() throws {
    guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
  }

  func run() throws {
    let rate = try SpecWorkload.measure(seconds: seconds)
    print("spec transitions: \(rate.transitions) in \(String(format: "%.3f", rate.seconds)) s")
    print(
      "mix: \(rate.roundLength) calls per round, \(rate.failing) failing (checksum \(rate.checksum))"
    )
    print("rate: \(String(format: "%.0f", rate.perSecond)) transitions/s at Bounds.kernel")
  }
}

extension SpecWorkload {
  struct Rate {
    var transitions: Int
    var seconds: Double
    var roundLength: Int
    var failing: Int
    var checksum: UInt64
    var perSecond: Double { Double(transitions) / seconds }
  }

  /// Runs the workload for at least `seconds`, after one checked pass.
  static func measure(seconds: Double) throws -> Rate {
    let bounds = Bounds.kernel
    let firstPage: UInt64 = 0x1000
    var state = ConcreteState(bounds: bounds, firstPage: firstPage)
    let program = SpecWorkload.program(bounds: bounds, firstPage: firstPage)
    // One checked pass: the results are as planned, and the workload returns
    // to its start state (but for the tick count).
    let start = state
    var failures = 0
    for (i, step) in program.enumerated() {
      let result = state.step(step.transition, step.arguments)
      if result.status != step.expectedStatus {
        note(
          "bench-spec: step \(i) \(step.transition) gave status \(result.status), planned \(step.expectedStatus)"
        )
        throw ExitCode.failure
      }
      if result.status != 0 { failures += 1 }
    }
    var expected = start
    expected.tickCount = state.tickCount  // the one thing a round changes
    guard state == expected else {
      note("bench-spec: the workload does not return to its start state:")
      for line in expected.differences(from: state).prefix(10) { note("  \(line)") }
      throw ExitCode.failure
    }
    var transitions = 0
    var checksum: UInt64 = 0
    let clock = ContinuousClock()
    let began = clock.now
    var elapsed = Duration.zero
    repeat {
      for _ in 0..<64 {
        for step in program {
          checksum &+= state.step(step.transition, step.arguments).status
        }
      }
      transitions += 64 * program.count
      elapsed = clock.now - began
    } while elapsed < .seconds(seconds)
    let total =
      Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    return Rate(
      transitions: transitions, seconds: total, roundLength: program.count, failing: failures,
      checksum: checksum)
  }
}

/// The benchmark's workload: a round of calls by environment 0 that leaves the
/// state as it found it.
enum SpecWorkload {
  struct Step {
    var transition: Transition
    var arguments: [UInt64]
    var expectedStatus: UInt64
  }

  static func program(bounds: Bounds, firstPage: UInt64) -> [Step] {
    var steps: [Step] = []
    func call(_ syscall: Syscall, _ arguments: [UInt64], _ error: ExoError? = nil) {
      steps.append(
        Step(transition: .call(syscall), arguments: arguments, expectedStatus: error?.rawValue ?? 0)
      )
    }
    let rw = Rights([.read, .write]).rawValue
    let r = Rights.read.rawValue
    let roots = 64
    for j in 0..<roots {
      let page = firstPage + UInt64(4 * j)
      let root = UInt64(j)
      let child = UInt64(roots + j)
      let slot = UInt64(2 * j)
      call(.pageAllocate, [page, 4, root])
      call(.pageAllocate, [page + 2, 1, child], .slotInUse)
      call(.capabilityDerive, [root, child, rw, page, 2])
      call(.pageMap, [0, 0, root, page, slot, rw])
      call(.pageMap, [0, 0, child, page + 1, slot + 1, r])
      call(.pageMap, [0, 0, child, page + 3, slot + 1, r], .insufficientRights)
      call(.pageProtect, [0, 0, slot, r])
      call(.yield, [])
      steps.append(Step(transition: .event(.tick), arguments: [], expectedStatus: 0))
      call(.ticks, [])
      call(.capabilityDelete, [root], .busy)
      call(.pageUnmap, [0, 0, slot])
      call(.pageUnmap, [0, 0, slot + 1])
      call(.pageUnmap, [0, 0, slot + 1], .slotEmpty)
      call(.capabilityDelete, [child])
      call(.capabilityDelete, [root])
      call(.pageMap, [0, 0, root, page, UInt64(bounds.windowSlots), r], .outOfRange)
    }
    return steps
  }
}
