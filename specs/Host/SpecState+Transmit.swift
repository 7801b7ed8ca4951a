import ExoABI

extension SpecState where D == ConcreteDomain {
  /// A frame of `length` bytes that the owner of active filter slot `f`
  /// may send (``frameTransmit(slot:length:)``): the reply to the
  /// `diffFrame` of `seed` aimed at `f` (``DiffFrame``), i.e. that frame
  /// with its source and destination fields exchanged, so that its reply
  /// is the aimed frame, which `f` matches when its tests agree with each
  /// other and `length` covers them. The differential tester stores such
  /// frames before it calls `frameTransmit`; the cross-check gives them as
  /// page contents.
  public func transmittableFrame(seed: UInt64, filter f: UInt64, length: Int) -> [UInt8] {
    let d = domain
    let words = filterWords
    let slots = bounds.filters
    func aimed(_ p: UInt64) -> UInt64 {
      DiffFrame.byte(
        d, seed: seed, aim: { i in Self.filterWord(d, words, f, i, slots: slots) }, at: p)
    }
    // The reply keeps bytes 12–13, so the aimed frame says whether it is ARP.
    let arp = isARP { p in aimed(p) & 0xff }
    return (0..<max(0, length)).map { p in
      UInt8(truncatingIfNeeded: aimed(replyPosition(UInt64(p), arp: arp)))
    }
  }
}
