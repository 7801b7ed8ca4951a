import ExoABI
import ExoSpec
import Testing

/// The revocation protocol on the concrete spec (docs/ABI.md
/// "Revocation"): each scenario is a table of steps and expected results,
/// then the fields of the final state the protocol defines.
@Suite struct RevocationTests {
  static let bounds = Bounds(
    environments: 3, pages: 8, capabilities: 8, windowSlots: 4, slices: 2, maximumDepth: 2,
    maximumRun: 2)
  static let fp: UInt64 = 0x100
  static let none = ExoABI.none
  static let rw = Rights([.read, .write]).rawValue

  typealias Step = (Transition, [UInt64], SyscallResult)

  static func ok(_ value: UInt64 = 0) -> SyscallResult { .success(value) }
  static func fail(_ e: ExoError) -> SyscallResult { .failure(e) }

  /// Runs `steps`, requiring each result.
  static func run(_ state: inout ConcreteState, _ steps: [Step]) {
    for (i, (t, a, expected)) in steps.enumerated() {
      let result = state.step(t, a)
      #expect(result == expected, "step \(i): \(t)(\(a))")
    }
  }

  /// Environment 1 (child of 0 through capability 0) holds two runs of two
  /// pages (root capabilities 1 and 2), maps its first page, and gives
  /// environment 0 a derived capability (3) over its third page, which
  /// environment 0 maps in its window slot 0. Environment 0 runs.
  static func setUp() -> ConcreteState {
    var s = ConcreteState(bounds: bounds, firstPage: fp)
    run(
      &s,
      [
        (.call(.environmentCreate), [1, 0], ok()),
        (.call(.environmentStart), [1, 0, UserLayout.imageBase, UserLayout.stackTop], ok()),
        (.call(.yieldTo), [1], ok()),
        (.call(.pageAllocate), [fp, 2, 1], ok()),
        (.call(.pageAllocate), [fp + 2, 2, 2], ok()),
        (.call(.pageMap), [1, none, 1, fp, 0, rw], ok()),
        (.call(.capabilityDerive), [2, 3, Rights([.read, .grant]).rawValue, fp + 2, 1], ok()),
        (.call(.capabilityGrant), [3, 0], ok()),
        (.call(.yield), [], ok()),
        (.call(.pageMap), [0, none, 3, fp + 2, 0, Rights.read.rawValue], ok()),
      ])
    #expect(s.current == 0)
    return s
  }

  static func vector(_ s: ConcreteState, _ e: Int) -> [UInt64] {
    let n = Int(s.revocations.repossessed[e])
    return Array(s.repossessions[(e * bounds.pages)..<(e * bounds.pages + n)])
  }

  @Test func ignoredRequestIsAborted() {
    var s = Self.setUp()
    Self.run(
      &s,
      [
        (.call(.revocationRequest), [1, 0, 3, 2], Self.ok()),
        (.call(.revocationRequest), [1, 0, 1, 2], Self.fail(.busy)),
        (.event(.revocationDeadline), [1], Self.fail(.wrongState)),
        (.event(.revocationAbort), [1], Self.fail(.wrongState)),
        (.event(.tick), [], Self.ok()),
        (.event(.revocationDeadline), [1], Self.fail(.wrongState)),
        (.event(.tick), [], Self.ok()),
        (.event(.revocationDeadline), [1], Self.ok()),
        (.event(.revocationAbort), [1], Self.ok(1)),
        (.event(.revocationAbort), [1], Self.ok(1)),
        (.event(.revocationAbort), [1], Self.ok(0)),
        (.event(.revocationAbort), [1], Self.fail(.wrongState)),
      ])
    let r = s.revocations
    #expect(r.phase[1] == RevocationPhase.none.rawValue)
    #expect([r.requested[1], r.deadline[1], r.returned[1], r.held[1]] == [3, 2, 0, 4])
    #expect(Self.vector(s, 1) == [Self.fp, Self.fp + 1, Self.fp + 2, Self.fp + 3])
    #expect(s.pages.owner.allSatisfy { $0 == Self.none })
    #expect(s.pages.mappings.allSatisfy { $0 == 0 })
    // Environment 0's binding through the derived capability is broken too.
    #expect(s.bindings.page[0] == Self.none)
    #expect((1...3).allSatisfy { s.capabilities.kind[$0] == 0 })
    #expect(s.environments.capabilities[0] == 1 && s.environments.capabilities[1] == 0)
  }

  @Test func compliantReturnIsNeverRecorded() {
    var s = Self.setUp()
    Self.run(
      &s,
      [
        (.call(.revocationReturn), [2], Self.fail(.wrongState)),  // nothing pending
        (.call(.revocationRequest), [1, 0, 3, 5], Self.ok()),
        (.call(.yieldTo), [1], Self.ok()),
        (.call(.pageAllocate), [Self.fp + 4, 1, 4], Self.fail(.busy)),
        (.call(.capabilityDelete), [1], Self.fail(.busy)),
        (.call(.revocationReturn), [99], Self.fail(.outOfRange)),
        (.call(.revocationReturn), [0], Self.fail(.invalidCapability)),  // env 0's
        (.call(.revocationReturn), [3], Self.fail(.invalidCapability)),  // granted away
        (.call(.revocationReturn), [2], Self.ok(1)),
        (.call(.revocationReturn), [1], Self.ok(0)),
        (.call(.revocationReturn), [1], Self.fail(.wrongState)),
      ])
    let r = s.revocations
    #expect(r.phase[1] == RevocationPhase.none.rawValue)
    #expect([r.returned[1], r.held[1], r.repossessed[1]] == [4, 4, 0])
    #expect(s.repossessions.allSatisfy { $0 == 0 })
    #expect(s.pages.owner.allSatisfy { $0 == Self.none })
  }

  @Test func tooFewReturnedRestIsTaken() {
    var s = Self.setUp()
    Self.run(
      &s,
      [
        (.call(.revocationRequest), [1, 0, 3, 1], Self.ok()),
        (.call(.yieldTo), [1], Self.ok()),
        (.call(.revocationReturn), [2], Self.ok(1)),
        (.event(.tick), [], Self.ok()),
        (.event(.revocationDeadline), [1], Self.ok()),
        (.event(.revocationAbort), [1], Self.ok(1)),
        (.event(.revocationAbort), [1], Self.ok(0)),
      ])
    #expect(s.revocations.returned[1] == 2)
    #expect(Self.vector(s, 1) == [Self.fp, Self.fp + 1])
  }

  @Test func exitCancelsAndChecksRefuse() {
    var s = Self.setUp()
    Self.run(
      &s,
      [
        (.call(.revocationRequest), [0, Self.none, 1, 1], Self.fail(.invalidArgument)),  // self
        (.call(.revocationRequest), [1, 5, 1, 1], Self.fail(.invalidCapability)),
        (.call(.revocationRequest), [1, 0, 0, 1], Self.fail(.invalidArgument)),
        (.call(.revocationRequest), [1, 0, 9, 1], Self.fail(.invalidArgument)),
        (.call(.revocationRequest), [1, 0, 1, 0], Self.fail(.invalidArgument)),
        (
          .call(.revocationRequest), [1, 0, 1, RevocationLimits.maximumDeadline + 1],
          Self.fail(.invalidArgument)
        ),
        (.call(.revocationRequest), [2, 0, 1, 1], Self.fail(.invalidCapability)),
        (.call(.revocationRequest), [1, 0, 1, 1], Self.ok()),
        (.call(.capabilityGrant), [0, 1], Self.ok()),  // an environment capability may move
        (.call(.yieldTo), [1], Self.ok()),
        (.call(.capabilityGrant), [1, 0], Self.fail(.busy)),  // a root memory one may not
        (.call(.exit), [7], Self.ok()),
      ])
    #expect(s.revocations.phase[1] == RevocationPhase.none.rawValue)
    #expect(s.revocations.requested[1] == 1)
  }

  @Test func pressureUsesItsDeadline() {
    var s = Self.setUp()
    Self.run(
      &s,
      [
        (.event(.revocationPressure), [1, 0], Self.fail(.invalidArgument)),
        (.event(.revocationPressure), [2, 1], Self.fail(.wrongState)),
        (.event(.tick), [], Self.ok()),
        (.event(.revocationPressure), [1, 2], Self.ok()),
        (.event(.revocationPressure), [1, 2], Self.fail(.busy)),
      ])
    #expect(s.revocations.deadline[1] == 1 + RevocationLimits.pressureDeadline)
    #expect(s.revocations.phase[1] == RevocationPhase.requested.rawValue)
  }
}
