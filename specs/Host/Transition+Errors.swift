import ExoABI
import SMT

extension Transition {
  /// The errors the transition's checks can give a running caller, in its
  /// check order (each once): read off the spec by running the transition
  /// on a symbolic state (every word a variable, except `current`, a valid
  /// environment) with symbolic arguments and noting every check that can
  /// fail. The order of the checks does not depend on the table sizes, so
  /// small ones are used. The differential tester's coverage compares what
  /// a run reached with this list.
  public func errors() throws -> [ExoError] {
    let domain = SymbolicDomain(context: try Context())
    let bounds = Bounds(
      environments: 2, pages: 2, capabilities: 2, windowSlots: 2, slices: 2, maximumDepth: 2,
      maximumRun: 2)
    var state = SymbolicState(symbolic: domain, bounds: bounds, firstPage: 16, prefix: "")
    state.current = domain.word(0)
    let arguments = parameters.map { domain.variable("argument." + $0) }
    domain.checkedCodes = []
    _ = state.apply(self, arguments)
    var seen: [ExoError] = []
    for code in domain.checkedCodes ?? [] {
      let error = ExoError(rawValue: code)
      guard !seen.contains(error) else { continue }
      seen.append(error)
    }
    return seen
  }
}
