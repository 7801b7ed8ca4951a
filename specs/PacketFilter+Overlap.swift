import ExoABI

/// The kernel's overlap check of packet filters (docs/network.md): the
/// condition under which a later call refuses to load a filter. Written
/// once over the spec's domain: the kernel runs it, and exoverify proves it
/// sound and complete (the `packetFilter` obligations).
///
/// The rule. A well-formed test `(offset, width, mask, value)` says, of
/// each byte `p` of its field, that the bits of the mask's byte for `p` are
/// the value's bits there, and that the frame is at least `offset + width`
/// bytes long. A set of such constraints is satisfiable if and only if no
/// two of them constrain a bit of the same byte to different values: each
/// bit is then free or set to the one value every constraint on it asks
/// for, and a frame as long as the longest test's end (at most
/// ``PacketFilter/maximumFrameLength``) satisfies every length constraint.
/// So some frame matches both filters if and only if no two tests among
/// all of theirs — of the same filter too, since a filter whose tests
/// contradict each other matches nothing — disagree on a bit of a byte
/// they share.
extension SpecDomain {
  /// The spec's overlap decision (``SpecDomain/overlaps(_:_:)``): the check
  /// below, unless a domain stands for it otherwise.
  public func overlaps(_ a: (Int) -> W, _ b: (Int) -> W) -> B { filtersOverlap(a, b) }

  /// The spec's matching decision (``SpecDomain/frameMatches(_:length:byte:)``):
  /// the ABI's rule, unless a domain stands for it otherwise.
  public func frameMatches(_ filter: (Int) -> W, length: W, byte: (W) -> W) -> B {
    PacketFilter.matches(self, filter, length: length, byte: byte)
  }

  /// Whether some frame of at most ``PacketFilter/maximumFrameLength``
  /// bytes matches both of the encoded filters `a` and `b` (each accepted
  /// by ``PacketFilter/check(_:_:)``). Bounded work, no allocation: the
  /// pairs of at most `2 × maximumTests` tests.
  public func filtersOverlap(_ a: (Int) -> W, _ b: (Int) -> W) -> B {
    not(filtersConflict(a, b).found)
  }

  /// The first pair of tests that disagree on a bit, numbered over both
  /// filters: tests `0..<maximumTests` are `a`'s, the rest `b`'s; pair
  /// `k * 2 * maximumTests + l` with `k < l`.
  public func filtersConflict(_ a: (Int) -> W, _ b: (Int) -> W) -> (found: B, index: W) {
    let m = PacketFilter.maximumTests
    let na = a(0)
    let nb = b(0)
    func active(_ k: Int) -> B { k < m ? ult(word(UInt64(k)), na) : ult(word(UInt64(k - m)), nb) }
    func test(_ k: Int) -> EncodedTest<W> {
      k < m ? PacketFilter.test(self, k, a) : PacketFilter.test(self, k - m, b)
    }
    return first(4 * m * m) { pair in
      let k = pair / (2 * m)
      let l = pair % (2 * m)
      guard k < l else { return bool(false) }
      return and(active(k)) {
        and(active(l)) { testsDisagree(test(k), test(l)) }
      }
    }
  }

  /// Whether two well-formed tests constrain a bit of a byte they share to
  /// different values. Fields are compared aligned at their last byte: if
  /// `s` ends `d` bytes after `t` (`0 <= d <= 3`, else they share no
  /// byte), `t`'s field shifted up `d` bytes lies on `s`'s; bits beyond
  /// `s`'s field fall outside `s`'s mask.
  public func testsDisagree(_ s: EncodedTest<W>, _ t: EncodedTest<W>) -> B {
    let endS = add(s.offset, s.width)
    let endT = add(t.offset, t.width)
    /// On the bits both masks cover, the values differ (`v1 ⊆ m1`, `v2 ⊆ m2`).
    func differ(_ m1: W, _ v1: W, _ m2: W, _ v2: W) -> B { ne(bitAnd(v1, m2), bitAnd(v2, m1)) }
    var disagree = bool(false)
    for d in 0..<4 {
      let shift = UInt64(1) << (8 * UInt64(d))
      let sLater = and(
        eq(endS, add(endT, word(UInt64(d)))),
        differ(s.mask, s.value, mul(t.mask, shift), mul(t.value, shift)))
      disagree = or(disagree, sLater)
      if d > 0 {
        let tLater = and(
          eq(endT, add(endS, word(UInt64(d)))),
          differ(t.mask, t.value, mul(s.mask, shift), mul(s.value, shift)))
        disagree = or(disagree, tLater)
      }
    }
    return disagree
  }
}
