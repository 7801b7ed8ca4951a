import ExoABI
import ExoProofs
import ExoSpec
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
