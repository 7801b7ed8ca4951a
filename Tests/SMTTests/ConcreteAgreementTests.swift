import ExoABI
import SMT
import Testing

/// Z3's bit-vector, Boolean and array semantics agree with Swift arithmetic on random
/// concrete inputs (evaluated by `simplified()` or through a model).
@Suite struct ConcreteAgreementTests {
  /// `value` sign-extended from `width` bits.
  static func sext(_ value: UInt64, _ width: Int) -> Int64 {
    Int64(bitPattern: value << UInt64(64 - width)) >> Int64(64 - width)
  }

  typealias BinaryCase = (
    name: String, term: (BitVec, BitVec) -> BitVec, swift: (UInt64, UInt64, Int) -> UInt64
  )

  static var binaryCases: [BinaryCase] {
    [
      ("bvadd", { $0 + $1 }, { a, b, w in truncate(a &+ b, w) }),
      ("bvsub", { $0 - $1 }, { a, b, w in truncate(a &- b, w) }),
      ("bvmul", { $0 * $1 }, { a, b, w in truncate(a &* b, w) }),
      ("bvand", { $0 & $1 }, { a, b, _ in a & b }),
      ("bvor", { $0 | $1 }, { a, b, _ in a | b }),
      ("bvxor", { $0 ^ $1 }, { a, b, _ in a ^ b }),
      ("bvshl", { $0 << $1 }, { a, b, w in b >= w ? 0 : truncate(a << b, w) }),
      ("bvlshr", { $0.lshr($1) }, { a, b, w in b >= w ? 0 : a >> b }),
      (
        "bvashr", { $0.ashr($1) },
        { a, b, w in truncate(UInt64(bitPattern: sext(a, w) >> min(b, UInt64(w - 1))), w) }
      ),
      ("bvudiv", { $0.udiv($1) }, { a, b, w in b == 0 ? truncate(~0, w) : a / b }),
      ("bvurem", { $0.urem($1) }, { a, b, _ in b == 0 ? a : a % b }),
      ("bvnot", { x, _ in ~x }, { a, _, w in truncate(~a, w) }),
      ("bvneg", { x, _ in -x }, { a, _, w in truncate(0 &- a, w) }),
    ]
  }

  typealias ComparisonCase = (
    name: String, term: (BitVec, BitVec) -> BoolTerm, swift: (UInt64, UInt64, Int) -> Bool
  )

  static var comparisonCases: [ComparisonCase] {
    [
      ("eq", { $0.eq($1) }, { a, b, _ in a == b }),
      ("ne", { $0.ne($1) }, { a, b, _ in a != b }),
      ("ult", { $0.ult($1) }, { a, b, _ in a < b }),
      ("ule", { $0.ule($1) }, { a, b, _ in a <= b }),
      ("ugt", { $0.ugt($1) }, { a, b, _ in a > b }),
      ("slt", { $0.slt($1) }, { a, b, w in sext(a, w) < sext(b, w) }),
      ("sge", { $0.sge($1) }, { a, b, w in sext(a, w) >= sext(b, w) }),
    ]
  }

  /// A random operand: mostly uniform, sometimes small (so shifts and division by
  /// zero are exercised) or all ones.
  static func operand(_ rng: inout SplitMix64, _ width: Int) -> UInt64 {
    switch rng.next() % 4 {
    case 0: truncate(rng.next() % UInt64(width + 2), width)
    case 1: truncate(~0, width)
    default: truncate(rng.next(), width)
    }
  }

  @Test(arguments: [1, 8, 13, 32, 64])
  func operatorsAgreeWithSwift(width: Int) throws {
    let context = try Context()
    var rng = SplitMix64(seed: UInt64(width))
    for _ in 0..<40 {
      let (a, b) = (Self.operand(&rng, width), Self.operand(&rng, width))
      let (x, y) = (context.bitVec(a, width: width), context.bitVec(b, width: width))
      for op in Self.binaryCases {
        let got = try concrete(op.term(x, y))
        #expect(got == op.swift(a, b, width), "\(op.name) \(a) \(b) at width \(width)")
      }
      for op in Self.comparisonCases {
        let got = try concrete(op.term(x, y))
        #expect(got == op.swift(a, b, width), "\(op.name) \(a) \(b) at width \(width)")
      }
    }
  }

  @Test func widthChangesAgreeWithSwift() throws {
    let context = try Context()
    var rng = SplitMix64(seed: 42)
    for _ in 0..<100 {
      let width = Int(rng.next() % 63) + 1
      let a = truncate(rng.next(), width)
      let x = context.bitVec(a, width: width)
      let low = Int(rng.next() % UInt64(width))
      let high = low + Int(rng.next() % UInt64(width - low))
      let slice = x.extract(high: high, low: low)
      #expect(slice.width == high - low + 1)
      #expect(try concrete(slice) == truncate(a >> UInt64(low), high - low + 1))

      let extra = Int(rng.next() % UInt64(64 - width + 1))
      #expect(x.zeroExtend(by: extra).width == width + extra)
      #expect(try concrete(x.zeroExtend(by: extra)) == a)
      let signExtended = UInt64(bitPattern: Self.sext(a, width))
      #expect(try concrete(x.signExtend(by: extra)) == truncate(signExtended, width + extra))

      let lowWidth = Int(rng.next() % UInt64(64 - width + 1))
      guard lowWidth > 0 else { continue }
      let b = truncate(rng.next(), lowWidth)
      let joined = x.concat(context.bitVec(b, width: lowWidth))
      #expect(joined.width == width + lowWidth)
      #expect(try concrete(joined) == (a << UInt64(lowWidth)) | b)
    }
  }

  @Test func wideArithmeticAgreesWithUInt128() throws {
    let context = try Context()
    var rng = SplitMix64(seed: 128)
    for _ in 0..<50 {
      let a = UInt128(rng.next()) << 64 | UInt128(rng.next())
      let b = UInt128(rng.next()) << 64 | UInt128(rng.next())
      let x = context.bitVec(numeral: "\(a)", width: 128)
      let y = context.bitVec(numeral: "\(b)", width: 128)
      #expect((x + y).simplified().numeralValue == "\(a &+ b)")
      #expect((x * y).simplified().numeralValue == "\(a &* b)")
      #expect(x.extract(high: 127, low: 64).simplified().uint64Value == UInt64(a >> 64))
    }
  }

  @Test func iteAndBooleanOperatorsAgreeWithSwift() throws {
    let context = try Context()
    var rng = SplitMix64(seed: 7)
    for _ in 0..<50 {
      let (p, q) = (rng.next() & 1 == 1, rng.next() & 1 == 1)
      let (a, b) = (rng.next(), rng.next())
      let (x, y) = (context.bitVec(a, width: 64), context.bitVec(b, width: 64))
      let (tp, tq) = (context.bool(p), context.bool(q))
      #expect(try concrete(ite(tp, x, y)) == (p ? a : b))
      #expect(try concrete(ite(x.ult(y), x, y)) == min(a, b))
      #expect(try concrete(ite(tp, tq, !tq)) == (p ? q : !q))
      #expect(try concrete(tp && tq) == (p && q))
      #expect(try concrete(tp || tq) == (p || q))
      #expect(try concrete(tp.xor(tq)) == (p != q))
      #expect(try concrete(tp.implies(tq)) == (!p || q))
      #expect(try concrete(tp.iff(tq)) == (p == q))
      #expect(try concrete(context.and([tp, tq, !tp])) == false)
    }
  }

  @Test func arrayReadOverWriteAgreesWithSwift() throws {
    let context = try Context()
    var rng = SplitMix64(seed: 99)
    for _ in 0..<50 {
      let d = rng.next() % 256
      var reference = [UInt64](repeating: d, count: 16)
      var array = context.constantArray(indexWidth: 4, value: context.bitVec(d, width: 8))
      for _ in 0..<3 {
        let (i, v) = (Int(rng.next() % 16), rng.next() % 256)
        reference[i] = v
        array = array.store(context.bitVec(UInt64(i), width: 4), context.bitVec(v, width: 8))
      }
      for j in 0..<16 {
        #expect(try concrete(array[context.bitVec(UInt64(j), width: 4)]) == reference[j])
      }
    }
  }

  @Test func arrayAxiomsHoldSymbolically() throws {
    let context = try Context()
    let solver = try Solver(context: context)
    try solver.setTimeout(milliseconds: 10_000)
    let a = context.array("a", indexWidth: 32, valueWidth: 8)
    let (i, j) = (context.bitVec("i", width: 32), context.bitVec("j", width: 32))
    let v = context.bitVec("v", width: 8)
    let written = a.store(i, v)
    guard case .proven = try solver.prove(written[i].eq(v)) else {
      Issue.record("read-over-write at the written index")
      return
    }
    guard case .proven = try solver.prove(i.ne(j).implies(written[j].eq(a[j]))) else {
      Issue.record("read-over-write at another index")
      return
    }
    // Without i ≠ j it fails; the model must show i == j and a[j] ≠ v.
    guard case .counterexample(let model) = try solver.prove(written[j].eq(a[j])) else {
      Issue.record("read-over-write without i ≠ j should fail")
      return
    }
    #expect(try model.eval(i) == model.eval(j))
    #expect(try model.eval(a[j]) != model.eval(v))
    let flags = context.boolArray("flags", indexWidth: 8)
    guard
      case .proven = try solver.prove(
        flags.store(i.extract(high: 7, low: 0), context.bool(true))[i.extract(high: 7, low: 0)])
    else {
      Issue.record("Boolean array read-over-write")
      return
    }
  }

  @Test func modelEvaluationAgreesWithSwift() throws {
    let context = try Context()
    var rng = SplitMix64(seed: 5)
    let (x, y) = (context.bitVec("x", width: 64), context.bitVec("y", width: 64))
    let solver = try Solver(context: context)
    for _ in 0..<10 {
      let (a, b) = (rng.next(), rng.next())
      solver.push()
      solver.assert(x.eq(x.literal(a)) && y.eq(y.literal(b)))
      guard case .sat(let model) = try solver.check() else {
        Issue.record("fixed values must be sat")
        return
      }
      #expect(try model.eval(x * y + x.lshr(y.literal(3))) == a &* b &+ (a >> 3))
      #expect(try model.eval(x.ult(y)) == (a < b))
      try solver.pop()
    }
  }
}
