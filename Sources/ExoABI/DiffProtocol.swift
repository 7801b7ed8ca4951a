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
///
///     agent → host
///     "EXOAGENT" callEntry:8 firstPage:8       environment 0 started (boot or
///                                              reset); both little-endian
///     'r' status value                         the result of the last 'S'
///     'g' digest:8                             `InfoDigest`, little-endian
///     'd' words…:8 each                        `InfoLayout(bounds: .kernel).size`
///                                              bytes of the exported area
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
