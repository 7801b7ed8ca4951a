import SMT
import Testing

/// Algebraic identities proven for all inputs, and non-identities refuted with a
/// counterexample that is checked in Swift.
@Suite struct BitVecIdentityTests {
  typealias Identity = (name: String, claim: (BitVec, BitVec, BitVec) -> BoolTerm)

  static var identities: [Identity] {
    [
      ("x+y == y+x", { x, y, _ in (x + y).eq(y + x) }),
      ("x*(y+z) == x*y + x*z", { x, y, z in (x * (y + z)).eq(x * y + x * z) }),
      ("x^x == 0", { x, _, _ in (x ^ x).eq(x.literal(0)) }),
      ("~x == -x - 1", { x, _, _ in (~x).eq(-x - x.literal(1)) }),
      ("x<<1 == x+x", { x, _, _ in (x << x.literal(1)).eq(x + x) }),
      ("~(x&y) == ~x|~y", { x, y, _ in (~(x & y)).eq(~x | ~y) }),
      ("x-y == x+(-y)", { x, y, _ in (x - y).eq(x + -y) }),
      // Division circuits are hard for bit-blasting: checked at 8 bits only.
      (
        "y≠0 → (x udiv y)*y + x urem y == x (8-bit)",
        { x, y, _ in
          guard x.width == 8 else { return x.context.bool(true) }
          return y.ne(y.literal(0)).implies((x.udiv(y) * y + x.urem(y)).eq(x))
        }
      ),
      ("x ult y ⇔ !(x uge y)", { x, y, _ in x.ult(y).iff(!x.uge(y)) }),
      (
        "zext(x) ult zext(x)+1",
        { x, _, _ in
          let wide = x.zeroExtend(by: 1)
          return wide.ult(wide + wide.literal(1))
        }
      ),
      (
        "concat(extract hi, extract lo) == x",
        { x, _, _ in
          x.extract(high: x.width - 1, low: x.width / 2).concat(
            x.extract(high: x.width / 2 - 1, low: 0)
          )
          .eq(x)
        }
      ),
    ]
  }

  @Test(arguments: [8, 32, 64])
  func identitiesAreProven(width: Int) throws {
    let context = try Context()
    let solver = try Solver(context: context)
    try solver.setTimeout(milliseconds: 10_000)  // a hang becomes a failure
    let (x, y, z) = (
      context.bitVec("x", width: width), context.bitVec("y", width: width),
      context.bitVec("z", width: width)
    )
    for identity in Self.identities {
      let result = try solver.prove(identity.claim(x, y, z))
      guard case .proven = result else {
        Issue.record("\(identity.name) not proven at width \(width)")
        continue
      }
    }
  }

  @Test func negatedIdentityIsUnsat() throws {
    let context = try Context()
    let solver = try Solver(context: context)
    let x = context.bitVec("x", width: 32)
    let y = context.bitVec("y", width: 32)
    solver.assert(!(x + y).eq(y + x))
    guard case .unsat = try solver.check() else {
      Issue.record("x+y != y+x should be unsat")
      return
    }
  }

  @Test func nonIdentityHasCheckedCounterexample() throws {
    let context = try Context()
    let solver = try Solver(context: context)
    let x = context.bitVec("x", width: 32)
    let y = context.bitVec("y", width: 32)
    // Neither holds for all inputs; the model must violate each in Swift arithmetic.
    guard case .counterexample(let m1) = try solver.prove((x + x.literal(1)).ugt(x)) else {
      Issue.record("x+1 > x should have a counterexample")
      return
    }
    let xv = UInt32(try m1.eval(x))
    #expect(!(xv &+ 1 > xv))

    guard case .counterexample(let m2) = try solver.prove((x & y).eq(x | y)) else {
      Issue.record("x&y == x|y should have a counterexample")
      return
    }
    let (a, b) = (try m2.eval(x), try m2.eval(y))
    #expect(a & b != a | b)

    guard case .counterexample(let m3) = try solver.prove(x.slt(y).iff(x.ult(y))) else {
      Issue.record("signed and unsigned < should differ somewhere")
      return
    }
    let (s, t) = (UInt32(try m3.eval(x)), UInt32(try m3.eval(y)))
    #expect((Int32(bitPattern: s) < Int32(bitPattern: t)) != (s < t))
  }
}
