import ExoABI
import SMT

/// The spec on Z3 terms: running a transition builds its formula. Booleans
/// are `BoolTerm`s, words 64-bit `BitVec`s. `branch` runs both sides, each
/// under the path condition extended by its side of the condition; writes
/// and ``assign(_:_:)`` are `ite`s on the path condition. Constant conditions
/// and constant indices are folded, so loops over fixed positions stay
/// small.
///
/// A reference type: the path condition is shared by everything built with
/// the domain, and changes only inside `branch`.
public final class SymbolicDomain: SpecDomain {
  public typealias B = BoolTerm
  public typealias W = BitVec
  public typealias Column = [BitVec]

  /// The context every term is built in.
  public let context: Context
  /// Where the code being run is reached: the conjunction of the branch
  /// conditions around it.
  public private(set) var pathCondition: BoolTerm
  private let trueTerm: BoolTerm
  private let falseTerm: BoolTerm
  private var literals: [UInt64: BitVec] = [:]
  /// While not nil, every check that can fail appends its error code here,
  /// in the order the transition makes its checks (``Transition/errors()``).
  public var checkedCodes: [UInt64]?
  /// Whether the spec's two packet-filter decisions are left open:
  /// ``overlaps(_:_:)`` of filters that are not both constant is an
  /// uninterpreted symmetric predicate of their words rather than the
  /// overlap check itself (``filtersOverlap(_:_:)``), and
  /// ``frameMatches(_:length:byte:)`` a free truth value. exoverify's
  /// transition obligations turn it on: they hold for every symmetric
  /// predicate and every match, the check's meaning is proved once on its
  /// own (docs/verification.md "Packet filters").
  public var abstractFilters = false
  /// Each application of the uninterpreted overlap predicate so far: the
  /// two filters' words and the term standing for its value.
  public private(set) var overlapApplications: [OverlapApplication] = []

  /// One application of the uninterpreted overlap predicate.
  public struct OverlapApplication {
    public var a: [BitVec]
    public var b: [BitVec]
    public var value: BoolTerm
  }

  public init(context: Context) {
    self.context = context
    trueTerm = context.bool(true)
    falseTerm = context.bool(false)
    pathCondition = trueTerm
  }

  /// A fresh 64-bit constant named `name`.
  public func variable(_ name: String) -> BitVec { context.bitVec(name, width: 64) }

  public func bool(_ value: Bool) -> BoolTerm { value ? trueTerm : falseTerm }

  public func word(_ value: UInt64) -> BitVec {
    if let cached = literals[value] { return cached }
    let made = context.bitVec(value, width: 64)
    literals[value] = made
    return made
  }

  public func not(_ a: BoolTerm) -> BoolTerm {
    if let value = a.boolValue { return bool(!value) }
    return !a
  }

  public func and(_ a: BoolTerm, _ b: BoolTerm) -> BoolTerm {
    switch (a.boolValue, b.boolValue) {
    case (false?, _), (_, false?): falseTerm
    case (true?, _): b
    case (_, true?): a
    default: a && b
    }
  }

  public func or(_ a: BoolTerm, _ b: BoolTerm) -> BoolTerm {
    switch (a.boolValue, b.boolValue) {
    case (true?, _), (_, true?): trueTerm
    case (false?, _): b
    case (_, false?): a
    default: a || b
    }
  }

  public func eq(_ a: BitVec, _ b: BitVec) -> BoolTerm {
    if let x = a.uint64Value, let y = b.uint64Value { return bool(x == y) }
    return a.eq(b)
  }

  public func ult(_ a: BitVec, _ b: BitVec) -> BoolTerm {
    if let x = a.uint64Value, let y = b.uint64Value { return bool(x < y) }
    return a.ult(b)
  }

  public func add(_ a: BitVec, _ b: BitVec) -> BitVec {
    if let x = a.uint64Value, let y = b.uint64Value { return word(x &+ y) }
    return a + b
  }

  public func sub(_ a: BitVec, _ b: BitVec) -> BitVec {
    if let x = a.uint64Value, let y = b.uint64Value { return word(x &- y) }
    return a - b
  }

  public func mul(_ a: BitVec, _ k: UInt64) -> BitVec {
    if let x = a.uint64Value { return word(x &* k) }
    return a * word(k)
  }

  public func bitAnd(_ a: BitVec, _ b: BitVec) -> BitVec {
    if let x = a.uint64Value, let y = b.uint64Value { return word(x & y) }
    return a & b
  }

  public func shiftRight(_ a: BitVec, _ k: UInt64) -> BitVec {
    if let x = a.uint64Value { return word(k >= 64 ? 0 : x >> k) }
    return a.lshr(word(k))
  }

  public func remainder(_ a: BitVec, _ n: UInt64) -> BitVec {
    if let x = a.uint64Value { return word(x % n) }
    return a.urem(word(n))
  }

  public func ite(_ c: BoolTerm, _ a: BitVec, _ b: BitVec) -> BitVec {
    if let value = c.boolValue { return value ? a : b }
    if a.ast.isIdentical(to: b.ast) { return a }
    return SMT.ite(c, a, b)
  }

  public func ite(_ c: BoolTerm, _ a: BoolTerm, _ b: BoolTerm) -> BoolTerm {
    if let value = c.boolValue { return value ? a : b }
    if a.ast.isIdentical(to: b.ast) { return a }
    return SMT.ite(c, a, b)
  }

  public func branch(_ c: BoolTerm, then: () -> Void, else otherwise: () -> Void) {
    let saved = pathCondition
    defer { pathCondition = saved }
    let taken = and(saved, c)
    if taken.boolValue != false {
      pathCondition = taken
      then()
    }
    let skipped = and(saved, not(c))
    if skipped.boolValue != false {
      pathCondition = skipped
      otherwise()
    }
  }

  public func assign(_ variable: inout BitVec, _ value: BitVec) {
    variable = ite(pathCondition, value, variable)
  }

  public func read(_ table: [BitVec], _ index: BitVec, default fallback: BitVec) -> BitVec {
    if let i = index.uint64Value {
      return i < UInt64(table.count) ? table[Int(i)] : fallback
    }
    var result = fallback
    for j in table.indices.reversed() {
      result = ite(eq(index, word(UInt64(j))), table[j], result)
    }
    return result
  }

  public func write(_ table: inout [BitVec], _ index: BitVec, _ value: BitVec) {
    if let i = index.uint64Value {
      if i < UInt64(table.count) { table[Int(i)] = ite(pathCondition, value, table[Int(i)]) }
      return
    }
    for j in table.indices {
      table[j] = ite(and(pathCondition, eq(index, word(UInt64(j)))), value, table[j])
    }
  }

  public func first(_ count: Int, where predicate: (Int) -> BoolTerm) -> (
    found: BoolTerm, index: BitVec
  ) {
    let hits = (0..<count).map(predicate)
    var index = word(.max)
    for j in (0..<count).reversed() { index = ite(hits[j], word(UInt64(j)), index) }
    return (hits.reduce(falseTerm) { or($0, $1) }, index)
  }

  public func forEach(below limit: BitVec, bound: Int, _ body: (Int) -> Void) {
    for j in 0..<bound { branch(ult(word(UInt64(j)), limit), then: { body(j) }, else: {}) }
  }

  public func forEach(bound: Int, while condition: () -> BoolTerm, _ body: (Int) -> Void) {
    var running = trueTerm
    for j in 0..<bound {
      running = and(running, condition())
      if running.boolValue == false { return }
      branch(running, then: { body(j) }, else: {})
    }
  }

  /// Each read of user memory so far (``pageByte(_:_:)``): the page and
  /// offset terms and the fresh byte standing for the value. A tool that
  /// evaluates the formula on a concrete memory substitutes each.
  public private(set) var memoryReads: [MemoryRead] = []

  /// One read of user memory.
  public struct MemoryRead {
    public var page: BitVec
    public var offset: BitVec
    /// The fresh 64-bit constant; the byte is its low 8 bits.
    public var variable: BitVec
  }

  /// A fresh byte: user memory may hold anything.
  public func pageByte(_ page: BitVec, _ offset: BitVec) -> BitVec {
    let v = variable("memory.byte.\(memoryReads.count)")
    memoryReads.append(MemoryRead(page: page, offset: offset, variable: v))
    return bitAnd(v, word(0xff))
  }

  /// How many free truth values ``frameMatches(_:length:byte:)`` has made.
  private var frameMatchCount = 0

  /// Whether a frame matches a filter: `PacketFilter.matches`, or with
  /// ``abstractFilters`` a fresh truth value where the filter's tests lie
  /// within the frame's length (any frame: the transition
  /// obligations of `frameArrival` hold for every match vector).
  public func frameMatches(
    _ filter: (Int) -> BitVec, length: BitVec, byte: (BitVec) -> BitVec
  ) -> BoolTerm {
    guard abstractFilters else {
      return PacketFilter.matches(self, filter, length: length, byte: byte)
    }
    frameMatchCount += 1
    // What holds of any frame a filter matches is kept: each active test's
    // field lies within the frame (so a counterexample's length admits a
    // matching frame).
    let n = filter(0)
    var fits = trueTerm
    for i in 0..<PacketFilter.maximumTests {
      let t = PacketFilter.test(self, i, filter)
      let active = ult(word(UInt64(i)), n)
      fits = and(fits, or(not(active), not(ult(length, add(t.offset, t.width)))))
    }
    return and(context.bool("frame.matches.\(frameMatchCount)"), fits)
  }

  /// Forgets the applications of the overlap predicate after the first
  /// `count` (those of formulas no longer asserted), so later applications
  /// are compared only with those that are.
  public func forgetOverlapApplications(after count: Int) {
    if overlapApplications.count > count { overlapApplications.removeSubrange(count...) }
  }

  /// The overlap check of two filters: ``filtersOverlap(_:_:)``, or with
  /// ``abstractFilters`` an uninterpreted symmetric predicate, built by
  /// Ackermann's reduction so the formula stays in QF_BV: each application
  /// is a fresh truth value unless its (unordered) pair of filters equals
  /// that of an earlier application, whose value it then takes. Filters
  /// given by constants are checked for real.
  public func overlaps(_ a: (Int) -> BitVec, _ b: (Int) -> BitVec) -> BoolTerm {
    let n = PacketFilter.wordCount
    let wordsA = (0..<n).map(a)
    let wordsB = (0..<n).map(b)
    let constant = (wordsA + wordsB).allSatisfy { $0.uint64Value != nil }
    guard abstractFilters, !constant else {
      return filtersOverlap({ wordsA[$0] }, { wordsB[$0] })
    }
    func same(_ x: [BitVec], _ y: [BitVec]) -> BoolTerm {
      zip(x, y).reduce(trueTerm) { and($0, eq($1.0, $1.1)) }
    }
    var value: BoolTerm = context.bool("filters.overlap.\(overlapApplications.count)")
    for earlier in overlapApplications.reversed() {
      let equal = or(
        and(same(wordsA, earlier.a), same(wordsB, earlier.b)),
        and(same(wordsA, earlier.b), same(wordsB, earlier.a)))
      value = ite(equal, earlier.value, value)
    }
    overlapApplications.append(OverlapApplication(a: wordsA, b: wordsB, value: value))
    return value
  }

  public func check(
    _ ok: inout BoolTerm, _ error: inout BitVec, _ condition: () -> BoolTerm, _ code: UInt64
  ) {
    let holds = condition()
    let fails = and(ok, not(holds))
    if checkedCodes != nil, fails.boolValue != false { checkedCodes?.append(code) }
    error = ite(fails, word(code), error)
    ok = and(ok, holds)
  }
}
