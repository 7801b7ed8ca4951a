import ExoABI
import ExoSpec

/// The first place two targets disagree.
public struct Divergence: Equatable, Sendable, CustomStringConvertible {
  public enum Kind: String, Sendable {
    /// A call returned different results.
    case result
    /// The results agreed but the abstract states differ (digests differ).
    case state
  }

  public var kind: Kind
  /// The index of the step after which the targets disagree; -1 when they
  /// disagree already after `reset`.
  public var index: Int
  /// That step (nil for index -1).
  public var step: DiffStep?
  public var referenceName: String
  public var candidateName: String
  public var referenceResult: SyscallResult?
  public var candidateResult: SyscallResult?
  /// `field: reference → candidate` lines (`SpecState.differences(from:)`);
  /// empty when the states agree.
  public var stateDifferences: [String]

  public init(
    kind: Kind, index: Int, step: DiffStep?, referenceName: String, candidateName: String,
    referenceResult: SyscallResult?, candidateResult: SyscallResult?, stateDifferences: [String]
  ) {
    self.kind = kind
    self.index = index
    self.step = step
    self.referenceName = referenceName
    self.candidateName = candidateName
    self.referenceResult = referenceResult
    self.candidateResult = candidateResult
    self.stateDifferences = stateDifferences
  }

  /// A report for people: the call, both results, the state diff.
  public var description: String {
    var lines: [String] = []
    if let step {
      lines.append("step \(index): \(step)")
    } else {
      lines.append("initial state (before any step)")
    }
    func text(_ r: SyscallResult?) -> String { r.map { ReplayExpectation($0).description } ?? "-" }
    let marker = kind == .result ? "   <-- results differ" : ""
    lines.append("  \(referenceName): \(text(referenceResult))")
    lines.append("  \(candidateName): \(text(candidateResult))\(marker)")
    if stateDifferences.isEmpty {
      lines.append("  states agree")
    } else {
      lines.append("  state differences (\(referenceName) → \(candidateName)):")
      lines += stateDifferences.map { "    \($0)" }
    }
    return lines.joined(separator: "\n")
  }
}

/// Runs a sequence on a reference target (the spec) and a candidate (the
/// kernel, or a mutated spec), comparing every result and, at every
/// checkpoint, the digests of the abstract states; the full states are
/// fetched only when digests differ.
public final class Differ {
  public let reference: any DiffTarget
  public let candidate: any DiffTarget
  public let bounds: Bounds
  public let firstPage: UInt64
  /// Compare digests after every `checkpointEvery` steps (and after the last).
  public var checkpointEvery: Int

  /// Work done so far, for reports.
  public private(set) var stepsRun = 0
  public private(set) var sequencesRun = 0
  public private(set) var digestsCompared = 0
  public private(set) var statesFetched = 0

  public init(
    reference: any DiffTarget, candidate: any DiffTarget, bounds: Bounds, firstPage: UInt64,
    checkpointEvery: Int = 1
  ) {
    precondition(checkpointEvery >= 1, "checkpointEvery must be at least 1")
    self.reference = reference
    self.candidate = candidate
    self.bounds = bounds
    self.firstPage = firstPage
    self.checkpointEvery = checkpointEvery
  }

  /// The first divergence of `steps`, or nil when both targets agree on
  /// every result and every checkpoint. With checkpoints further apart than
  /// one step, a divergence is located exactly by running the prefix again
  /// with a checkpoint after every step (a state that diverged between
  /// checkpoints may show first as a different result a few calls later).
  public func firstDivergence(_ steps: [DiffStep]) throws -> Divergence? {
    try firstDivergence(steps, checkpointEvery: checkpointEvery)
  }

  /// ``firstDivergence(_:)`` with checkpoints every `k` steps.
  public func firstDivergence(_ steps: [DiffStep], checkpointEvery k: Int) throws -> Divergence? {
    precondition(k >= 1, "checkpointEvery must be at least 1")
    guard let found = try run(steps, every: k) else { return nil }
    if k > 1, found.index >= 0 {
      return try run(Array(steps[...found.index]), every: 1) ?? found
    }
    return found
  }

  /// Whether `steps` diverge.
  public func diverges(_ steps: [DiffStep]) throws -> Bool { try firstDivergence(steps) != nil }

  func run(_ steps: [DiffStep], every k: Int) throws -> Divergence? {
    sequencesRun += 1
    try reference.reset(bounds: bounds, firstPage: firstPage)
    try candidate.reset(bounds: bounds, firstPage: firstPage)
    if let d = try compareStates(index: -1, step: nil, nil, nil) { return d }
    for (i, step) in steps.enumerated() {
      let a = try reference.run(step.transition, step.arguments)
      let b = try candidate.run(step.transition, step.arguments)
      stepsRun += 1
      if a != b {
        let differences = try stateDifferences()
        return Divergence(
          kind: .result, index: i, step: step, referenceName: reference.name,
          candidateName: candidate.name, referenceResult: a, candidateResult: b,
          stateDifferences: differences)
      }
      if (i + 1) % k == 0 || i == steps.count - 1 {
        if let d = try compareStates(index: i, step: step, a, b) { return d }
      }
    }
    return nil
  }

  func compareStates(
    index: Int, step: DiffStep?, _ a: SyscallResult?, _ b: SyscallResult?
  ) throws -> Divergence? {
    digestsCompared += 1
    guard try reference.digest() != candidate.digest() else { return nil }
    var differences = try stateDifferences()
    if differences.isEmpty {
      differences = ["(the digests differ but the states agree field by field)"]
    }
    return Divergence(
      kind: .state, index: index, step: step, referenceName: reference.name,
      candidateName: candidate.name, referenceResult: a, candidateResult: b,
      stateDifferences: differences)
  }

  func stateDifferences() throws -> [String] {
    statesFetched += 1
    return try reference.state().differences(from: candidate.state())
  }
}
