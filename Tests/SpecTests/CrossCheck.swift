import ExoABI
import ExoSpec
import SMT

/// The symbolic interpretation of one transition, built once: a pre-state
/// and arguments of fresh constants, and the outcome and post-state terms
/// the spec computes from them.
final class SymbolicTransition {
  let transition: Transition
  let context: Context
  let domain: SymbolicDomain
  let pre: SymbolicState
  let arguments: [BitVec]
  let post: SymbolicState
  let outcome: Outcome<SymbolicDomain>
  private let preWords: [BitVec]
  /// Every output word in one term (status, value, then the post-state's
  /// words, most significant first), so one evaluation per case suffices.
  private let everything: BitVec

  init(_ transition: Transition, bounds: Bounds, firstPage: UInt64) throws {
    self.transition = transition
    let context = try Context(randomSeed: 1)
    let domain = SymbolicDomain(context: context)
    self.context = context
    self.domain = domain
    pre = SymbolicState(symbolic: domain, bounds: bounds, firstPage: firstPage, prefix: "pre.")
    let arguments = transition.parameters.map { domain.variable("arg.\($0)") }
    self.arguments = arguments
    var state = pre
    outcome = state.apply(transition, arguments)
    post = state
    preWords = pre.words
    everything = ([outcome.status, outcome.value] + post.words).dropFirst().reduce(
      outcome.status
    ) { $0.concat($1) }
  }

  /// The symbolic result under the assignment of `state` to the pre-state
  /// and `values` to the arguments: the constants are replaced by those
  /// literals and Z3 simplifies the (ground) result to a literal.
  func evaluate(state: ConcreteState, arguments values: [UInt64]) throws -> (
    SyscallResult, ConcreteState
  ) {
    var pairs: [(from: any Term, to: any Term)] = []
    for (term, value) in zip(preWords, state.words) { pairs.append((term, domain.word(value))) }
    for (term, value) in zip(arguments, values) { pairs.append((term, domain.word(value))) }
    guard let numeral = everything.substituting(pairs).simplified().numeralValue else {
      throw CrossCheckError.notALiteral
    }
    let words = wordsOf(decimal: numeral, count: 2 + post.words.count)
    let result = SyscallResult(status: words[0], value: words[1])
    return (
      result,
      ConcreteState(bounds: state.bounds, firstPage: state.firstPage, words: Array(words[2...]))
    )
  }

}

enum CrossCheckError: Error { case notALiteral }

/// A case where the two interpretations disagree.
struct Disagreement: CustomStringConvertible {
  let transition: Transition
  let arguments: [UInt64]
  let concrete: SyscallResult
  let symbolic: SyscallResult
  let stateDifferences: [String]

  var description: String {
    "\(transition)(\(arguments.map(WordFormat.text).joined(separator: ", "))): "
      + "concrete \(concrete.status)/\(concrete.value), symbolic \(symbolic.status)/"
      + "\(symbolic.value); state: \(stateDifferences.prefix(5).joined(separator: "; "))"
  }
}

/// Runs `transition` on `state` in the concrete domain `domain` (the real
/// ``ConcreteDomain``, or a planted variant of it).
func runConcrete<D: SpecDomain>(
  _ domain: D, _ transition: Transition, _ state: ConcreteState, _ arguments: [UInt64]
) -> (SyscallResult, ConcreteState) where D.W == UInt64, D.B == Bool, D.Column == [UInt64] {
  var s = SpecState<D>(
    domain: domain, bounds: state.bounds, firstPage: state.firstPage, words: state.words)
  let outcome = s.apply(transition, arguments)
  return (
    SyscallResult(status: outcome.status, value: outcome.value),
    ConcreteState(bounds: state.bounds, firstPage: state.firstPage, words: s.words)
  )
}

/// Statistics of a cross-check run.
struct CrossCheckReport {
  var cases = 0
  var successes = 0
  var disagreements: [Disagreement] = []
}

/// Runs `cases` random states and arguments through the symbolic formula of
/// `transition` and through the concrete domain `domain`, and collects the
/// cases where the results (status, value, every table word) differ.
func crossCheck<D: SpecDomain>(
  _ transition: Transition, cases: Int, seed: UInt64, concrete domain: D
) throws -> CrossCheckReport where D.W == UInt64, D.B == Bool, D.Column == [UInt64] {
  let symbolic = try SymbolicTransition(
    transition, bounds: smallBounds, firstPage: smallFirstPage)
  var generator = Generator(seed: seed)
  var report = CrossCheckReport()
  for _ in 0..<cases {
    let state = generator.state()
    let arguments = generator.arguments(transition, for: state)
    let (concreteResult, concreteState) = runConcrete(domain, transition, state, arguments)
    let (symbolicResult, symbolicState) = try symbolic.evaluate(
      state: state, arguments: arguments)
    report.cases += 1
    if concreteResult.status == 0 { report.successes += 1 }
    if concreteResult != symbolicResult || concreteState != symbolicState {
      report.disagreements.append(
        Disagreement(
          transition: transition, arguments: arguments, concrete: concreteResult,
          symbolic: symbolicResult, stateDifferences: concreteState.differences(from: symbolicState)
        ))
    }
  }
  return report
}

/// The `count` 64-bit words of the unsigned decimal numeral `text`, most
/// significant first (as `concat` lays them out).
func wordsOf(decimal text: String, count: Int) -> [UInt64] {
  var little = [UInt64](repeating: 0, count: count)  // least significant first
  var digits = Substring(text)
  while !digits.isEmpty {
    let chunk = digits.prefix(18)
    digits = digits.dropFirst(chunk.count)
    var multiplier: UInt64 = 1
    for _ in 0..<chunk.count { multiplier *= 10 }
    var carry = UInt64(chunk) ?? 0
    for i in little.indices {
      let (high, low) = little[i].multipliedFullWidth(by: multiplier)
      let (sum, overflow) = low.addingReportingOverflow(carry)
      little[i] = sum
      carry = high &+ (overflow ? 1 : 0)
    }
  }
  return little.reversed()
}
