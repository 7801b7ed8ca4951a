import ExoABI
import ExoProofs
import ExoSpec

/// The spec run with exoverify's theorems checked on every transition it
/// takes, at the target's bounds (normally the kernel's): after each
/// transition every invariant (proofs/), every transition property that
/// applies to it, and, when it failed, that it changed nothing.
///
/// exoverify proves these theorems at small bounds (``Bounds``); this
/// target checks them on the states the tester's sequences reach at the
/// sizes the kernel runs, so a spec change that is wrong only for a longer
/// run, a higher window slot or a later environment than the proof bounds
/// hold shows here as the transition that broke a named theorem. The
/// first broken theorem ends the run as a failure of the target (a
/// divergence of kind `failure`, shrunk and written as a replay file like
/// any other).
public final class AuditTarget: DiffTarget {
  public let name: String
  let spec: MutantSpecTarget
  let auditor: Auditor

  /// The first theorem broken since the last reset, or nil.
  public var violation: String? { auditor.violation }
  /// Transitions checked since the target was made.
  public var transitionsChecked: Int { auditor.checked }

  /// The spec, or with `apply` a changed spec (a mutant), audited.
  public init(
    name: String = "spec-audited", bounds: Bounds = .kernel, firstPage: UInt64 = 0x1000,
    apply: MutantSpecTarget.Apply? = nil
  ) {
    let auditor = Auditor()
    let run = apply ?? { t, s, a in s.step(t, a) }
    self.name = name
    self.auditor = auditor
    spec = MutantSpecTarget(name: name, bounds: bounds, firstPage: firstPage) { t, s, a in
      let pre = s
      let result = run(t, &s, a)
      auditor.audit(t, a, result, pre: pre, post: s)
      return result
    }
    auditor.start(spec.current)
  }

  public func reset(bounds: Bounds, firstPage: UInt64) {
    spec.reset(bounds: bounds, firstPage: firstPage)
    auditor.start(spec.current)
  }

  /// The step on the audited spec; throws the first broken theorem.
  public func run(_ step: Transition, _ arguments: [UInt64]) throws -> SyscallResult {
    let result = try spec.run(step, arguments)
    if let violation = auditor.violation { throw DiffError.targetFailed(violation) }
    return result
  }

  public func probe(_ probes: [DiffProbe]) -> [DiffProbeOutcome] { spec.probe(probes) }
  public func digest() -> UInt64 { spec.digest() }
  public func state() -> ConcreteState { spec.current }

  /// A broken theorem ends the run as the target's failure.
  public func observe(
    _ steps: [DiffStep], checkpointEvery k: Int, bounds: Bounds, firstPage: UInt64
  ) throws -> ObservedRun {
    try observeStepByStep(
      steps, checkpointEvery: k, bounds: bounds, firstPage: firstPage, failureEndsRun: true)
  }
}

/// The checks of an ``AuditTarget``: the first broken theorem
/// (``TheoremAudit``).
final class Auditor {
  var violation: String?
  var checked = 0

  /// A fresh run from `initial`, whose invariants are checked now.
  func start(_ initial: ConcreteState) {
    violation = TheoremAudit.brokenInvariant(in: initial).map {
      "invariant \($0) does not hold in the initial state"
    }
  }

  func audit(
    _ t: Transition, _ a: [UInt64], _ result: SyscallResult, pre: ConcreteState,
    post: ConcreteState
  ) {
    guard violation == nil else { return }
    checked += 1
    violation = TheoremAudit.brokenTheorem(t, a, result, pre: pre, post: post)
  }
}
