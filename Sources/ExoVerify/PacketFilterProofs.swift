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
public struct FilterCounterexample: Sendable, CustomStringConvertible {
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
  /// claim or, to keep it small, under `context` (conjuncts of the claim)
  /// and `facts` (instances of proved lemmas); then the claim is checked
  /// with every case denied (the cases cover it), and with some context
  /// denied (the claim implies each context). All unsat: the claim is.
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
      let context = PacketFilter.check(d, wordA).ok && PacketFilter.check(d, wordB).ok && overlap
      // Proved facts: decoderExact, and testHoldsBytewise for each test.
      let decoder = decoderFacts(d, wordA, wordB)
      var claim = context && !both && decoder
      let tests = bothFilters(d, wordA, wordB)
      for s in tests { claim = claim && bytewiseLemma(d, s.test, length: length, byte: byte) }
      // One case for the frame's length, and per test, one for its end and
      // one for the bytes it reads, each with the facts it needs:
      // witnessBytesAgree for each byte and every other test.
      // A byte's case needs of the claim only that the filters are well
      // formed and that the check finds no pair with this test
      // disagreeing.
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

  /// Any frame: its length, and a byte at every position a 16-bit index
  /// reaches (every test of an accepted filter reads below 1514 + 3; a
  /// test of `s` reads `byte` only at its offset plus 0 to 3).
  func frame(_ d: SymbolicDomain) -> (length: BitVec, byte: (BitVec) -> BitVec) {
    let bytes = d.context.array("frame", indexWidth: 16, valueWidth: 8)
    let byte = { (i: BitVec) in bytes.select(i.extract(high: 15, low: 0)).zeroExtend(by: 56) }
    return (d.variable("frame.length"), byte)
  }

  /// A test whose two words are free: the lemmas hold for every test.
  func lemmaTest(_ d: SymbolicDomain, _ name: String) -> EncodedTest<BitVec> {
    let first = d.variable("\(name).word1")
    let second = d.variable("\(name).word2")
    return PacketFilter.test(d, 0) { $0 == 1 ? first : second }
  }

  /// decoderExact for both filters.
  func decoderFacts(_ d: SymbolicDomain, _ a: (Int) -> BitVec, _ b: (Int) -> BitVec) -> BoolTerm {
    PacketFilter.check(d, a).ok.iff(wellFormed(d, a))
      && PacketFilter.check(d, b).ok.iff(wellFormed(d, b))
  }

  /// Lemma: no frame passes two well-formed tests that the check finds
  /// disagreeing.
  func exclusiveLemma(
    _ d: SymbolicDomain, _ s: EncodedTest<BitVec>, _ t: EncodedTest<BitVec>, length: BitVec,
    byte: (BitVec) -> BitVec
  ) -> BoolTerm {
    !(testWellFormed(d, s) && testWellFormed(d, t)
      && PacketFilter.holds(d, s, length: length, byte: byte)
      && PacketFilter.holds(d, t, length: length, byte: byte) && d.testsDisagree(s, t))
  }

  /// Byte `q` of a field `x` of test `t` (`q` within the field), 8 bits
  /// wide. Positions are compared in 16 bits: a well-formed test's bytes
  /// lie below 1514, where that is exact.
  func fieldByte(_ d: SymbolicDomain, _ x: BitVec, _ t: EncodedTest<BitVec>, _ q: BitVec)
    -> BitVec
  {
    // Byte q is byte `end - 1 - q` from the field's low end.
    let back = end(t) - d.context.bitVec(1, width: 16) - position(q)
    let byte = { (k: Int) in x.extract(high: 8 * k + 7, low: 8 * k) }
    let one = { (v: UInt64) in back.eq(d.context.bitVec(v, width: 16)) }
    return d.ite(one(0), byte(0), d.ite(one(1), byte(1), d.ite(one(2), byte(2), byte(3))))
  }

  /// A position in 16 bits.
  func position(_ q: BitVec) -> BitVec { q.extract(high: 15, low: 0) }

  /// The end of `t`'s field in 16 bits.
  func end(_ t: EncodedTest<BitVec>) -> BitVec { position(t.offset) + position(t.width) }

  /// Whether byte `q` lies in the field of `t` (16-bit positions).
  func covers(_ d: SymbolicDomain, _ t: EncodedTest<BitVec>, _ q: BitVec) -> BoolTerm {
    position(t.offset).ule(position(q)) && position(q).ult(end(t))
  }

  /// Lemma: a frame passes a well-formed test exactly when it is long
  /// enough and each byte of the field, under the mask's byte, is the
  /// value's byte.
  func bytewiseLemma(
    _ d: SymbolicDomain, _ s: EncodedTest<BitVec>, length: BitVec, byte: (BitVec) -> BitVec
  ) -> BoolTerm {
    let parts = bytewise(d, s, length: length, byte: byte)
    var all = parts.long
    for (inField, agrees) in parts.bytes { all = all && (!inField || agrees) }
    return !testWellFormed(d, s) || PacketFilter.holds(d, s, length: length, byte: byte).iff(all)
  }

  /// The parts of ``bytewiseLemma``: the frame is long enough; for each
  /// `k < 4`, byte `offset + k` is in the field, and it agrees with the
  /// test under the mask.
  func bytewise(
    _ d: SymbolicDomain, _ s: EncodedTest<BitVec>, length: BitVec, byte: (BitVec) -> BitVec
  ) -> (long: BoolTerm, bytes: [(inField: BoolTerm, agrees: BoolTerm)]) {
    let long = (s.offset + s.width).ule(length)
    let bytes = (0..<4).map { k in
      let q = k == 0 ? s.offset : d.add(s.offset, d.word(UInt64(k)))
      let agrees = (byte(q).extract(high: 7, low: 0) & fieldByte(d, s.mask, s, q)).eq(
        fieldByte(d, s.value, s, q))
      return (d.word(UInt64(k)).ult(s.width), agrees)
    }
    return (long, bytes)
  }

  /// What test `t` contributes to byte `q` of the witness frame: its
  /// value's byte there if it is active and covers `q`, else zero.
  func contribution(
    _ d: SymbolicDomain, _ t: (active: BoolTerm, test: EncodedTest<BitVec>), _ q: BitVec
  ) -> BitVec {
    d.ite(
      t.active && covers(d, t.test, q), fieldByte(d, t.test.value, t.test, q),
      d.context.bitVec(0, width: 8))
  }

  /// Lemma: when the check finds no disagreement between active test `s`
  /// and test `t` (the pair as the check orders it: `s` first or `t`),
  /// `t` contributes to a byte of `s`'s field no bit under `s`'s mask that
  /// `s`'s value does not set.
  func witnessLemma(
    _ d: SymbolicDomain, _ s: (active: BoolTerm, test: EncodedTest<BitVec>),
    _ t: (active: BoolTerm, test: EncodedTest<BitVec>), sFirst: Bool, _ q: BitVec
  ) -> BoolTerm {
    let premise =
      testWellFormed(d, s.test) && testWellFormed(d, t.test) && s.active && covers(d, s.test, q)
      && !pair(d, s, t, sFirst: sFirst)
    let extra =
      contribution(d, t, q) & fieldByte(d, s.test.mask, s.test, q)
      & ~fieldByte(d, s.test.value, s.test, q)
    return !premise || extra.eq(d.context.bitVec(0, width: 8))
  }

  /// The check's term for the pair of `s` and `t`: both active and
  /// disagreeing, in the check's order (`s` first or `t`).
  func pair(
    _ d: SymbolicDomain, _ s: (active: BoolTerm, test: EncodedTest<BitVec>),
    _ t: (active: BoolTerm, test: EncodedTest<BitVec>), sFirst: Bool
  ) -> BoolTerm {
    sFirst
      ? d.and(s.active, d.and(t.active, d.testsDisagree(s.test, t.test)))
      : d.and(t.active, d.and(s.active, d.testsDisagree(t.test, s.test)))
  }

  /// Lemma: an active well-formed test's own contribution to a byte of
  /// its field, under its mask, is its value's byte.
  func selfLemma(
    _ d: SymbolicDomain, _ s: (active: BoolTerm, test: EncodedTest<BitVec>), _ q: BitVec
  ) -> BoolTerm {
    let premise = testWellFormed(d, s.test) && s.active && covers(d, s.test, q)
    let own = contribution(d, s, q) & fieldByte(d, s.test.mask, s.test, q)
    return !premise || own.eq(fieldByte(d, s.test.value, s.test, q))
  }

  /// Test `i` of `word` is well formed, stated without the decoder's code.
  func testWellFormed(_ d: SymbolicDomain, _ t: EncodedTest<BitVec>) -> BoolTerm {
    let width = t.width
    let widthOK = width.eq(d.word(1)) || width.eq(d.word(2)) || width.eq(d.word(4))
    let ends = (t.offset + width).ule(d.word(UInt64(PacketFilter.maximumFrameLength)))
    let maskFits = maskWithin(d, t)
    let valueInMask = (t.value & ~t.mask).eq(d.word(0))
    return widthOK && ends && maskFits && valueInMask
  }

  /// The mask has no bit above the field's width (1, 2 or 4 bytes).
  func maskWithin(_ d: SymbolicDomain, _ t: EncodedTest<BitVec>) -> BoolTerm {
    let zeroAbove = { (bits: Int) in
      t.mask.extract(high: 63, low: bits).eq(d.context.bitVec(0, width: 64 - bits))
    }
    return (!t.width.eq(d.word(1)) || zeroAbove(8)) && (!t.width.eq(d.word(2)) || zeroAbove(16))
      && (!t.width.eq(d.word(4)) || zeroAbove(32))
  }

  func wellFormed(_ d: SymbolicDomain, _ word: (Int) -> BitVec) -> BoolTerm {
    var all = word(0).ule(d.word(UInt64(PacketFilter.maximumTests)))
    for i in 0..<PacketFilter.maximumTests {
      let inactive = d.not(d.ult(d.word(UInt64(i)), word(0)))
      all = all && (inactive || testWellFormed(d, PacketFilter.test(d, i, word)))
    }
    return all
  }

  /// The refusal `verdict` names too many tests, or the first malformed
  /// test `i < n` and a rule it breaks.
  func namesFirstMalformed(
    _ d: SymbolicDomain, _ word: (Int) -> BitVec, _ verdict: FilterCheck<BoolTerm, BitVec>
  ) -> BoolTerm {
    typealias Reason = PacketFilterError.Reason
    let n = word(0)
    let tooMany =
      verdict.reason.eq(d.word(Reason.tooManyTests.rawValue))
      && d.word(UInt64(PacketFilter.maximumTests)).ult(n)
    var named = d.bool(false)
    var earlierWellFormed = d.bool(true)
    for i in 0..<PacketFilter.maximumTests {
      let t = PacketFilter.test(d, i, word)
      let width = t.width
      let widthOK = width.eq(d.word(1)) || width.eq(d.word(2)) || width.eq(d.word(4))
      let ends = (t.offset + width).ule(d.word(UInt64(PacketFilter.maximumFrameLength)))
      let maskFits = maskWithin(d, t)
      let valueInMask = (t.value & ~t.mask).eq(d.word(0))
      let reason = verdict.reason
      let breaks =
        (reason.eq(d.word(Reason.widthInvalid.rawValue)) && !widthOK)
        || (reason.eq(d.word(Reason.offsetBeyondFrame.rawValue)) && widthOK && !ends)
        || (reason.eq(d.word(Reason.maskWiderThanWidth.rawValue)) && widthOK && ends && !maskFits)
        || (reason.eq(d.word(Reason.valueOutsideMask.rawValue)) && widthOK && ends && maskFits
          && !valueInMask)
      named =
        named
        || (verdict.test.eq(d.word(UInt64(i))) && d.word(UInt64(i)).ult(n)
          && n.ule(d.word(UInt64(PacketFilter.maximumTests))) && earlierWellFormed && breaks)
      earlierWellFormed = earlierWellFormed && testWellFormed(d, t)
    }
    return tooMany || named
  }

  /// The tests of both filters, `a`'s first, each with whether it is active.
  func bothFilters(_ d: SymbolicDomain, _ a: (Int) -> BitVec, _ b: (Int) -> BitVec)
    -> [(active: BoolTerm, test: EncodedTest<BitVec>)]
  {
    let m = PacketFilter.maximumTests
    var tests: [(active: BoolTerm, test: EncodedTest<BitVec>)] = []
    for k in 0..<m { tests.append((d.ult(d.word(UInt64(k)), a(0)), PacketFilter.test(d, k, a))) }
    for k in 0..<m { tests.append((d.ult(d.word(UInt64(k)), b(0)), PacketFilter.test(d, k, b))) }
    return tests
  }

  /// The frame the completeness theorem offers: `maximumFrameLength`
  /// bytes (every well-formed test ends within it), each byte the OR of
  /// the bits the active tests covering it set (zero where none does).
  func witness(_ d: SymbolicDomain, _ a: (Int) -> BitVec, _ b: (Int) -> BitVec)
    -> (length: BitVec, byte: (BitVec) -> BitVec)
  {
    let tests = bothFilters(d, a, b)
    let byte = { (q: BitVec) -> BitVec in
      var result = d.context.bitVec(0, width: 8)
      for t in tests { result = result | contribution(d, t, q) }
      return result.zeroExtend(by: 56)
    }
    return (d.word(UInt64(PacketFilter.maximumFrameLength)), byte)
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
          let found = FilterCounterexample(
            a: a, b: b, frame: frame, overlapSays: try model.eval(overlap))
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
