import ExoABI
import ExoSpec

/// exoverify's theorems evaluated on one concrete step instead of proved
/// for all: after a transition, every invariant of the state after it,
/// every transition property that applies to it and, when it failed, that
/// it changed nothing. The difftest audit (`exo difftest --against audit`)
/// and the libOS workloads check every step they take with it, at sizes
/// the proofs do not reach.
public enum TheoremAudit {
  /// The first invariant that does not hold in `s`, or nil.
  public static func brokenInvariant(in s: ConcreteState) -> Invariant? {
    Invariant.allCases.first { !$0.holds(in: s) }
  }

  /// What the step of `transition` with `arguments` from `pre` to `post`,
  /// which returned `result`, breaks: the first theorem, named, or nil.
  public static func brokenTheorem(
    _ transition: Transition, _ arguments: [UInt64], _ result: SyscallResult,
    pre: ConcreteState, post: ConcreteState
  ) -> String? {
    let call = "\(transition)(\(arguments.map(WordFormat.text).joined(separator: ", ")))"
    let shown = ReplayExpectation(result)
    if result.status != 0 && pre.words != post.words {
      let changed = pre.differences(from: post).prefix(3).joined(separator: "; ")
      return "errorUnchanged broken by \(call): it failed (\(shown)) but changed \(changed)"
    }
    if let broken = brokenInvariant(in: post) {
      return "invariant \(broken) broken by \(call) → \(shown)"
    }
    let outcome = Outcome<ConcreteDomain>(status: result.status, value: result.value)
    for property in TransitionProperty.allCases where property.applies(to: transition) {
      for any in touchedOffsets(transition, arguments)
      where !property.holds(
        transition, arguments, outcome: outcome, pre: pre, post: post, any: any)
      {
        return "transition property \(property) broken by \(call) → \(shown)"
      }
    }
    return nil
  }

  /// The values of ``TransitionStep/any`` a step is checked at: for a
  /// console call, the offsets of its first and last byte and of the first
  /// byte of each page between (the rules are per page); otherwise 0.
  public static func touchedOffsets(_ t: Transition, _ a: [UInt64]) -> [UInt64] {
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
