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

  /// The transition's name, or `initial`.
  public var transitionName: String {
    switch self {
    case .initial: "initial"
    case .preserves(let t, _), .errorUnchanged(let t), .transitionProperty(let t, _): t.name
    }
  }

  /// The invariant's name, or `errorUnchanged`.
  public var invariantName: String {
    switch self {
    case .initial(let i), .preserves(_, let i): i.name
    case .errorUnchanged: "errorUnchanged"
    case .transitionProperty(_, let p): p.name
    }
  }

  /// The transition, or nil for an initial-state obligation.
  public var transitionOrNil: Transition? {
    switch self {
    case .initial: nil
    case .preserves(let t, _), .errorUnchanged(let t), .transitionProperty(let t, _): t
    }
  }

  public var description: String { "\(transitionName) ⇒ \(invariantName)" }

  /// Every obligation, in a fixed order: initial ones, then per transition
  /// its preservation obligations and its error obligation.
  public static func all(transitions: [Transition] = Transition.all) -> [Obligation] {
    var list = Invariant.allCases.map(Obligation.initial)
    for t in transitions {
      list += Invariant.allCases.map { .preserves(t, $0) }
      list.append(.errorUnchanged(t))
      list += TransitionProperty.allCases.map { .transitionProperty(t, $0) }
    }
    return list
  }
}
