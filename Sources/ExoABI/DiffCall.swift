/// The calls of the kernel's difftest mode (`difftest=1` on the kernel
/// command line), numbers 70–79. They exist only in that mode (otherwise
/// `noSuchCall`) and are not part of the abstract state machine: they let the
/// in-guest agent of the differential tester drive the kernel
/// deterministically and observe it (docs/ABI.md, "Difftest mode").
public enum DiffCall: UInt64, CaseIterable, Sendable {
  /// `diffTick()`: runs the kernel's timer-tick path (the `tick` event: a
  /// slice ends) as if the timer had fired now. Value 0.
  case tick = 70
  /// `diffLastResult()`: the status and value the kernel gave the most
  /// recent call that was not a difftest call (in `rax` and `rdx`, like
  /// the call's own result). A call that returns nothing yet (a `call` that
  /// waits, `reply`, `exit`) counts as status 0, value 0.
  case lastResult = 71
  /// `diffDigest()`: the `InfoDigest` of the exported tables, which the
  /// kernel maintains on every store to them. Value: the digest.
  case digest = 72
  /// `diffReset()`: puts the kernel back into the ABI's initial state and
  /// restarts environment 0 at the program's entry with fresh memory. Does
  /// not return to the caller.
  case reset = 73
  /// `diffWrite(address, length)`: `consoleWrite` whose bytes reach the
  /// console (in difftest mode `consoleWrite` checks and returns as always
  /// but drops its bytes: the console carries the agent's protocol).
  case write = 74
  /// `diffRead(address, length)`: `consoleRead` from the input ring, the
  /// agent's command channel (in difftest mode `consoleRead` makes its
  /// checks and reads nothing: no console input is waiting, as the spec
  /// models it). Value: bytes read.
  case read = 75
  /// `diffProbe(first, end, recovery)`: a page fault in ring 3 whose `rip`
  /// lies in `[first, end)` (the agent's probe instructions) resumes at
  /// `recovery` with `rax` = 1, instead of being the `exception` event: the
  /// agent's memory probes observe the page tables without changing the
  /// abstract state. While it is on, an execute probe
  /// (`DiffProbeKind.execute`) is observed too: a ring-3 debug trap with
  /// rflags.TF set at `rip == rdi` (the agent's jump has landed on the
  /// probed address) resumes there to fetch it; then a page fault on that
  /// fetch resumes at `recovery` with `rax` = 1, and the trap after the
  /// instruction ran (or any other exception it raised) with `rax` = 0,
  /// TF cleared. `diffProbe(0, 0, 0)` turns it off. Value 0; `badAddress`
  /// unless all three are user addresses and `first < end`.
  case probe = 76
  /// `diffFrame(seed, length, filter)`: a frame of `length` bytes (at
  /// most the longest frame) arrives, its bytes ``DiffFrame``'s: the
  /// `frameInjected` event, which runs the same `frameArrival` as the NIC
  /// path (`Frames.arrived`), so that delivery is compared with the spec.
  /// Value: the filter slot that got it, or `none`.
  case frame = 77
  /// `diffLoopback(slot, length)`: the first `length` bytes of the page the
  /// caller has bound at window slot `slot` arrive as a frame through the
  /// NIC's path (`Frames.arrived`, the spec's `frameArrival`), as if the
  /// network had looped back a frame the caller built. Besides difftest
  /// mode it exists with `loopback=1` on the kernel command line, which
  /// `exo bench` gives its guest: a frame source at fixed instruction
  /// counts, where a peer's frames would arrive at host times. Value: the
  /// filter slot that got it, or `none`; `outOfRange` for a slot past the
  /// window, `slotEmpty` for an empty one, `invalidArgument` for a length
  /// outside 14...1514.
  case loopback = 78
}

/// The frames `diffFrame` injects: made from a seed and aimed at a filter,
/// so that most match it. Byte `p` is byte `p mod 8` of `seed`, except
/// that each test of the aimed filter (in order) sets the bits under its
/// mask to its value in the bytes of its field. Written once over
/// ``WordOperations``: the kernel builds the bytes, the spec reads them.
public enum DiffFrame {
  /// Byte `p` of the frame of `seed` aimed at the filter of encoding `aim`
  /// (a filter of no tests, or of malformed ones, aims nowhere useful but
  /// gives bytes all the same).
  public static func byte<O: WordOperations>(
    _ o: O, seed: O.W, aim: (Int) -> O.W, at p: O.W
  ) -> O.W {
    var byte = o.word(0)
    let lane = o.remainder(p, 8)
    for k in 0..<8 {
      byte = o.ite(
        o.eq(lane, o.word(UInt64(k))), o.bitAnd(o.shiftRight(seed, UInt64(8 * k)), o.word(0xFF)),
        byte)
    }
    let n = aim(0)
    for i in 0..<PacketFilter.maximumTests {
      let t = PacketFilter.test(o, i, aim)
      let active = o.ult(o.word(UInt64(i)), n)
      for width in [1, 2, 4] {
        for j in 0..<width {
          // Byte j of a field of `width` bytes: bits 8 × (width − 1 − j) up.
          let shift = UInt64(8 * (width - 1 - j))
          let here = o.and(
            o.and(active, o.eq(t.width, o.word(UInt64(width)))),
            o.eq(p, o.add(t.offset, o.word(UInt64(j)))))
          let mask = o.bitAnd(o.shiftRight(t.mask, shift), o.word(0xFF))
          let value = o.bitAnd(o.shiftRight(t.value, shift), mask)
          // (byte & ~mask) | value, without or and not: the bits are disjoint.
          let set = o.add(o.sub(byte, o.bitAnd(byte, mask)), value)
          byte = o.ite(here, set, byte)
        }
      }
    }
    return byte
  }

  /// The frame's length: `length`, at most the longest frame.
  public static func length<O: WordOperations>(_ o: O, _ length: O.W) -> O.W {
    let longest = o.word(UInt64(PacketFilter.maximumFrameLength))
    return o.ite(o.ult(longest, length), longest, length)
  }
}
