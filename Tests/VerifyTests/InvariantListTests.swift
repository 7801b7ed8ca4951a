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
