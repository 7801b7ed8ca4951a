/// The byte protocol between the differential tester on the host and its
/// in-guest agent (`kernel/user/programs/agent`): commands in through
/// `consoleRead`, records out through `diffWrite`. In difftest mode the
/// console is a pair of byte rings in guest physical memory that the host
/// maps too (`ringBase`; QEMU's RAM is a shared file), so no byte crosses an
/// emulated device; the UART keeps only the kernel's own log. Numbers are
/// unsigned LEB128 unless said otherwise.
///
///     host → agent
///     'S' number:u8 argc:u8 length:u8 args…   make call `number` (a Syscall,
///                                              or a DiffCall such as diffTick)
///                                              with argc LEB128 arguments
///                                              taking `length` bytes
///     'G'                                      send the state digest
///     'D'                                      send the whole exported area
///     'R'                                      diffReset: back to the initial state
///     'X' kind:u8 address                      an access by the current
///                                              environment that must fault
///                                              (`DiffProbeKind`): the
///                                              `exception` event. The agent
///                                              that runs next sends the 'r'
///                                              record (the kernel records the
///                                              event's result); an access
///                                              that does not fault sends it
///                                              at once with
///                                              `DiffAnomaly.exceptionMissing`
///     'P' count:u8 length:u8 probes…           memory probes by the current
///                                              environment, `length` bytes:
///                                              each kind (`DiffProbeKind`),
///                                              address, and for a write the
///                                              word to write
///
///     agent → host
///     "EXOAGENT" callEntry:8 firstPage:8       environment 0 started (boot or
///                                              reset); both little-endian
///     'r' status value anomalies               the result of the last 'S', and
///                                              what the agent found wrong in
///                                              the registers the kernel left
///                                              it (`DiffAnomaly` bits; 0 is
///                                              right)
///     'g' digest:8                             `InfoDigest`, little-endian
///     'd' words…:8 each                        `InfoLayout(bounds: .kernel).size`
///                                              bytes of the exported area
///     'p' outcomes…                            per probe a byte, 0 the access
///                                              went through, 1 it faulted, 2
///                                              an execute probe declined (see
///                                              `DiffProbeKind.execute`); a
///                                              read that went through is
///                                              followed by the word read
///
/// Every environment runs a copy of the agent. After each 'S' the
/// environment that runs next (the caller itself, or whichever the call or
/// tick switched to) sends the 'r' record: its own `rax`/`rdx` if it made
/// the call and has just returned from it, else the result the kernel
/// recorded (`diffLastResult`). It then reads the next command.
public enum DiffProtocol {
  public static let step = UInt8(ascii: "S")
  public static let digest = UInt8(ascii: "G")
  public static let dump = UInt8(ascii: "D")
  public static let reset = UInt8(ascii: "R")
  public static let probes = UInt8(ascii: "P")
  public static let exception = UInt8(ascii: "X")
  public static let probeRecord = UInt8(ascii: "p")

  public static let readyMarker: StaticString = "EXOAGENT"
  public static let result = UInt8(ascii: "r")
  public static let digestRecord = UInt8(ascii: "g")
  public static let dumpRecord = UInt8(ascii: "d")

  /// Where every copy of the agent can be entered by a protected control
  /// transfer: the generator uses it as the `callEntry` of
  /// `environmentSetEntries` so that a `call` lands in the agent.
  public static let callEntry: UInt64 = UserLayout.imageBase + 0x1000
  /// The agent's I/O buffer: the top two pages of its initial stack (which
  /// `consoleRead` may write); its stack starts below.
  public static let bufferBase: UInt64 = UserLayout.stackTop - 2 * 4096
  public static let bufferSize: Int = 2 * 4096

  /// The physical address of the rings (15 MiB, below the managed pages):
  /// a control page, then the input ring, then the output ring.
  ///
  ///     control page, words:  0 inHead   bytes the host has written in all
  ///                           1 inTail   bytes the guest has consumed
  ///                           8 outHead  bytes the guest has written
  ///                           9 outTail  bytes the host has consumed
  ///
  /// Each side writes only its own counters, after the data (release) and
  /// reads the other's before the data (acquire). Byte n of a ring is at
  /// offset n % ringSize.
  public static let ringBase: UInt64 = 0xF0_0000
  public static let ringSize: UInt64 = 16 * 4096
  public static let inputRing: UInt64 = ringBase + 4096
  public static let outputRing: UInt64 = inputRing + ringSize
  /// Pages the rings take from `ringBase`.
  public static let ringPages: UInt64 = 1 + 2 * ringSize / 4096
  public enum RingWord: UInt64 {
    case inHead = 0
    case inTail = 1
    case outHead = 8
    case outTail = 9
  }
}

/// What a memory probe does: an 8-byte load or store, or an instruction
/// fetch, by ring 3 at a user address (`DiffProtocol.probes`).
public enum DiffProbeKind: UInt64, Sendable, Hashable, CaseIterable {
  case read = 0
  case write = 1
  /// Runs one instruction at the address, single-stepped (rflags.TF), if
  /// the two bytes there are zero (`add [rax], al` with rax pointing at
  /// the agent's scratch byte: harmless); it declines, running nothing, if
  /// they are readable and not zero. It faults if the bytes cannot be
  /// read or fetched: a page bound without `execute` must fault.
  case execute = 2
}

/// One memory probe: a load, store or instruction fetch at `address`, by
/// whichever environment runs after the step it follows.
public struct DiffProbe: Hashable, Sendable {
  public var kind: DiffProbeKind
  public var address: UInt64
  /// The word a write stores (0 for a read).
  public var value: UInt64

  public init(_ kind: DiffProbeKind, _ address: UInt64, value: UInt64 = 0) {
    self.kind = kind
    self.address = address
    self.value = value
  }
}

/// What a probe showed: the access faulted, a write went through, a read
/// went through and gave a word (`nil` in a prediction: any word), an
/// instruction ran, or an execute probe declined (the bytes there were not
/// zero).
public indirect enum DiffProbeOutcome: Hashable, Sendable {
  case faulted
  case wrote
  case read(UInt64?)
  case executed
  case declined
  /// A prediction only: the execute probe declines or shows `outcome`
  /// (the bytes at the address are not known).
  case declinedOr(DiffProbeOutcome)

  /// Whether `seen` is what this prediction allows.
  public func admits(_ seen: DiffProbeOutcome) -> Bool {
    if self == seen { return true }
    return switch (self, seen) {
    case (.read(nil), .read): true
    case (.declinedOr, .declined): true
    case (.declinedOr(let other), _): other.admits(seen)
    default: self == seen
    }
  }
}

/// What the agent checks in the registers the kernel leaves it
/// (docs/ABI.md "Registers"), reported as bits of a result record. Each is
/// a kernel bug; the spec predicts none.
public struct DiffAnomaly: OptionSet, Sendable, Hashable {
  public let rawValue: UInt64
  public init(rawValue: UInt64) { self.rawValue = rawValue }

  /// After a call returned, a register the call does not write (rbx, rbp,
  /// r12–r15, the argument registers, except a successful `call`'s reply
  /// registers) holds another value than before it.
  public static let preservedRegister = DiffAnomaly(rawValue: 1 << 0)
  /// After a call returned, `rcx` is not the address after `syscall`,
  /// `r11` not the rflags of the call, `rflags` or `rsp` not as they were.
  public static let returnRegisters = DiffAnomaly(rawValue: 1 << 1)
  /// After a call returned, the x87/SSE state is not the one before it.
  public static let fpuChanged = DiffAnomaly(rawValue: 1 << 2)
  /// Entered by a transfer, an exception or an upcall with a register the
  /// ABI says is zero there not zero, or rflags not `0x202`.
  public static let entryRegisters = DiffAnomaly(rawValue: 1 << 3)
  /// Started (`environmentStart`) with a register other than `rsp` not
  /// zero, or rflags not `0x202`.
  public static let startRegisters = DiffAnomaly(rawValue: 1 << 4)
  /// Started with an x87/SSE state other than the initial one.
  public static let startFPU = DiffAnomaly(rawValue: 1 << 5)
  /// An access the spec says faults went through (an `exception` step).
  public static let exceptionMissing = DiffAnomaly(rawValue: 1 << 6)
  /// Entered by a transfer on another stack than the handler stack.
  public static let frameMisplaced = DiffAnomaly(rawValue: 1 << 7)
  /// Entered by an upcall whose frame holds, for a context suspended in
  /// one of this environment's calls, other registers than that call's
  /// patterns (another environment's registers, say).
  public static let frameRegisters = DiffAnomaly(rawValue: 1 << 8)

}

#if !hasFeature(Embedded)
  extension DiffAnomaly {
    /// Every defined bit with its description, in bit order: the one list
    /// reports read (a bit missing here shows as unknown).
    public static let described: [(DiffAnomaly, String)] = [
      (.preservedRegister, "a preserved register changed across a call"),
      (.returnRegisters, "rcx, r11, rflags or rsp wrong after a call"),
      (.fpuChanged, "the x87/SSE state changed across a call"),
      (.entryRegisters, "a register not zero on entry by a transfer"),
      (.startRegisters, "a register not zero at environmentStart"),
      (.startFPU, "x87/SSE state not initial at environmentStart"),
      (.exceptionMissing, "an access that must fault went through"),
      (.frameMisplaced, "a transfer entered off the handler stack"),
      (.frameRegisters, "an upcall frame holds registers that are not this environment's"),
    ]

    /// Names of the bits set, for reports.
    public var names: [String] {
      var out = Self.described.filter { contains($0.0) }.map(\.1)
      let known = Self.described.reduce(UInt64(0)) { $0 | $1.0.rawValue }
      if rawValue & ~known != 0 {
        out.append("unknown anomaly bits 0x\(String(rawValue & ~known, radix: 16))")
      }
      return out
    }
  }
#endif
