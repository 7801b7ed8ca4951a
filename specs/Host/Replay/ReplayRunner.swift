import ExoABI

/// What one step of a replay gave.
public struct ReplayStepReport: Equatable, Sendable {
  /// The step's position in the file (0-based).
  public var index: Int
  public var step: ReplayStep
  public var result: SyscallResult

  public init(index: Int, step: ReplayStep, result: SyscallResult) {
    self.index = index
    self.step = step
    self.result = result
  }

  /// The result is what the file expects (or the file expects nothing).
  public var matches: Bool { step.expect?.matches(result) ?? true }
}

/// What a replay gave: every step, and the final state's differences from
/// the file's expected final state.
public struct ReplayReport: Equatable, Sendable {
  public var steps: [ReplayStepReport]
  public var finalState: ConcreteState
  /// `name: expected → actual` lines; empty when the file states no final
  /// state or it matches.
  public var finalDifferences: [String]

  public init(steps: [ReplayStepReport], finalState: ConcreteState, finalDifferences: [String]) {
    self.steps = steps
    self.finalState = finalState
    self.finalDifferences = finalDifferences
  }

  /// Every expectation held.
  public var passed: Bool { steps.allSatisfy(\.matches) && finalDifferences.isEmpty }
}

extension ReplayFile {
  /// Runs the file on the concrete spec.
  public func runOnSpec() -> ReplayReport {
    var state = initialState
    var reports: [ReplayStepReport] = []
    for (index, step) in steps.enumerated() {
      let result = state.step(step.transition, step.arguments, policy: policy)
      reports.append(ReplayStepReport(index: index, step: step, result: result))
    }
    let differences = final.map { $0.differences(from: state) } ?? []
    return ReplayReport(steps: reports, finalState: state, finalDifferences: differences)
  }
}
