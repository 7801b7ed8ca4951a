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
///
/// A property that quantifies over the bytes a console call touches
/// (``TransitionStep/any``) is checked at the first and last byte and at
/// the first byte of every page between: the rules are per page.
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

/// The checks of an ``AuditTarget``: the first broken theorem.
final class Auditor {
  var violation: String?
  var checked = 0

  /// A fresh run from `initial`, whose invariants are checked now.
  func start(_ initial: ConcreteState) {
    violation = nil
    if let broken = Invariant.allCases.first(where: { !$0.holds(in: initial) }) {
      violation = "invariant \(broken) does not hold in the initial state"
    }
  }

  func audit(
    _ t: Transition, _ a: [UInt64], _ result: SyscallResult, pre: ConcreteState,
    post: ConcreteState
  ) {
    guard violation == nil else { return }
    checked += 1
    let call = "\(t)(\(a.map(WordFormat.text).joined(separator: ", ")))"
    let shown = ReplayExpectation(result)
    let outcome = Outcome<ConcreteDomain>(status: result.status, value: result.value)
    if result.status != 0 && pre.words != post.words {
      let changed = pre.differences(from: post).prefix(3).joined(separator: "; ")
      violation = "errorUnchanged broken by \(call): it failed (\(shown)) but changed \(changed)"
      return
    }
    if let broken = Invariant.allCases.first(where: { !$0.holds(in: post) }) {
      violation = "invariant \(broken) broken by \(call) → \(shown)"
      return
    }
    let bytes = Self.touchedOffsets(t, a)
    for property in TransitionProperty.allCases where property.applies(to: t) {
      for any in bytes
      where !property.holds(t, a, outcome: outcome, pre: pre, post: post, any: any) {
        violation = "transition property \(property) broken by \(call) → \(shown)"
        return
      }
    }
  }

  /// The values of ``TransitionStep/any`` a step is checked at: for a
  /// console call, the offsets of its first and last byte and of the first
  /// byte of each page between; otherwise 0.
  static func touchedOffsets(_ t: Transition, _ a: [UInt64]) -> [UInt64] {
    guard t == .call(.consoleWrite) || t == .call(.consoleRead), a.count >= 2, a[1] > 0 else {
      return [0]
    }
    // Past two pages every length is refused (ConsoleLimits): its first
    // and last byte are checked, no page between.
    let (address, length) = (a[0], a[1])
    var offsets: [UInt64] = [0]
    var next = 4096 - address % 4096
    while next < min(length, 8192) {
      offsets.append(next)
      next += 4096
    }
    offsets.append(length - 1)
    return offsets
  }
}
