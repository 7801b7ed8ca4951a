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
  /// A theorem about the packet-filter language and the overlap check
  /// (``FilterTheorem``), for every pair of filters and every frame.
  case packetFilter(FilterTheorem)

  /// The transition's name, or `initial`.
  public var transitionName: String {
    switch self {
    case .initial: "initial"
    case .abortCompletes: "abortProtocol"
    case .packetFilter: "packetFilter"
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
    case .packetFilter(let theorem): theorem.rawValue
    }
  }

  /// The transition, or nil for an initial-state obligation.
  public var transitionOrNil: Transition? {
    switch self {
    case .initial, .abortCompletes, .packetFilter: nil
    case .preserves(let t, _), .errorUnchanged(let t), .transitionProperty(let t, _): t
    }
  }

  public var description: String { "\(transitionName) ⇒ \(invariantName)" }

  /// A rough cost, for running the slowest first: one per obligation of a
  /// transition; the completeness of the overlap check (tens of solver
  /// checks) as much as a large transition's group.
  public var cost: Int {
    if case .packetFilter(.overlapComplete) = self { return 100 }
    return 1
  }

  /// The obligations sharing one solver (``runObligations``): those of one
  /// transition; each packet-filter theorem on its own.
  public var group: String {
    if case .packetFilter = self { return description }
    return transitionName
  }

  /// Every obligation, in a fixed order: initial ones, then per transition
  /// its preservation obligations and its error obligation.
  /// The liveness obligation comes next, with `abortSteps` ticks; it is
  /// included when the revocation events are among `transitions`. The
  /// packet-filter theorems come last, when `packetFilters`.
  public static func all(
    transitions: [Transition] = Transition.all,
    abortSteps: Int = Verifier.abortSteps(Verifier.proofBounds), packetFilters: Bool = true
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
    if packetFilters { list += FilterTheorem.allCases.map(Obligation.packetFilter) }
    return list
  }
}
