import ExoABI
import ExoSpec
import SMT

/// The pieces of the packet-filter theorems (``FilterTheorem``): the
/// frames, the well-formedness of filters stated on its own, and the
/// lemmas. Each lemma is a function of its terms: its obligation asserts
/// its negation for free terms (`unsat`: it holds for all), and the
/// theorems built from it assert it for their own terms (instances).
extension Verifier {
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
}
