import ExoABI

/// A domain of plain values (`Bool`, `UInt64`): the spec run concretely.
/// There is no path condition: `branch` runs only the side that is taken,
/// so every write is unconditional and costs O(1). The domains of plain
/// values differ only in where their tables live (``ConcreteDomain``: Swift
/// arrays; the kernel's domain: its exported tables) and in their hooks.
public protocol PlainDomain: SpecDomain where B == Bool, W == UInt64 {
  /// Runs `body` with `words` words of scratch memory, all zero.
  func withScratch<R>(_ words: Int, _ body: (UnsafeMutablePointer<UInt64>) -> R) -> R
}

extension PlainDomain {
  @inline(__always)
  public func word(
    _ i: Int, ofRecord r: UInt64, in table: Column, stride: Int, count: Int
  ) -> UInt64 {
    r < UInt64(count) ? table[Int(r) * stride + i] : 0
  }
  @inline(__always) public func bool(_ value: Bool) -> Bool { value }
  @inline(__always) public func word(_ value: UInt64) -> UInt64 { value }
  @inline(__always) public func not(_ a: Bool) -> Bool { !a }
  @inline(__always) public func and(_ a: Bool, _ b: Bool) -> Bool { a && b }
  @inline(__always) public func or(_ a: Bool, _ b: Bool) -> Bool { a || b }
  @inline(__always) public func and(_ a: Bool, then b: () -> Bool) -> Bool { a && b() }
  @inline(__always) public func eq(_ a: UInt64, _ b: UInt64) -> Bool { a == b }
  @inline(__always) public func ult(_ a: UInt64, _ b: UInt64) -> Bool { a < b }
  @inline(__always) public func add(_ a: UInt64, _ b: UInt64) -> UInt64 { a &+ b }
  @inline(__always) public func sub(_ a: UInt64, _ b: UInt64) -> UInt64 { a &- b }
  @inline(__always) public func mul(_ a: UInt64, _ k: UInt64) -> UInt64 { a &* k }
  @inline(__always) public func bitAnd(_ a: UInt64, _ b: UInt64) -> UInt64 { a & b }
  @inline(__always) public func shiftRight(_ a: UInt64, _ k: UInt64) -> UInt64 { a >> k }
  @inline(__always) public func remainder(_ a: UInt64, _ n: UInt64) -> UInt64 { a % n }
  @inline(__always) public func ite(_ c: Bool, _ a: UInt64, _ b: UInt64) -> UInt64 { c ? a : b }
  @inline(__always) public func ite(_ c: Bool, _ a: Bool, _ b: Bool) -> Bool { c ? a : b }

  @inline(__always)
  public func branch(_ c: Bool, then: () -> Void, else otherwise: () -> Void) {
    if c { then() } else { otherwise() }
  }

  @inline(__always) public func assign(_ variable: inout UInt64, _ value: UInt64) {
    variable = value
  }

  @inline(__always)
  public func first(_ count: Int, where predicate: (Int) -> Bool) -> (found: Bool, index: UInt64) {
    var j = 0
    while j < count {
      if predicate(j) { return (true, UInt64(truncatingIfNeeded: j)) }
      j += 1
    }
    return (false, .max)
  }

  @inline(__always)
  public func forEach(below limit: UInt64, bound: Int, _ body: (Int) -> Void) {
    let end = limit < UInt64(bound) ? Int(limit) : bound
    var j = 0
    while j < end {
      body(j)
      j += 1
    }
  }

  @inline(__always)
  public func forEach(bound: Int, while condition: () -> Bool, _ body: (Int) -> Void) {
    var j = 0
    while j < bound, condition() {
      body(j)
      j += 1
    }
  }

  public func countsMatch(
    _ n: Int, buckets: Int, key: (Int) -> UInt64, expected: (Int) -> UInt64
  ) -> Bool {
    withScratch(buckets) { counts in
      var i = 0
      while i < n {
        let k = key(i)
        if k < UInt64(truncatingIfNeeded: buckets) { counts[Int(truncatingIfNeeded: k)] &+= 1 }
        i += 1
      }
      var k = 0
      while k < buckets {
        if counts[k] != expected(k) { return false }
        k += 1
      }
      return true
    }
  }

  public func allDistinct(
    _ n: Int, key: (Int) -> UInt64, valid: (Int) -> Bool, low: UInt64, span: Int
  ) -> Bool {
    withScratch((span + 63) / 64) { bits in
      var j = 0
      while j < n {
        defer { j += 1 }
        guard valid(j) else { continue }
        let k = key(j)
        let offset = k &- low
        if offset < UInt64(truncatingIfNeeded: span) {
          let word = Int(truncatingIfNeeded: offset >> 6)
          let bit: UInt64 = 1 << (offset & 63)
          if bits[word] & bit != 0 { return false }
          bits[word] |= bit
        } else {
          var i = 0
          while i < j {
            if valid(i) && key(i) == k { return false }
            i += 1
          }
        }
      }
      return true
    }
  }

  @inline(__always)
  public func check(
    _ ok: inout Bool, _ error: inout UInt64, _ condition: () -> Bool, _ code: UInt64
  ) {
    if ok && !condition() {
      ok = false
      error = code
    }
  }
}
