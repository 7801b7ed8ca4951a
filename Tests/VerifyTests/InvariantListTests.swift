import ExoABI
import ExoProofs
import ExoSpec
import ExoVerify
import Testing

/// The kernel walks the invariants through `Invariant.at(_:)` and names them
/// by its static labels; both must be the one list of cases.
@Suite("The invariants as the kernel walks them")
struct InvariantListTests {
  @Test("at(_:) lists every case in order, each labelled with its name, then ends")
  func walkMatchesAllCases() {
    let all = Invariant.allCases
    for (i, invariant) in all.enumerated() {
      let entry = Invariant.at(i)
      #expect(entry?.invariant == invariant, "ordinal \(i)")
      #expect(entry.map { "\($0.label)" } == invariant.name, "ordinal \(i)")
    }
    #expect(Invariant.at(all.count) == nil)
    #expect(Invariant.at(-1) == nil)
  }

  @Test("names round-trip, and an unknown name is no invariant")
  func names() {
    for invariant in Invariant.allCases { #expect(Invariant(name: invariant.name) == invariant) }
    #expect(Invariant(name: "noSuchInvariant") == nil)
  }

  @Test("the plain counts agree with their formulas on random tables")
  func countsAgree() {
    var random = SplitMix64(seed: 7)
    let concrete = ConcreteDomain()
    for _ in 0..<500 {
      let n = Int(random.next() % 40)
      let buckets = Int(random.next() % 12) + 1
      let keys = (0..<n).map { _ in random.next() % UInt64(buckets + 3) }
      var expected = (0..<buckets).map { k in UInt64(keys.filter { $0 == UInt64(k) }.count) }
      if random.next() % 2 == 0, !expected.isEmpty {
        expected[Int(random.next() % UInt64(buckets))] &+= 1
      }
      let truth = (0..<buckets).allSatisfy { k in
        expected[k] == UInt64(keys.filter { $0 == UInt64(k) }.count)
      }
      #expect(
        concrete.countsMatch(n, buckets: buckets, key: { keys[$0] }, expected: { expected[$0] })
          == truth)
      let valid = (0..<n).map { _ in random.next() % 4 != 0 }
      let low = random.next() % 3
      let distinct = (0..<n).allSatisfy { j in
        (0..<j).allSatisfy { i in !(valid[i] && valid[j]) || keys[i] != keys[j] }
      }
      #expect(
        concrete.allDistinct(n, key: { keys[$0] }, valid: { valid[$0] }, low: low, span: 5)
          == distinct)
    }
  }
}

/// The transition properties can fail: a pair of states each forbids.
@Suite("Transition properties")
struct TransitionPropertyTests {
  let bounds = Verifier.proofBounds
  let ok = Outcome<ConcreteDomain>(status: 0, value: 0)

  /// Environments 1 and 2 created by 0 and started; 1 owns slice 1.
  func twoChildren() -> ConcreteState {
    var s = ConcreteState(bounds: bounds, firstPage: 0x100)
    for (t, a) in [
      (Transition.call(.environmentCreate), [1, 0] as [UInt64]),
      (.call(.environmentStart), [1, 0, UserLayout.imageBase, UserLayout.stackTop]),
      (.call(.environmentCreate), [2, 1]),
      (.call(.environmentStart), [2, 1, UserLayout.imageBase, UserLayout.stackTop]),
      (.call(.sliceAllocate), [1, 1, 0]),
    ] {
      #expect(s.step(t, a).status == 0, "\(t)\(a)")
    }
    return s
  }

  @Test("a slice taken by neither its holder nor the holder's parent breaks the property")
  func sliceTakenByAnother() {
    var pre = twoChildren()
    pre.current = 2
    var post = pre
    post.slices[1] = ExoABI.none
    let call = Transition.call(.sliceFree)
    let property = TransitionProperty.sliceTakenByOwnerOrParent
    #expect(!property.holds(call, [1], outcome: ok, pre: pre, post: post))
    pre.current = 0  // the parent may
    #expect(property.holds(call, [1], outcome: ok, pre: pre, post: post))
  }

  @Test("a dying environment freed by another while its parent lives breaks the property")
  func reclaimedByAnother() {
    var pre = twoChildren()
    pre.environments.state[1] = EnvironmentState.dying.rawValue
    pre.current = 2
    var post = pre
    post.environments.state[1] = EnvironmentState.free.rawValue
    let call = Transition.call(.environmentReclaim)
    let property = TransitionProperty.reclaimedByParent
    #expect(!property.holds(call, [1], outcome: ok, pre: pre, post: post))
    pre.current = 0
    #expect(property.holds(call, [1], outcome: ok, pre: pre, post: post))
  }
}

@Suite("Transition properties on concrete runs")
struct TransitionPropertyRunTests {
  @Test("every transition property holds on every step of random runs at the proof bounds")
  func holdOnRandomRuns() {
    for seed in 1...12 {
      var walk = RandomWalk(seed: UInt64(seed))
      for _ in 0..<150 {
        let all = Transition.all
        let transition = all[Int(walk.next(UInt64(all.count)))]
        let arguments = transition.parameters.map { walk.argument($0) }
        let pre = walk.state
        var post = pre
        let outcome = post.apply(transition, arguments)
        // Console ranges: the first, second and last byte of the range.
        let length =
          transition == .call(.consoleWrite) || transition == .call(.consoleRead)
          ? arguments[1] : 1
        for property in TransitionProperty.allCases where property.applies(to: transition) {
          for any in [0, 1, length &- 1]
          where !property.holds(
            transition, arguments, outcome: outcome, pre: pre, post: post, any: any)
          {
            Issue.record("\(property) broken by \(transition)\(arguments) (seed \(seed))")
            return
          }
        }
        walk.state = post
        if walk.state.current == ExoABI.none { _ = walk.state.step(.event(.tick), []) }
      }
    }
  }

  @Test(
    "a reclaimed parent's slot leaves its children orphans, so its next occupant has no power over them"
  )
  func orphanedChild() throws {
    var s = ConcreteState(bounds: Verifier.proofBounds, firstPage: 0x100)
    let start = [UserLayout.imageBase, UserLayout.stackTop]
    let steps: [(Transition, [UInt64], UInt64?)] = [
      (.call(.environmentCreate), [1, 0], 0), (.call(.environmentStart), [1, 0] + start, 0),
      (.call(.yieldTo), [1], 0), (.call(.environmentCreate), [2, 1], 0),
      (.call(.environmentStart), [2, 1] + start, 0), (.call(.sliceAllocate), [1, 2, 1], 0),
      (.call(.exit), [0], 0), (.call(.yield), [], 0),
      // Both capabilities of 1's reclaim domain are leaves: one pass.
      (.call(.environmentReclaim), [1], 1),
    ]
    for (t, a, value) in steps {
      let r = s.step(t, a)
      #expect(r.status == 0 && r.value == value, "\(t)\(a): \(r)")
    }
    #expect(s.current == 0)
    let pre = s
    let outcome = s.apply(.call(.environmentReclaim), [1])
    #expect(outcome.status == 0 && outcome.value == 0)
    #expect(s.environments.parent[2] == ExoABI.none)
    #expect(
      TransitionProperty.freedSlotIsNobodysParent.holds(
        .call(.environmentReclaim), [1], outcome: outcome, pre: pre, post: s))
    // A spec that kept the parent breaks the property.
    var stale = s
    stale.environments.parent[2] = 1
    #expect(
      !TransitionProperty.freedSlotIsNobodysParent.holds(
        .call(.environmentReclaim), [1], outcome: outcome, pre: pre, post: stale))
    // The slot's next occupant may not take the orphan's slice.
    for (t, a) in [
      (Transition.call(.environmentCreate), [1, 0] as [UInt64]),
      (.call(.environmentStart), [1, 0] + start), (.call(.yieldTo), [1]),
    ] {
      #expect(s.step(t, a).status == 0, "\(t)\(a)")
    }
    #expect(s.step(.call(.sliceFree), [1]).error == .notPermitted)
  }
}

@Suite("Transition properties can fail")
struct TransitionPropertyVacuityTests {
  let fp: UInt64 = 0x100

  /// Reachable states: random runs, plus one with a request being aborted
  /// and a dying child.
  func states() -> [ConcreteState] {
    var states: [ConcreteState] = (1...8).map { seed in
      var walk = RandomWalk(seed: UInt64(seed))
      for _ in 0..<80 { _ = walk.step() }
      return walk.state
    }
    var s = ConcreteState(bounds: Verifier.proofBounds, firstPage: fp)
    let start = [UserLayout.imageBase, UserLayout.stackTop]
    let steps: [(Transition, [UInt64])] = [
      (.call(.environmentCreate), [1, 0]), (.call(.environmentStart), [1, 0] + start),
      (.call(.environmentCreate), [2, 1]), (.call(.environmentStart), [2, 1] + start),
      (.call(.environmentDestroy), [2, 1]), (.call(.yieldTo), [1]),
      (.call(.pageAllocate), [fp, 1, 2]), (.call(.pageAllocate), [fp + 1, 1, 3]),
      (.call(.yield), []), (.event(.tick), []), (.call(.revocationRequest), [1, 0, 2, 1]),
      (.event(.tick), []), (.event(.revocationDeadline), [1]), (.event(.revocationAbort), [1]),
    ]
    for (t, a) in steps {
      let r = s.step(t, a)
      #expect(r.status == 0, "\(t)\(a): \(r)")
    }
    states.append(s)
    return states
  }

  @Test("each transition property is broken by some corrupted step (none is vacuous)")
  func eachCanFail() {
    var caught = Set<TransitionProperty>()
    // A call that changes nothing, its state after corrupted word by word.
    let ticks = Transition.call(.ticks)
    for pre in states() {
      var post = pre
      let outcome = post.apply(ticks, [])
      for i in post.words.indices {
        for delta: UInt64 in [1, .max, 0x55] {
          var words = post.words
          words[i] = words[i] &+ delta
          let bad = ConcreteState(bounds: post.bounds, firstPage: post.firstPage, words: words)
          for p in TransitionProperty.allCases where !caught.contains(p) && p.applies(to: ticks) {
            if !p.holds(ticks, [], outcome: outcome, pre: pre, post: bad) { caught.insert(p) }
          }
        }
      }
    }
    // The properties of one call's arguments and result: results no
    // correct spec gives.
    let ok = Outcome<ConcreteDomain>(status: 0, value: 0)
    let initial = ConcreteState(bounds: Verifier.proofBounds, firstPage: fp)
    let cases: [(TransitionProperty, Transition, [UInt64], Outcome<ConcreteDomain>)] = [
      (.consoleWriteReadsReadable, .call(.consoleWrite), [UserLayout.windowBase, 1], ok),
      (.consoleReadWritesWritable, .call(.consoleRead), [UserLayout.imageBase, 1], ok),
      (
        .exceptionFrameInWritableSlot, .event(.exception), [14, 0, 0, 0], .init(status: 0, value: 1)
      ),
      // A frame sent from an empty slot, by an environment without filters.
      (.transmitReadsBoundPage, .call(.frameTransmit), [0, 60], ok),
      (.transmitOnlyAsFilterOwner, .call(.frameTransmit), [0, 60], ok),
    ]
    for (p, t, a, outcome) in cases
    where !p.holds(t, a, outcome: outcome, pre: initial, post: initial) {
      caught.insert(p)
    }
    var derived = initial
    #expect(derived.step(.call(.pageAllocate), [fp, 1, 0]).status == 0)
    #expect(derived.step(.call(.capabilityDerive), [0, 1, 1, fp, 1]).status == 0)
    if !TransitionProperty.revokeDoneLeavesNoDescendants.holds(
      .call(.capabilityRevoke), [0], outcome: ok, pre: derived, post: derived)
    {
      caught.insert(.revokeDoneLeavesNoDescendants)
    }
    // Environment 2 is dying and its parent 0 lives: 1 may not free it.
    if var pre = states().last {
      pre.current = 1
      var post = pre
      post.environments.state[2] = EnvironmentState.free.rawValue
      let reclaim = Transition.call(.environmentReclaim)
      if !TransitionProperty.reclaimedByParent.holds(
        reclaim, [2], outcome: ok, pre: pre, post: post)
      {
        caught.insert(.reclaimedByParent)
      }
    }
    // A frame that only filter 0 matches, delivered to filter 1.
    let filtering = filteringState()
    var misdelivered = filtering
    misdelivered.filters.pending[1] = 1
    misdelivered.filters.delivered[1] += 1
    if !TransitionProperty.frameGoesToMatchingFilter.holds(
      .event(.frameArrival), [0b01], outcome: .init(status: 0, value: 1), pre: filtering,
      post: misdelivered)
    {
      caught.insert(.frameGoesToMatchingFilter)
    }
    let uncaught = Set(TransitionProperty.allCases).subtracting(caught)
    #expect(uncaught.isEmpty, "never broken: \(uncaught.map(\.name))")
  }
}
