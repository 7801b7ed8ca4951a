import ExoABI
import ExoProofs
import ExoSpec

/// One theorem exoverify proves about the spec, each an independent solver
/// query.
public enum Obligation: Hashable, Sendable, CustomStringConvertible {
  /// The initial state satisfies the invariant.
  case initial(Invariant)
  /// Every invariant before, and the transition with any arguments, imply
  /// the invariant after.
  case preserves(Transition, Invariant)
  /// When the transition fails, the state is unchanged.
  case errorUnchanged(Transition)
  /// Every invariant before implies the transition property of the
  /// transition, from the state before to the state after.
  case transitionProperty(Transition, TransitionProperty)
  /// Bounded liveness of the abort protocol: from every state satisfying
  /// every invariant with an expired request, this many timer ticks end
  /// it (``Verifier/checkLiveness(_:steps:)``).
  case abortCompletes(steps: Int)

  /// The transition's name, or `initial`.
  public var transitionName: String {
    switch self {
    case .initial: "initial"
    case .abortCompletes: "abortProtocol"
    case .preserves(let t, _), .errorUnchanged(let t), .transitionProperty(let t, _): t.name
    }
  }

  /// The invariant's name, or `errorUnchanged`.
  public var invariantName: String {
    switch self {
    case .initial(let i), .preserves(_, let i): i.name
    case .errorUnchanged: "errorUnchanged"
    case .transitionProperty(_, let p): p.name
    case .abortCompletes(let steps): "completesWithin\(steps)Ticks"
    }
  }

  /// The transition, or nil for an initial-state obligation.
  public var transitionOrNil: Transition? {
    switch self {
    case .initial, .abortCompletes: nil
    case .preserves(let t, _), .errorUnchanged(let t), .transitionProperty(let t, _): t
    }
  }

  public var description: String { "\(transitionName) ⇒ \(invariantName)" }

  /// Every obligation, in a fixed order: initial ones, then per transition
  /// its preservation obligations and its error obligation.
  /// The liveness obligation comes last, with `abortSteps` ticks; it is
  /// included when the revocation events are among `transitions`.
  public static func all(
    transitions: [Transition] = Transition.all,
    abortSteps: Int = Verifier.abortSteps(Verifier.proofBounds)
  ) -> [Obligation] {
    var list = Invariant.allCases.map(Obligation.initial)
    for t in transitions {
      list += Invariant.allCases.map { .preserves(t, $0) }
      list.append(.errorUnchanged(t))
      list += TransitionProperty.allCases.filter { $0.applies(to: t) }.map {
        .transitionProperty(t, $0)
      }
    }
    if transitions.contains(.event(.revocationAbort)) {
      list.append(.abortCompletes(steps: abortSteps))
    }
    return list
  }
}
