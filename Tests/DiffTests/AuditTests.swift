import ExoABI
import ExoDiff
import ExoSpec
import ExoVerify
import Testing

/// The audit: exoverify's theorems checked on every transition of the
/// tester's sequences, at the kernel's sizes.
@Suite struct AuditTests {
  static let kernelConfiguration = Generator.Configuration(
    bounds: .kernel, firstPage: InfoHeader.kernelFirstPage)

  func auditDiffer(_ reference: any DiffTarget, _ audited: AuditTarget, bounds: Bounds) -> Differ {
    Differ(
      reference: reference, candidate: audited, bounds: bounds,
      firstPage: bounds == .kernel ? InfoHeader.kernelFirstPage : testFirstPage)
  }

  @Test("the spec keeps every theorem on generated sequences at the kernel's sizes")
  func specPassesTheAudit() throws {
    let audited = AuditTarget()
    let d = auditDiffer(SpecTarget(name: "spec"), audited, bounds: .kernel)
    for seed: UInt64 in 1...2 {
      let (steps, _) = Generator.sequence(
        seed: seed, length: 120, configuration: Self.kernelConfiguration)
      let found = try d.firstDivergence(steps)
      #expect(found == nil, "\(found.map(\.description) ?? "")")
    }
    // Every call and every event inside a tick was checked.
    #expect(audited.transitionsChecked >= 240)
  }

  @Test(
    "a size mutant, which exoverify proves at its bounds, breaks its theorem at the kernel's sizes",
    arguments: Mutant.sizeMutants)
  func sizeMutantCaughtByTheAudit(_ mutant: Mutant) throws {
    let apply: MutantSpecTarget.Apply = { t, s, a in mutant.applyConcrete(t, to: &s, a) }
    // The reference is the same mutant: only a broken theorem can end a run.
    let d = auditDiffer(
      MutantSpecTarget(
        name: "spec", bounds: .kernel, firstPage: InfoHeader.kernelFirstPage, apply: apply),
      AuditTarget(
        name: "audit", bounds: .kernel, firstPage: InfoHeader.kernelFirstPage, apply: apply),
      bounds: .kernel)
    var found: (steps: [DiffStep], divergence: Divergence)?
    for seed: UInt64 in 1...4 where found == nil {
      let (steps, _) = Generator.sequence(
        seed: seed, length: 120, configuration: Self.kernelConfiguration)
      if let divergence = try d.firstDivergence(steps) { found = (steps, divergence) }
    }
    let (steps, divergence) = try #require(found, "\(mutant) escaped the audit")
    #expect(divergence.kind == .failure)
    guard case .preserves(_, let invariant) = mutant.firstTried else {
      Issue.record("\(mutant): its theorem is an invariant")
      return
    }
    #expect(
      divergence.failure?.contains("invariant \(invariant) broken by \(mutant.transition!)") == true
    )
    // Shrunk to the call that breaks it, after at most one call before it.
    let shrunk = try #require(try Shrinker(differ: d).shrink(steps))
    #expect(shrunk.steps.count <= 2)
    #expect(shrunk.divergence.step?.transition == mutant.transition)
    // Its replay file (`exo replay FILE --on audit`): the audit of the
    // mutant fails it at that call, the audit of the spec passes it.
    let replay = try ReplayFile(
      diverging: shrunk.steps, divergence: shrunk.divergence, bounds: .kernel,
      firstPage: InfoHeader.kernelFirstPage)
    #expect(throws: DiffError.self) {
      try replay.run(
        on: AuditTarget(bounds: .kernel, firstPage: InfoHeader.kernelFirstPage, apply: apply))
    }
    #expect(try replay.run(on: AuditTarget()).passed)
  }

  /// Environment 0 makes environment 1 and runs it.
  let startChild: [DiffStep] = [
    DiffStep(.call(.environmentCreate), [1, 0]),
    DiffStep(.call(.environmentStart), [1, 0, UserLayout.imageBase, UserLayout.stackTop]),
    DiffStep(.call(.yieldTo), [1]),
  ]

  @Test("a change by an environment without authority is named by its transition property")
  func authorityBroken() throws {
    // Planted: `ticks`, called by environment 1, sets environment 0's
    // handler entry; 1 has no capability over 0. No invariant sees it.
    let audited = AuditTarget(bounds: testBounds, firstPage: testFirstPage) { t, s, a in
      let result = s.step(t, a)
      if t == .call(.ticks), s.current == 1 { s.environments.handler[0] = UserLayout.imageBase }
      return result
    }
    let d = auditDiffer(SpecTarget(name: "spec"), audited, bounds: testBounds)
    let steps = startChild + [DiffStep(.call(.ticks))]
    let found = try #require(try d.firstDivergence(steps))
    #expect(found.kind == .failure && found.index == 3)
    #expect(
      found.failure?.hasPrefix(
        "transition property environmentChangedWithAuthority broken by ticks()")
        == true, "\(found)")
    // The same call by environment 0 on its own record passes.
    #expect(try d.firstDivergence([DiffStep(.call(.ticks))]) == nil)
  }

  @Test("a failed call that changes the state breaks errorUnchanged")
  func failedCallChangesState() throws {
    let audited = AuditTarget(bounds: testBounds, firstPage: testFirstPage) { t, s, a in
      let result = s.step(t, a)
      if result.status != 0 { s.environments.exitStatus[Int(s.current)] &+= 1 }
      return result
    }
    let d = auditDiffer(SpecTarget(name: "spec"), audited, bounds: testBounds)
    let found = try #require(try d.firstDivergence([DiffStep(.call(.yieldTo), [99])]))
    #expect(found.kind == .failure && found.index == 0)
    #expect(found.failure?.hasPrefix("errorUnchanged broken by yieldTo(99)") == true, "\(found)")
    #expect(found.failure?.contains("exitStatus") == true, "\(found)")
  }
}
