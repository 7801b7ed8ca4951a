import ExoABI
import ExoSpec
import Foundation
import SMT

/// The theorems about the packet-filter language (`PacketFilter`, ExoABI)
/// and the kernel's overlap check (`filtersOverlap`, `specs/`), for every
/// pair of encoded filters (every word symbolic: any count, any test) and
/// every frame (docs/network.md).
public enum FilterTheorem: String, CaseIterable, Sendable {
  /// The decoder (`PacketFilter.check`) accepts exactly the well-formed
  /// filters, stated here on its own: at most `maximumTests` tests, each of
  /// width 1, 2 or 4, ending within `maximumFrameLength`, its mask within
  /// its width and its value within its mask.
  case decoderExact
  /// A refused filter's verdict names the first malformed test and a rule
  /// it breaks (or too many tests): every earlier test is well formed.
  case errorNamesTest
  /// Lemma: no frame passes two well-formed tests the check finds
  /// disagreeing (`testsDisagree`), for every two tests.
  case disagreeingTestsExclusive
  /// Lemma: a frame passes a well-formed test exactly when it is long
  /// enough and each byte of the field, under the mask, is the value's.
  case testHoldsBytewise
  /// Lemma: in the frame the completeness theorem builds, another test
  /// the check does not find disagreeing adds to a byte of a test's field
  /// no bit under its mask that its value lacks, and the test itself adds
  /// exactly its value's bits.
  case witnessBytesAgree
  /// Soundness: when the check says two accepted filters are disjoint, no
  /// frame of at most `maximumFrameLength` bytes matches both. Assumes the
  /// lemmas above for the filters' tests (each is its own obligation).
  case overlapSound
  /// Completeness: when the check says they overlap, a frame of at most
  /// `maximumFrameLength` bytes matches both (the kernel never refuses a
  /// filter for nothing). The frame is built: each byte a test constrains
  /// holds the bits the values give it, the frame is as long as frames
  /// get. Assumes the lemmas above for the filters' tests.
  case overlapComplete
}

extension FilterTheorem {
  /// The solver's logic: arrays for the theorems about any frame.
  var logic: String {
    switch self {
    case .disagreeingTestsExclusive, .testHoldsBytewise, .overlapSound: "QF_ABV"
    default: "QF_BV"
    }
  }
}

/// Two filters and a frame: what a failed overlap theorem found.
public struct FilterCounterexample: Sendable, Codable, CustomStringConvertible {
  /// The encoded filters.
  public var a: [UInt64]
  public var b: [UInt64]
  /// The frame (the solver's, or the witness the completeness theorem
  /// builds).
  public var frame: [UInt8]
  /// What the (possibly mutated) overlap check said.
  public var overlapSays: Bool

  /// The bytes of `frame` some test of either filter reads.
  public var touched: [Int] {
    var positions = Set<Int>()
    for words in [a, b] {
      let n = min(Int(words[0]), PacketFilter.maximumTests)
      for i in 0..<n {
        let t = PacketTest(words: (words[1 + 2 * i], words[2 + 2 * i]))
        for p in Int(t.offset)..<Int(t.offset) + Int(t.width) where p < frame.count {
          positions.insert(p)
        }
      }
    }
    return positions.sorted()
  }

  /// Whether the frame matches filter `a` and filter `b`.
  public var matchesBoth: Bool {
    let matchA = (try? PacketFilter(words: a))?.matches(frame: frame) ?? false
    let matchB = (try? PacketFilter(words: b))?.matches(frame: frame) ?? false
    return matchA && matchB
  }

  /// One line: what the check says, and whether the frame matches both.
  public var summary: String {
    "the check says \(overlapSays ? "overlap" : "disjoint"); a frame of \(frame.count) bytes "
      + (matchesBoth ? "matches both filters" : "does not match both filters")
  }

  public var description: String {
    func filter(_ words: [UInt64]) -> String {
      (try? PacketFilter(words: words)).map(\.description) ?? "(refused) \(words)"
    }
    let matchA = (try? PacketFilter(words: a))?.matches(frame: frame) ?? false
    let matchB = (try? PacketFilter(words: b))?.matches(frame: frame) ?? false
    let bytes = touched.map { "[\($0)]=0x" + String(frame[$0], radix: 16) }
    return """
      filter a: \(filter(a))
        filter b: \(filter(b))
        the check says: \(overlapSays ? "overlap" : "disjoint")
        frame of \(frame.count) bytes, those the tests read: \(bytes.isEmpty ? "-" : bytes.joined(separator: " "))
        matches a: \(matchA ? "yes" : "no"), matches b: \(matchB ? "yes" : "no")
      """
  }
}

extension Verifier {
  /// The overlap check the verifier proves things about: the spec's, or
  /// the mutant's.
  func filtersOverlap(
    _ d: SymbolicDomain, _ a: (Int) -> BitVec, _ b: (Int) -> BitVec
  ) -> BoolTerm {
    if let mutant { return mutant.filtersOverlap(d, a, b) }
    return d.filtersOverlap(a, b)
  }

  /// The negated theorem (with instances of proved lemmas, which change
  /// nothing of its models): `unsat` proves it. `length` and `byte` are
  /// the frame when the theorem is about one.
  ///
  /// `cases` split the search. Each case is checked on its own, under the
  /// claim or, to keep it small, under `context` (what it needs of the
  /// claim) and `facts` (instances of proved lemmas); then the claim is
  /// checked with every case denied (the cases cover it), and with some
  /// context denied (the claim implies each context). All unsat: the claim
  /// is.
  struct FilterQuery {
    var claim: BoolTerm
    var cases: [Case] = []
    /// Cases to try when `cases` give up: ``Verifier/checkFilter``.
    var fallback: [Case] = []
    var a: [BitVec]
    var b: [BitVec]
    var length: BitVec?
    var byte: ((BitVec) -> BitVec)?
    var overlap: BoolTerm?
  }

  struct Case {
    var split: BoolTerm
    var context: BoolTerm?
    var facts: BoolTerm?
  }

  func filterQuery(_ theorem: FilterTheorem, _ d: SymbolicDomain) -> FilterQuery {
    let context = d.context
    let count = PacketFilter.wordCount
    let a = (0..<count).map { d.variable("filterA.word\($0)") }
    let b = (0..<count).map { d.variable("filterB.word\($0)") }
    let wordA = { (i: Int) in a[i] }
    let wordB = { (i: Int) in b[i] }
    let maximum = d.word(UInt64(PacketFilter.maximumFrameLength))
    let maximumTestsWord = d.word(UInt64(PacketFilter.maximumTests))
    switch theorem {
    case .decoderExact:
      let accepted = PacketFilter.check(d, wordA).ok
      return FilterQuery(claim: !accepted.iff(wellFormed(d, wordA)), a: a, b: [])
    case .errorNamesTest:
      let verdict = PacketFilter.check(d, wordA)
      return FilterQuery(
        claim: !verdict.ok && !namesFirstMalformed(d, wordA, verdict), a: a, b: [])
    case .disagreeingTestsExclusive:
      let (s, t) = (lemmaTest(d, "s"), lemmaTest(d, "t"))
      let (length, byte) = frame(d)
      return FilterQuery(claim: !exclusiveLemma(d, s, t, length: length, byte: byte), a: [], b: [])
    case .testHoldsBytewise:
      let s = lemmaTest(d, "s")
      let (length, byte) = frame(d)
      return FilterQuery(claim: !bytewiseLemma(d, s, length: length, byte: byte), a: [], b: [])
    case .witnessBytesAgree:
      let (s, t) = (lemmaTest(d, "s"), lemmaTest(d, "t"))
      let (activeS, activeT) = (context.bool("s.active"), context.bool("t.active"))
      let q = d.variable("q")
      let claim =
        !witnessLemma(d, (activeS, s), (activeT, t), sFirst: true, q)
        || !witnessLemma(d, (activeS, s), (activeT, t), sFirst: false, q)
        || !selfLemma(d, (activeS, s), q)
      return FilterQuery(claim: claim, a: [], b: [])
    case .overlapSound:
      let (length, byte) = frame(d)
      let overlap = filtersOverlap(d, wordA, wordB)
      var claim =
        PacketFilter.check(d, wordA).ok && PacketFilter.check(d, wordB).ok
        && length.ule(maximum) && !overlap
        && PacketFilter.matches(d, wordA, length: length, byte: byte)
        && PacketFilter.matches(d, wordB, length: length, byte: byte)
      // Proved facts: the decoder's verdict (decoderExact) and, for each
      // pair of tests, disagreeingTestsExclusive.
      claim = claim && decoderFacts(d, wordA, wordB)
      let tests = bothFilters(d, wordA, wordB)
      for k in tests.indices {
        for l in tests.indices where k < l {
          claim =
            claim && exclusiveLemma(d, tests[k].test, tests[l].test, length: length, byte: byte)
        }
      }
      // If the whole claim is too hard (as it is for a wrong check): by the
      // filters' test counts, fewest first.
      var fallback = [Case(split: maximumTestsWord.ult(a[0]) || maximumTestsWord.ult(b[0]))]
      for total in 0...(2 * PacketFilter.maximumTests) {
        for na in 0...PacketFilter.maximumTests where total - na <= PacketFilter.maximumTests {
          guard total - na >= 0 else { continue }
          fallback.append(
            Case(split: a[0].eq(d.word(UInt64(na))) && b[0].eq(d.word(UInt64(total - na)))))
        }
      }
      return FilterQuery(
        claim: claim, fallback: fallback, a: a, b: b, length: length, byte: byte,
        overlap: overlap)
    case .overlapComplete:
      let (length, byte) = witness(d, wordA, wordB)
      let overlap = filtersOverlap(d, wordA, wordB)
      let both =
        length.ule(maximum) && PacketFilter.matches(d, wordA, length: length, byte: byte)
        && PacketFilter.matches(d, wordB, length: length, byte: byte)
      let accepted = PacketFilter.check(d, wordA).ok && PacketFilter.check(d, wordB).ok
      // Proved facts: decoderExact, and testHoldsBytewise for each test.
      var claim = accepted && overlap && !both && decoderFacts(d, wordA, wordB)
      let tests = bothFilters(d, wordA, wordB)
      for s in tests { claim = claim && bytewiseLemma(d, s.test, length: length, byte: byte) }
      // One case for the frame's length, and per test, one for its end and
      // one for the bytes it reads. A test's case needs of the claim only
      // that the filters are well formed and that the check finds no pair
      // with this test disagreeing; its facts are witnessBytesAgree for
      // each byte and every other test.
      let wellFormedBoth = wellFormed(d, wordA) && wellFormed(d, wordB)
      var cases = [Case(split: !length.ule(maximum))]
      for (i, s) in tests.enumerated() {
        let parts = bytewise(d, s.test, length: length, byte: byte)
        cases.append(Case(split: s.active && !parts.long, context: wellFormedBoth))
        var agreeing = wellFormedBoth
        for (j, t) in tests.enumerated() where j != i {
          agreeing = agreeing && !pair(d, s, t, sFirst: i < j)
        }
        var facts = d.bool(true)
        var fails = d.bool(false)
        for (k, (inField, agrees)) in parts.bytes.enumerated() {
          let q = k == 0 ? s.test.offset : d.add(s.test.offset, d.word(UInt64(k)))
          facts = facts && selfLemma(d, s, q)
          for (j, t) in tests.enumerated() where j != i {
            facts = facts && witnessLemma(d, s, t, sFirst: i < j, q)
          }
          fails = fails || (inField && !agrees)
        }
        cases.append(Case(split: s.active && fails, context: agreeing, facts: facts))
      }
      return FilterQuery(
        claim: claim, cases: cases, a: a, b: b, length: length, byte: byte, overlap: overlap)
    }
  }

  /// Checks one packet-filter theorem; `cache` answers it if unchanged.
  func checkFilter(_ obligation: Obligation, _ theorem: FilterTheorem, cache: ProofCache?)
    -> ObligationReport
  {
    let start = DispatchTime.now()
    func since() -> Double {
      Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
    do {
      let context = try Context(randomSeed: 0)
      let d = SymbolicDomain(context: context)
      let q = filterQuery(theorem, d)
      let key = ProofCache.key(
        "exoverify-filter-v1 \(mutant?.rawValue ?? "-") "
          + ([q.claim]
          + (q.cases + q.fallback).flatMap { [$0.split, $0.context, $0.facts].compactMap { $0 } })
          .map(\.ast.contentHash).joined(separator: " "))
      if let cache, cache.contains(key) {
        return ObligationReport(
          obligation: obligation, verdict: .proved, seconds: since(), cached: true)
      }
      // A fresh solver per check: a solver used after `push` is Z3's
      // incremental one, without the preprocessing these formulas need.
      func check(_ assertions: [BoolTerm], milliseconds: UInt32) throws -> CheckResult {
        let solver = try Solver(context: context, logic: theorem.logic)
        try solver.setTimeout(milliseconds: milliseconds)
        for a in assertions { solver.assert(a) }
        return try solver.check()
      }
      /// Checks `cases` as ``FilterQuery`` says.
      func split(_ cases: [Case], milliseconds: UInt32) throws -> CheckResult {
        let contexts = cases.compactMap(\.context)
        var checks = cases.map { c in
          [c.context ?? q.claim, c.facts ?? context.bool(true), c.split]
        }
        checks.append([q.claim, !context.or(cases.map(\.split))])
        if !contexts.isEmpty { checks.append([q.claim, !context.and(contexts)]) }
        var answer = CheckResult.unsat
        for (n, assertions) in checks.enumerated() {
          answer = try check(assertions, milliseconds: milliseconds)
          // A model of a case under its context alone need not be one of
          // the claim: the case is checked again under the claim.
          if case .sat = answer, n < cases.count, cases[n].context != nil {
            answer = try check([q.claim, cases[n].split], milliseconds: milliseconds)
          }
          if case .unsat = answer { continue }
          break
        }
        return answer
      }
      var answer: CheckResult
      if q.fallback.isEmpty {
        answer = try split(q.cases, milliseconds: timeoutMilliseconds)
      } else {
        // A short first try; if it gives up, the smaller cases of
        // `fallback` (which find a counterexample sooner, if there is one).
        answer = try split(q.cases, milliseconds: min(timeoutMilliseconds, 20_000))
        if case .unknown = answer {
          answer = try split(q.fallback, milliseconds: timeoutMilliseconds)
        }
      }
      switch answer {
      case .unsat:
        cache?.insert(key)
        return ObligationReport(
          obligation: obligation, verdict: .proved, seconds: since(),
          detail: "\(PacketFilter.maximumTests) tests per filter, frames up to "
            + "\(PacketFilter.maximumFrameLength) bytes", cached: false)
      case .sat(let model):
        let a = try q.a.map { try model.eval($0) }
        let b = try q.b.map { try model.eval($0) }
        var example = Counterexample(
          transition: nil, arguments: [], pre: ConcreteState(bounds: bounds, firstPage: firstPage),
          post: ConcreteState(bounds: bounds, firstPage: firstPage), result: nil)
        var detail = "filter words a \(a)" + (b.isEmpty ? "" : ", b \(b)")
        if let lengthTerm = q.length, let byte = q.byte, let overlap = q.overlap {
          let length = Int(min(try model.eval(lengthTerm), UInt64(PacketFilter.maximumFrameLength)))
          let frame = try (0..<length).map {
            UInt8(truncatingIfNeeded: try model.eval(byte(d.word(UInt64($0)))))
          }
          // The words of unused tests are never read: written as zero.
          let canonical = { (w: [UInt64]) in (try? PacketFilter(words: w))?.words ?? w }
          let found = FilterCounterexample(
            a: canonical(a), b: canonical(b), frame: frame, overlapSays: try model.eval(overlap))
          example.filters = found
          detail = found.summary
        }
        return ObligationReport(
          obligation: obligation, verdict: .failed, seconds: since(), detail: detail,
          counterexample: example, cached: false)
      case .unknown(let reason):
        let verdict: ProofVerdict =
          reason.contains("timeout") || reason.contains("canceled") ? .timeout : .unknown
        return ObligationReport(
          obligation: obligation, verdict: verdict, seconds: since(), detail: reason,
          cached: false)
      }
    } catch {
      return ObligationReport(
        obligation: obligation, verdict: .unknown, seconds: since(), detail: "\(error)",
        cached: false)
    }
  }
}
