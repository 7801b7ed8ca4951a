import ExoABI
import SMT

/// The spec on Z3 terms: what exoverify states theorems about.
public typealias SymbolicState = SpecState<SymbolicDomain>

extension SpecState where D == SymbolicDomain {
  /// A state whose every word is a fresh constant named `prefix` + its word
  /// name (e.g. `pre.capabilities[2].owner`).
  public init(symbolic domain: SymbolicDomain, bounds: Bounds, firstPage: UInt64, prefix: String) {
    self.init(domain: domain, bounds: bounds, firstPage: firstPage) { name in
      domain.variable(prefix + name)
    }
  }

  /// The concrete state `state` as literals.
  public init(lifting state: ConcreteState, into domain: SymbolicDomain) {
    self.init(
      domain: domain, bounds: state.bounds, firstPage: state.firstPage,
      words: state.words.map(domain.word))
  }

  /// The state's value in `model`.
  public func evaluate(in model: Model) throws -> ConcreteState {
    ConcreteState(
      bounds: bounds, firstPage: firstPage, words: try words.map { try model.eval($0) })
  }
}

extension Outcome where D == SymbolicDomain {
  /// The outcome's value in `model`.
  public func evaluate(in model: Model) throws -> Outcome<ConcreteDomain> {
    Outcome<ConcreteDomain>(status: try model.eval(status), value: try model.eval(value))
  }
}
