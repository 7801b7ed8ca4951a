import ExoABI
import ExoUser
import UserArch

/// The differential tester's in-guest agent: reads commands from the
/// console, makes each call from ring 3 as the current environment, and
/// writes back results, digests and dumps of the exported tables
/// (`DiffProtocol` in ExoABI). Every environment runs a copy; whichever is
/// current reads the next command. The kernel runs in difftest mode.
@main
struct Agent {
  static func main() { agent_boot() }
}

/// How an agent context came to run (entries.S).
enum Resumption: UInt64 {
  /// Environment 0 at boot or after `diffReset`.
  case booted = 0
  /// A call this context made returned (`rax`, `rdx` are its result).
  case returned = 1
  /// A protected control transfer entered this environment.
  case entered = 2
  /// `environmentStart` started this environment.
  case started = 3
}

/// The I/O buffer at `DiffProtocol.bufferBase`: input in the first page,
/// output in the second.
enum Buffer {
  static let input = UserMemory.pointer(DiffProtocol.bufferBase, to: UInt8.self)
  static let output = UserMemory.pointer(DiffProtocol.bufferBase + 4096, to: UInt8.self)
}

/// Output collected in the buffer's second page, written with one
/// `diffWrite` (in difftest mode `consoleWrite` drops its bytes).
struct Output {
  var count = 0

  mutating func byte(_ b: UInt8) {
    if count == 4096 { flush() }
    Buffer.output[count] = b
    count += 1
  }

  mutating func number(_ value: UInt64) {
    var v = value
    while v >= 0x80 {
      byte(UInt8(truncatingIfNeeded: v) | 0x80)
      v >>= 7
    }
    byte(UInt8(truncatingIfNeeded: v))
  }

  mutating func word(_ value: UInt64) {
    for i in 0..<8 { byte(UInt8(truncatingIfNeeded: value >> UInt64(8 * i))) }
  }

  mutating func flush() {
    var done = 0
    while done < count {
      let r = Kernel.raw(
        DiffCall.write.rawValue, DiffProtocol.bufferBase + 4096 + UInt64(done),
        UInt64(count - done))
      guard r.status == 0 else { Kernel.exit(90) }
      done += Int(r.value)
    }
    count = 0
  }
}

/// This copy's pending output.
nonisolated(unsafe) var out = Output()

/// Reads exactly `count` bytes (at most a page) into the input page,
/// flushing the pending output first when no input is waiting (the host is
/// waiting for it).
func readExactly(_ count: Int) {
  var done = 0
  while done < count {
    let address = VirtualAddress(rawValue: DiffProtocol.bufferBase + UInt64(done))
    let r = Kernel.consoleRead(address, length: UInt64(count - done))
    guard r.status == 0 else { Kernel.exit(91) }
    if r.value == 0 && out.count > 0 { out.flush() }
    done += Int(r.value)
  }
}

@_cdecl("agent_resume")
func agentResume(_ how: UInt64, _ status: UInt64, _ value: UInt64) -> Never {
  out.count = 0
  if how == Resumption.booted.rawValue {
    DiffProtocol.readyMarker.withUTF8Buffer { for b in $0 { out.byte(b) } }
    out.word(agent_call_address())
    out.word(KernelInfo.firstPage)
  } else {
    var last = (UInt64(0), UInt64(0), UInt64(0))
    withUnsafeMutablePointer(to: &last) { p in
      p.withMemoryRebound(to: UInt64.self, capacity: 3) { agent_last_result($0) }
    }
    let me = KernelInfo[header: .current]
    out.byte(DiffProtocol.result)
    if how == Resumption.returned.rawValue && last.2 == me {
      // Ring 3's own view of its call.
      out.number(status)
      out.number(value)
    } else {
      out.number(last.0)
      out.number(last.1)
    }
  }
  while true {
    readExactly(1)
    switch Buffer.input[0] {
    case DiffProtocol.step:
      readExactly(3)
      let number = UInt64(Buffer.input[0])
      let argc = Int(Buffer.input[1])
      let length = Int(Buffer.input[2])
      readExactly(length)
      var words = ArgumentWords<UInt64>(filling: 0)
      var cursor = 0
      for i in 0..<min(argc, ArgumentWords<UInt64>.count) {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while cursor < length {
          let b = Buffer.input[cursor]
          cursor += 1
          if shift < 64 { v |= UInt64(b & 0x7F) << shift }
          shift += 7
          if b & 0x80 == 0 { break }
        }
        words[i] = v
      }
      // environmentStart: a valid start goes to the agent's own entry and
      // stack (registers are not abstract state; the checks see the same
      // validity).
      if number == Syscall.environmentStart.rawValue {
        var start = EnvironmentStartArguments(words: words)
        if VirtualAddress(rawValue: start.rip).isUser, start.rsp >= UserLayout.start,
          start.rsp <= UserLayout.end
        {
          start.rip = agent_start_address()
          start.rsp = DiffProtocol.bufferBase
          words = start.words
        }
      }
      out.flush()
      var registers = (words.rdi, words.rsi, words.rdx, words.r10, words.r8, words.r9)
      withUnsafePointer(to: &registers) { tuple in
        tuple.withMemoryRebound(to: UInt64.self, capacity: 6) { agent_command(number, $0) }
      }
    case DiffProtocol.digest:
      out.byte(DiffProtocol.digestRecord)
      out.word(Kernel.raw(DiffCall.digest.rawValue).value)
    case DiffProtocol.dump:
      out.byte(DiffProtocol.dumpRecord)
      let words = InfoLayout(bounds: .kernel).size / 8
      let info = UserMemory.pointer(UserLayout.infoBase, to: UInt64.self)
      for i in 0..<words { out.word(info[i]) }
    case DiffProtocol.reset:
      out.flush()
      _ = Kernel.raw(DiffCall.reset.rawValue)
      Kernel.exit(92)
    default:
      out.flush()
      Kernel.exit(93)  // an unknown command: the host sees the protocol end
    }
  }
}
