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
}
