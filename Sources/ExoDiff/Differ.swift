import ExoABI
import ExoSpec

/// The first place two targets disagree.
public struct Divergence: Equatable, Sendable, CustomStringConvertible {
  public enum Kind: String, Sendable {
    /// A call returned different results.
    case result
    /// The results agreed but the abstract states differ (digests differ).
    case state
    /// The candidate stopped answering at this step: the guest panicked,
    /// died or broke the protocol (`failure` says how).
    case failure
    /// The results agreed but user code saw the machine differently: its
    /// registers, memory probes or page contents (`machineDifferences`).
    case machine
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
  /// For `.failure`: what the candidate reported.
  public var failure: String?
  /// For `.machine`: what user code saw differently
  /// (``MachineObservation/differences(from:)``).
  public var machineDifferences: [String] = []

  public init(
    kind: Kind, index: Int, step: DiffStep?, referenceName: String, candidateName: String,
    referenceResult: SyscallResult?, candidateResult: SyscallResult?, stateDifferences: [String],
    failure: String? = nil
  ) {
    self.failure = failure
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
    if let failure {
      lines.append("  \(candidateName): FAILED: \(failure)")
      return lines.joined(separator: "\n")
    }
    lines.append("  \(candidateName): \(text(candidateResult))\(marker)")
    if !machineDifferences.isEmpty {
      lines.append("  user code saw the machine differently (\(referenceName) → \(candidateName)):")
      lines += machineDifferences.map { "    \($0)" }
    }
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

  /// Fetch and diff the whole states at a divergence (the shrinker turns
  /// this off for its candidates: only the final report needs them).
  public var fetchStates = true

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
    let a = try reference.observe(steps, checkpointEvery: k, bounds: bounds, firstPage: firstPage)
    let b = try candidate.observe(steps, checkpointEvery: k, bounds: bounds, firstPage: firstPage)
    precondition(a.failure == nil, "the reference target failed: \(a.failure ?? "")")
    digestsCompared += 1
    if let failure = b.failure, b.initialDigest == nil {
      return Divergence(
        kind: .failure, index: -1, step: nil, referenceName: reference.name,
        candidateName: candidate.name, referenceResult: nil, candidateResult: nil,
        stateDifferences: [], failure: failure)
    }
    if a.initialDigest != b.initialDigest {
      return try divergence(.state, at: -1, in: steps, nil, nil)
    }
    for i in steps.indices {
      guard i < b.observations.count else {
        stepsRun += i
        return Divergence(
          kind: .failure, index: i, step: steps[i], referenceName: reference.name,
          candidateName: candidate.name, referenceResult: a.observations[i].result,
          candidateResult: nil, stateDifferences: [], failure: b.failure ?? "no result")
      }
      let x = a.observations[i]
      let y = b.observations[i]
      if x.result != y.result {
        stepsRun += i + 1
        return try divergence(.result, at: i, in: steps, x.result, y.result)
      }
      if !x.machine.admits(y.machine) {
        stepsRun += i + 1
        var d = try divergence(.machine, at: i, in: steps, x.result, y.result)
        d.machineDifferences = x.machine.differences(from: y.machine, step: steps[i])
        return d
      }
      if let digest = x.digest {
        digestsCompared += 1
        if digest != y.digest {
          stepsRun += i + 1
          return try divergence(.state, at: i, in: steps, x.result, y.result)
        }
      }
    }
    stepsRun += steps.count
    return nil
  }

  /// A divergence at step `index` (-1: after the reset), with the state
  /// differences after that step, fetched by running the prefix again.
  func divergence(
    _ kind: Divergence.Kind, at index: Int, in steps: [DiffStep], _ a: SyscallResult?,
    _ b: SyscallResult?
  ) throws -> Divergence {
    var differences: [String] = []
    var failure: String?
    if fetchStates {
      do {
        differences = try stateDifferences(after: Array(steps.prefix(index + 1)))
      } catch {
        failure = "cannot fetch the state: \(error)"
      }
    }
    if fetchStates && kind == .state && differences.isEmpty && failure == nil {
      differences = ["(the digests differ but the states agree field by field)"]
    }
    return Divergence(
      kind: kind, index: index, step: index >= 0 ? steps[index] : nil,
      referenceName: reference.name, candidateName: candidate.name, referenceResult: a,
      candidateResult: b, stateDifferences: differences, failure: failure)
  }

  /// Runs `prefix` on both targets and compares their whole states.
  func stateDifferences(after prefix: [DiffStep]) throws -> [String] {
    statesFetched += 1
    let k = max(1, prefix.count)
    _ = try reference.observe(prefix, checkpointEvery: k, bounds: bounds, firstPage: firstPage)
    let b = try candidate.observe(prefix, checkpointEvery: k, bounds: bounds, firstPage: firstPage)
    if let failure = b.failure { throw DiffError.targetFailed(failure) }
    return try reference.state().differences(from: candidate.state())
  }
}

/// A target that cannot do what the tester asks.
public enum DiffError: Error, CustomStringConvertible {
  case targetFailed(String)

  public var description: String {
    switch self {
    case .targetFailed(let why): why
    }
  }
}
