import ExoABI
import ExoSpec

/// How an obligation ended. Unknown and timeout are failures, never passes.
public enum ProofVerdict: String, Sendable, Codable {
  case proved, failed, unknown, timeout
}

/// A counterexample: the pre-state and arguments the solver found, and what
/// the concrete spec does with them.
public struct Counterexample: Sendable {
  public var transition: Transition?
  public var arguments: [UInt64]
  public var pre: ConcreteState
  public var post: ConcreteState
  public var result: SyscallResult?
  /// For a packet-filter theorem: the filters and the frame (no transition,
  /// and the states are the initial state).
  public var filters: FilterCounterexample? = nil
}

/// The result of one obligation.
public struct ObligationReport: Sendable {
  public var obligation: Obligation
  public var verdict: ProofVerdict
  public var seconds: Double
  /// The solver's reason when the verdict is unknown or timeout, or an error.
  public var detail: String?
  public var counterexample: Counterexample?
  /// Whether the result came from the cache.
  public var cached: Bool
}
