/// The byte protocol between the differential tester on the host and its
/// in-guest agent (`kernel/user/programs/agent`), over the kernel console
/// (COM1): commands in through `consoleRead`, records out through
/// `consoleWrite`. Numbers are unsigned LEB128 unless said otherwise.
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
}
