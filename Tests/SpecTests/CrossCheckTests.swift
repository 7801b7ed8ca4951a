import ExoABI
import ExoSpec
import Testing

/// The two interpretations of the spec agree: for random states and
/// arguments, evaluating the symbolic formula under the same assignment gives
/// exactly the concrete result (status, value and every table word).
@Suite struct CrossCheckTests {
  static let casesPerTransition = 300
  static let rounds: UInt64 = 10

  @Test(arguments: Transition.all)
  func interpretationsAgree(_ transition: Transition) throws {
    let seed = UInt64(Transition.all.firstIndex(of: transition) ?? 0) &+ 0x5EED
    // The page contents the memory-reading calls see: per case, a frame
    // the caller may send (a reply to one of its filters) or the seed's
    // bytes.
    let memory = PageContents()
    let concrete = ConcreteDomain(memory: memory)
    var report = try crossCheck(
      transition, cases: Self.casesPerTransition, seed: seed, concrete: concrete, memory: memory)
    // A transition whose success needs a rare state (allocationPressure: a
    // nearly full machine) gets more rounds of cases, until one succeeds.
    var round: UInt64 = 1
    while report.successes == 0 && round < Self.rounds {
      let more = try crossCheck(
        transition, cases: Self.casesPerTransition, seed: seed &+ round << 32,
        concrete: concrete, memory: memory)
      report.cases += more.cases
      report.successes += more.successes
      report.disagreements += more.disagreements
      round += 1
    }
    #expect(report.cases == Self.casesPerTransition * Int(round))
    #expect(
      report.disagreements.isEmpty,
      "\(report.disagreements.count) disagreements, first: \(report.disagreements.prefix(3))")
    // The random cases must reach the success path, not only the checks.
    #expect(report.successes > 0, "\(transition) never succeeded in \(report.cases) cases")
  }

  /// The cross-check can fail: a concrete domain whose unsigned comparison is
  /// off by one (`<=` for `<`) is caught.
  @Test func detectsPlantedComparison() throws {
    var caught = 0
    for transition in [Transition.call(.pageAllocate), .call(.pageMap), .event(.tick)] {
      let report = try crossCheck(
        transition, cases: 100, seed: 7, concrete: Planted(.comparison))
      caught += report.disagreements.count
    }
    #expect(caught > 0, "an off-by-one comparison went unnoticed")
  }

  /// A concrete domain whose subtraction saturates at 0 instead of wrapping
  /// is caught as well (unmapping decrements counters that may be 0 in a
  /// scrambled state).
  @Test func detectsPlantedSubtraction() throws {
    let report = try crossCheck(
      .call(.pageUnmap), cases: 200, seed: 11, concrete: Planted(.subtraction))
    #expect(!report.disagreements.isEmpty, "a saturating subtraction went unnoticed")
  }
}

/// ``ConcreteDomain`` with one operation deliberately changed, to show that
/// the cross-check detects a difference between the interpretations; or
/// unchanged (`.none`) and recording the upcalls it is asked to raise.
struct Planted: SpecDomain {
  typealias Column = [UInt64]
  enum Change {
    /// `ult` is `<=`.
    case comparison
    /// `sub` saturates at 0 instead of wrapping.
    case subtraction
    /// Nothing changed.
    case none
  }

  let change: Change
  let recorder: UpcallRecorder?
  let base = ConcreteDomain()
  init(_ change: Change, recording recorder: UpcallRecorder? = nil) {
    self.change = change
    self.recorder = recorder
  }

  func upcall(_ e: UInt64, _ reason: UpcallReason, _ a: UInt64, _ b: UInt64) {
    recorder?.raised.append(Raised(environment: e, reason: reason, a: a, b: b))
  }

  func pageByte(_ page: UInt64, _ offset: UInt64) -> UInt64 { base.pageByte(page, offset) }
  func bool(_ value: Bool) -> Bool { value }
  func word(_ value: UInt64) -> UInt64 { value }
  func not(_ a: Bool) -> Bool { !a }
  func and(_ a: Bool, _ b: Bool) -> Bool { a && b }
  func or(_ a: Bool, _ b: Bool) -> Bool { a || b }
  func eq(_ a: UInt64, _ b: UInt64) -> Bool { a == b }
  func ult(_ a: UInt64, _ b: UInt64) -> Bool { change == .comparison ? a <= b : a < b }
  func add(_ a: UInt64, _ b: UInt64) -> UInt64 { a &+ b }
  func sub(_ a: UInt64, _ b: UInt64) -> UInt64 {
    change == .subtraction ? (a >= b ? a - b : 0) : a &- b
  }
  func mul(_ a: UInt64, _ k: UInt64) -> UInt64 { a &* k }
  func bitAnd(_ a: UInt64, _ b: UInt64) -> UInt64 { a & b }
  func shiftRight(_ a: UInt64, _ k: UInt64) -> UInt64 { a >> k }
  func remainder(_ a: UInt64, _ n: UInt64) -> UInt64 { a % n }
  func ite(_ c: Bool, _ a: UInt64, _ b: UInt64) -> UInt64 { c ? a : b }
  func ite(_ c: Bool, _ a: Bool, _ b: Bool) -> Bool { c ? a : b }
  func branch(_ c: Bool, then: () -> Void, else otherwise: () -> Void) {
    base.branch(c, then: then, else: otherwise)
  }
  func assign(_ variable: inout UInt64, _ value: UInt64) { variable = value }
  func read(_ table: [UInt64], _ index: UInt64, default fallback: UInt64) -> UInt64 {
    base.read(table, index, default: fallback)
  }
  func write(_ table: inout [UInt64], _ index: UInt64, _ value: UInt64) {
    base.write(&table, index, value)
  }
  func first(_ count: Int, where predicate: (Int) -> Bool) -> (found: Bool, index: UInt64) {
    base.first(count, where: predicate)
  }
  func forEach(below limit: UInt64, bound: Int, _ body: (Int) -> Void) {
    base.forEach(below: limit, bound: bound, body)
  }
  func forEach(bound: Int, while condition: () -> Bool, _ body: (Int) -> Void) {
    base.forEach(bound: bound, while: condition, body)
  }
  func check(_ ok: inout Bool, _ error: inout UInt64, _ condition: () -> Bool, _ code: UInt64) {
    base.check(&ok, &error, condition, code)
  }
}
