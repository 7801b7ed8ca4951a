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
  /// Each read of user memory (``SymbolicDomain/memoryReads``) takes the
  /// byte `memory` gives at its page and offset under that assignment.
  func evaluate(
    state: ConcreteState, arguments values: [UInt64],
    memory: (UInt64, UInt64) -> UInt64 = { _, _ in 0 }
  ) throws -> (SyscallResult, ConcreteState) {
    var pairs: [(from: any Term, to: any Term)] = []
    for (term, value) in zip(preWords, state.words) { pairs.append((term, domain.word(value))) }
    for (term, value) in zip(arguments, values) { pairs.append((term, domain.word(value))) }
    let assigned = pairs
    for read in domain.memoryReads {
      // A read whose page or offset is not determined is never used (its
      // path condition is false under the assignment): any byte will do.
      let page = read.page.substituting(assigned).simplified().uint64Value
      let offset = read.offset.substituting(assigned).simplified().uint64Value
      let byte = page.flatMap { p in offset.map { memory(p, $0) } } ?? 0
      pairs.append((read.variable, domain.word(byte)))
    }
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
///
/// With `memory` (the page contents `domain` reads), each case's memory
/// holds, in every page, a frame that the current environment may transmit
/// through one of its active filters (or, half the time or without one,
/// bytes of the case's seed).
func crossCheck<D: SpecDomain>(
  _ transition: Transition, cases: Int, seed: UInt64, concrete domain: D,
  memory: PageContents? = nil
) throws -> CrossCheckReport where D.W == UInt64, D.B == Bool, D.Column == [UInt64] {
  let symbolic = try SymbolicTransition(
    transition, bounds: smallBounds, firstPage: smallFirstPage)
  var generator = Generator(seed: seed)
  var report = CrossCheckReport()
  for _ in 0..<cases {
    let state = generator.state()
    let arguments = generator.arguments(transition, for: state)
    if let memory {
      let frameSeed = UInt64(report.cases) &* 0x9E37_79B9_7F4A_7C15 &+ seed
      let mine = (0..<state.bounds.filters).filter {
        state.filters.state[$0] == FilterState.active.rawValue
          && state.filters.owner[$0] == state.current
      }
      if let f = mine.first, frameSeed & 1 == 0 {
        let frame = state.transmittableFrame(
          seed: frameSeed, filter: UInt64(f), length: PacketFilter.maximumFrameLength)
        memory.byte = { _, o in o < UInt64(frame.count) ? UInt64(frame[Int(o)]) : 0 }
      } else {
        memory.byte = { _, o in (frameSeed >> (8 * (o % 8))) & 0xff }
      }
    }
    let (concreteResult, concreteState) = runConcrete(domain, transition, state, arguments)
    let (symbolicResult, symbolicState) = try symbolic.evaluate(
      state: state, arguments: arguments, memory: domain.pageByte)
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
