import Arch
import ExoABI

/// The kernel's difftest mode (`difftest=1` on the command line), for the
/// differential tester's in-guest agent (docs/ABI.md, "Difftest mode"):
/// the timer never preempts, slice ends happen only when the agent asks
/// (`diffTick`), the `DiffCall`s exist, and the console is the pair of
/// rings at `DiffProtocol.ringBase` that the host maps: `consoleRead` reads
/// the input ring, `diffWrite` writes the output ring, and `consoleWrite`
/// checks and returns as always but drops its bytes (the console carries
/// the agent's protocol). The UART keeps the kernel's own log. Outside this
/// mode the `DiffCall`s are `noSuchCall`.
enum DiffMode {
  nonisolated(unsafe) static var enabled = false
  /// The result of the most recent call that was not `diffLastResult`,
  /// `diffDigest` or `diffWrite`, and who made it.
  nonisolated(unsafe) static var lastStatus: UInt64 = 0
  nonisolated(unsafe) static var lastValue: UInt64 = 0
  nonisolated(unsafe) static var lastCaller: UInt64 = 0
  /// A copy of the exported area in the initial state, and its digest:
  /// `diffReset` restores it.
  nonisolated(unsafe) static var pristine: UInt64 = 0
  nonisolated(unsafe) static var pristineDigest = InfoDigest()
  /// The agent's probe instructions and where a fault in them resumes
  /// (`diffProbe`).
  nonisolated(unsafe) static var probeFirst: UInt64 = 0
  nonisolated(unsafe) static var probeEnd: UInt64 = 0
  nonisolated(unsafe) static var probeRecovery: UInt64 = 0
  /// A page for the frames `diffFrame` injects.
  nonisolated(unsafe) static var frameBuffer: UInt64 = 0
  /// An execute probe has landed on its address and is fetching it.
  nonisolated(unsafe) static var executing = false

  /// Turns the mode on after `Info.initialize`: stops the timer and keeps a
  /// copy of the initial tables.
  static func enable(_ allocator: inout PageAllocator) {
    enabled = true
    Info.recomputeDigest()
    Timer.stop()
    let pages = UInt64(Info.layout.size) / pageSize
    pristine = allocator.run(pages)
    copyPages(to: pristine, from: Info.base, count: pages)
    pristineDigest = Info.digest
    frameBuffer = allocator.run(1)
    Log(
      "exo: difftest mode: no preemption; diffTick, diffLastResult, diffDigest, diffReset, diffWrite"
    )
    .end()
  }

  /// Records the result of a call for `diffLastResult`.
  static func record(_ caller: UInt64, _ result: SyscallResult?) {
    lastCaller = caller
    lastStatus = result?.status ?? 0
    lastValue = result?.value ?? 0
  }

  /// Runs a difftest call for `caller`; `nil` when it returns nothing
  /// (`diffReset` restarts environment 0 instead).
  static func dispatch(
    _ call: DiffCall, _ caller: UInt64, _ a0: UInt64, _ a1: UInt64, _ a2: UInt64
  ) -> SyscallResult? {
    switch call {
    case .tick:
      Spec.state.timerInterrupt()
      record(caller, .success(0))
      return .success(0)
    case .lastResult:
      // The caller's own frame gets the recorded result and who made it.
      Scheduler.frame(caller).pointee.rsi = lastCaller
      return SyscallResult(status: lastStatus, value: lastValue)
    case .digest:
      return .success(Info.digest.value)
    case .reset:
      reset()
      return nil
    case .write:
      return consoleWrite(caller, address: a0, length: a1, sink: .ring)
    case .read:
      return consoleRead(caller, address: a0, length: a1, source: .ring)
    case .frame:
      // The spec's frameInjected: DiffFrame's bytes, then the NIC's path.
      let o = PlainWords()
      let f = a2
      let n = Int(DiffFrame.length(o, a1))
      func aim(_ i: Int) -> UInt64 {
        guard f < UInt64(Info.bounds.filters) else { return 0 }
        return Info.filterWord(f, i)
      }
      let bytes = PhysicalMemory.bytes(frameBuffer)
      for p in 0..<n {
        bytes[p] = UInt8(truncatingIfNeeded: DiffFrame.byte(o, seed: a0, aim: aim, at: UInt64(p)))
      }
      let result = SyscallResult.success(Frames.arrived(UnsafePointer(bytes), length: n))
      record(caller, result)
      return result
    case .loopback:
      let result = Loopback.arrive(caller, slot: a0, length: a1)
      record(caller, result)
      return result
    case .probe:
      // User code addresses only: a fault must never resume in the kernel.
      let off = a0 == 0 && a1 == 0 && a2 == 0
      let user =
        VirtualAddress(rawValue: a0).isUser && VirtualAddress(rawValue: a1 &- 1).isUser
        && VirtualAddress(rawValue: a2).isUser && a0 < a1
      guard off || user else { return .failure(.badAddress) }
      (probeFirst, probeEnd, probeRecovery) = (a0, a1, a2)
      executing = false
      return .success(0)
    }
  }

  /// Whether a ring-3 page fault at `rip` is one of the agent's probes;
  /// if so `f` resumes at the recovery address with `rax` = 1.
  static func probeFaulted(_ f: UnsafeMutablePointer<trap_frame>) -> Bool {
    guard enabled, f.pointee.rip >= probeFirst, f.pointee.rip < probeEnd else { return false }
    f.pointee.rip = probeRecovery
    f.pointee.rax = 1
    return true
  }

  /// Whether a ring-3 exception is part of an execute probe (`diffProbe`):
  /// the single-step trap of the agent's jump landing on the probed
  /// address (`rip == rdi`) lets the fetch go on; then a page fault on the
  /// fetch resumes at the recovery address with `rax` = 1, and the trap
  /// after the instruction ran, or any exception the instruction raised,
  /// with `rax` = 0. TF is cleared when the probe ends.
  static func executeProbe(_ f: UnsafeMutablePointer<trap_frame>) -> Bool {
    let singleStep: UInt64 = 1 << 8
    let fetch: UInt64 = 1 << 4
    guard enabled, probeRecovery != 0 else { return false }
    if !executing {
      guard f.pointee.vector == 1, f.pointee.rflags & singleStep != 0,
        f.pointee.rip == f.pointee.rdi
      else { return false }
      executing = true
      return true
    }
    executing = false
    let faulted =
      f.pointee.vector == 14 && f.pointee.rip == f.pointee.rdi && f.pointee.error & fetch != 0
    f.pointee.rip = probeRecovery
    f.pointee.rax = faulted ? 1 : 0
    f.pointee.rflags &= ~singleStep
    return true
  }

  private static func ring(_ word: DiffProtocol.RingWord) -> UInt64 {
    DiffProtocol.ringBase + word.rawValue * 8
  }

  /// The next byte of the input ring, if the host has written one.
  static func receive() -> UInt8? {
    let tail = PhysicalMemory.load64(ring(.inTail))
    guard arch_load_acquire(ring(.inHead)) != tail else { return nil }
    let byte = PhysicalMemory.bytes(DiffProtocol.inputRing + tail % DiffProtocol.ringSize).pointee
    arch_store_release(ring(.inTail), tail + 1)
    return byte
  }

  /// Appends `count` bytes to the output ring, waiting while it is full.
  static func send(_ start: UnsafePointer<UInt8>, count: Int) {
    var head = PhysicalMemory.load64(ring(.outHead))
    for i in 0..<count {
      while head - arch_load_acquire(ring(.outTail)) >= DiffProtocol.ringSize {}
      PhysicalMemory.bytes(DiffProtocol.outputRing + head % DiffProtocol.ringSize).pointee =
        start[i]
      head += 1
      if head % 256 == 0 { arch_store_release(ring(.outHead), head) }
    }
    arch_store_release(ring(.outHead), head)
  }

  /// Back to the ABI's initial state: the pristine tables, environment 0
  /// at the program's entry with a fresh address space, registers and
  /// FPU/SSE state. Other slots are free; creating one rebuilds its address
  /// space.
  static func reset() {
    copyPages(to: Info.base, from: pristine, count: UInt64(Info.layout.size) / pageSize)
    Info.digest = pristineDigest
    AddressSpaces.build(0)
    arch_write_cr3(AddressSpaces.root(0))  // drop stale translations of slot 0
    Scheduler.reset(0, rip: ProgramImage.entry, rsp: UserLayout.stackTop)
    Scheduler.resetFPU(0)
    record(0, .success(0))
  }

  private static func copyPages(to destination: UInt64, from source: UInt64, count: UInt64) {
    var offset: UInt64 = 0
    while offset < count * pageSize {
      PhysicalMemory.store64(destination + offset, PhysicalMemory.load64(source + offset))
      offset += 8
    }
  }
}
