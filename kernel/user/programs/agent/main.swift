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
    let r = Kernel.raw(
      DiffCall.read.rawValue, DiffProtocol.bufferBase + UInt64(done), UInt64(count - done))
    guard r.status == 0 else { Kernel.exit(91) }
    if r.value == 0 && out.count > 0 { out.flush() }
    done += Int(r.value)
  }
}

/// The LEB128 number at `cursor` of the input page's first `length`
/// bytes; moves `cursor` past it.
func leb128(_ cursor: inout Int, length: Int) -> UInt64 {
  var v: UInt64 = 0
  var shift: UInt64 = 0
  while cursor < length {
    let b = Buffer.input[cursor]
    cursor += 1
    if shift < 64 { v |= UInt64(b & 0x7F) << shift }
    shift += 7
    if b & 0x80 == 0 { break }
  }
  return v
}

@_cdecl("agent_resume")
func agentResume(_ how: UInt64, _ status: UInt64, _ value: UInt64) -> Never {
  out.count = 0
  if how == Resumption.booted.rawValue {
    // Page faults in the probe instructions come back as results.
    var probe = (UInt64(0), UInt64(0), UInt64(0))
    withUnsafeMutablePointer(to: &probe) { p in
      p.withMemoryRebound(to: UInt64.self, capacity: 3) { agent_probe_addresses($0) }
    }
    guard Kernel.raw(DiffCall.probe.rawValue, probe.0, probe.1, probe.2).status == 0 else {
      Kernel.exit(94)  // the host sees the protocol end
    }
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
    out.number(Registers.check(how, status: status).rawValue)
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
        words[i] = leb128(&cursor, length: length)
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
      let key = Registers.prepare(number, words)
      withUnsafePointer(to: &registers) { tuple in
        tuple.withMemoryRebound(to: UInt64.self, capacity: 6) { agent_command(number, $0, key) }
      }
    case DiffProtocol.probes:
      readExactly(2)
      let count = Int(Buffer.input[0])
      let length = Int(Buffer.input[1])
      readExactly(length)
      var cursor = 0
      func number() -> UInt64 { leb128(&cursor, length: length) }
      out.byte(DiffProtocol.probeRecord)
      for _ in 0..<count {
        let kind = number()
        let address = number()
        if kind == DiffProbeKind.write.rawValue {
          out.byte(UInt8(truncatingIfNeeded: agent_probe_write(address, number())))
        } else if kind == DiffProbeKind.execute.rawValue {
          out.byte(UInt8(truncatingIfNeeded: agent_probe_execute(address)))
        } else {
          var value: UInt64 = 0
          let faulted = agent_probe_read(address, &value)
          out.byte(UInt8(truncatingIfNeeded: faulted))
          if faulted == 0 { out.number(value) }
        }
      }
    case DiffProtocol.exception:
      readExactly(2)
      let kind = UInt64(Buffer.input[0])
      let length = Int(Buffer.input[1])
      readExactly(length)
      var cursor = 0
      let address = leb128(&cursor, length: length)
      out.flush()
      agent_fault(address, kind)
      // It did not fault: the record now, with the anomaly.
      var last = (UInt64(0), UInt64(0), UInt64(0))
      withUnsafeMutablePointer(to: &last) { p in
        p.withMemoryRebound(to: UInt64.self, capacity: 3) { agent_last_result($0) }
      }
      out.byte(DiffProtocol.result)
      out.number(last.0)
      out.number(last.1)
      out.number(DiffAnomaly.exceptionMissing.rawValue)
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

/// The agent's checks of the registers and x87/SSE state the kernel leaves
/// it (docs/ABI.md "Registers"): before each call every register the call
/// does not take, rflags and the x87/SSE state hold patterns derived from a
/// key distinct per call and environment (`agent_command` in entries.S);
/// after it returns, whenever that is, they must hold them still, so a
/// value left by the kernel or by another environment shows. The entry
/// paths check what a transfer or a start leaves. Nothing here allocates
/// (the user heap is a bump arena): the storage is in entries.S.
enum Registers {
  /// Calls made by this copy so far.
  nonisolated(unsafe) static var made: UInt64 = 0
  static let flags: UInt64 = 0x2C7
  static let entryFlags: UInt64 = 0x202
  /// The constants entries.S XORs into the key for rbp, r12–r15.
  static let patterns: (UInt64, UInt64, UInt64, UInt64, UInt64) = (
    0x5851_F42D_4C95_7F2D, 0x1405_7B7E_F767_814F, 0x9E37_79B9_7F4A_7C15,
    0xBF58_476D_1CE4_E5B9, 0x94D0_49BB_1331_11EB
  )

  /// Per call, by `made` modulo 64, eight words: its key, number and
  /// argument words, for the check when it returns (a newer call may have
  /// taken the entry).
  static var sent: UnsafeMutablePointer<UInt64> {
    withUnsafeMutableBytes(of: &agent_sent) { $0.baseAddress!.assumingMemoryBound(to: UInt64.self) }
  }

  /// Word `i` of what `agent_command` saved after its call (agent.h).
  static func after(_ i: Int) -> UInt64 {
    withUnsafeBytes(of: &agent_after) { $0.load(fromByteOffset: 8 * i, as: UInt64.self) }
  }

  /// Records the call about to be made and writes the x87/SSE image for
  /// its key to `agent_fx_seed`; returns the key.
  static func prepare(_ number: UInt64, _ words: ArgumentWords<UInt64>) -> UInt64 {
    made += 1
    let key = (KernelInfo[header: .current] << 48) | (made & 0xFFFF_FFFF_FFFF)
    let entry = sent + Int(made & 63) * 8
    entry[0] = key
    entry[1] = number
    for i in 0..<6 { entry[2 + i] = words[i] }
    withUnsafeMutableBytes(of: &agent_fx_seed) { image(for: key, into: $0) }
    return key
  }

  /// The fxsave64 image of `key`: control words at their initial values,
  /// every x87 register valid and every x87 and SSE register a pattern.
  /// Key 0 is the initial state: every register empty and zero.
  static func image(for key: UInt64, into bytes: UnsafeMutableRawBufferPointer) {
    for i in 0..<512 { bytes[i] = 0 }
    bytes.storeBytes(of: UInt16(0x037F), toByteOffset: 0, as: UInt16.self)
    bytes.storeBytes(of: UInt32(0x1F80), toByteOffset: 24, as: UInt32.self)
    guard key != 0 else { return }
    bytes[4] = 0xFF
    for r in 0..<8 {
      bytes.storeBytes(of: SplitMix64.derive(key, r), toByteOffset: 32 + 16 * r, as: UInt64.self)
      let exponent = UInt16(truncatingIfNeeded: SplitMix64.derive(key, 100 + r)) & 0x7FFE | 1
      bytes.storeBytes(of: exponent, toByteOffset: 40 + 16 * r, as: UInt16.self)
    }
    for r in 0..<32 {
      bytes.storeBytes(
        of: SplitMix64.derive(key, 8 + r), toByteOffset: 160 + 8 * r, as: UInt64.self)
    }
  }

  /// Whether `agent_fx_after` holds the registers of `key`'s image: the
  /// control and status words, the tags, MXCSR, the eight x87 registers
  /// (80 bits each) and the sixteen SSE registers.
  static func fpuMatches(_ key: UInt64) -> Bool {
    withUnsafeMutableBytes(of: &agent_fx_expected) { e in
      image(for: key, into: e)
      return withUnsafeBytes(of: &agent_fx_after) { a in
        var same = true
        for i in 0..<5 where a[i] != e[i] { same = false }
        for i in 24..<28 where a[i] != e[i] { same = false }
        for r in 0..<8 {
          for i in 0..<10 where a[32 + 16 * r + i] != e[32 + 16 * r + i] { same = false }
        }
        for i in 160..<416 where a[i] != e[i] { same = false }
        return same
      }
    }
  }

  /// Whether a transfer (`rdi` = the caller) entered this context on its
  /// handler stack, by the exported state (the callee runs at once, so the
  /// state is the one the transfer saw). An exception or upcall frame
  /// (`rdi` = the frame) is not checked here: an upcall may wait while its
  /// environment's entries and window change; the memory probes see where
  /// frames went.
  static func entryPlaced(_ me: UInt64) -> Bool {
    guard agent_entry_rdi < UserLayout.start else { return true }
    // Below the top, or below an interrupted rsp already on the handler
    // stack (within 64 KiB), 16-byte aligned.
    let top = KernelInfo[environment: me, .handlerStack]
    let rsp = agent_entry_rsp
    return rsp & 15 == 0 && rsp <= top && rsp > top &- ExceptionFrame.handlerStackSpan
  }

  /// Whether an upcall frame (`rdi` = the frame, vector 256 and up) that
  /// interrupted this copy in one of its calls holds that call's patterns
  /// in rbx, rbp and r12–r15, as the kernel saved them. Read with the
  /// probes: the frame's slot may have been unbound since.
  static func upcallFrameMine(_ me: UInt64) -> Bool {
    let frame = agent_entry_rdi
    guard frame >= UserLayout.start else { return true }
    func word(_ field: ExceptionFrame) -> UInt64? {
      var value: UInt64 = 0
      return agent_probe_read(frame + ExceptionFrame.offset(field), &value) == 0 ? value : nil
    }
    guard let vector = word(.vector), vector >= 256, word(.rip) == agent_after_address(),
      let key = word(.rbx)
    else { return true }
    let count = key & 0xFFFF_FFFF_FFFF
    guard key >> 48 == me, count != 0, count <= made else { return false }
    let (p0, p1, p2, p3, p4) = patterns
    func holds(_ field: ExceptionFrame, _ value: UInt64) -> Bool {
      word(field).map { $0 == value } ?? true
    }
    return holds(.rbp, key ^ p0) && holds(.r12, key ^ p1) && holds(.r13, key ^ p2)
      && holds(.r14, key ^ p3) && holds(.r15, key ^ p4)
  }

  /// What is wrong in what the kernel left this context, which resumed
  /// `how` (with `status`, the call's own `rax`, when it returned).
  static func check(_ how: UInt64, status: UInt64) -> DiffAnomaly {
    var found: DiffAnomaly = []
    let me = KernelInfo[header: .current]
    switch how {
    case Resumption.returned.rawValue:
      let key = after(0)
      let (p0, p1, p2, p3, p4) = patterns
      if after(1) != key ^ p0 || after(2) != key ^ p1 || after(3) != key ^ p2
        || after(4) != key ^ p3 || after(5) != key ^ p4
      {
        found.insert(.preservedRegister)
      }
      if after(11) != agent_after_address() || after(12) != flags || after(14) != flags
        || after(13) != agent_command_rsp
      {
        found.insert(.returnRegisters)
      }
      let count = key & 0xFFFF_FFFF_FFFF
      if key >> 48 != me || count == 0 || count > made {
        found.insert(.preservedRegister)  // rbx, the key, was not kept
      } else {
        // The argument registers, if this call's entry is still its own.
        let entry = sent + Int(key & 63) * 8
        if entry[0] == key {
          let replied = entry[1] == Syscall.call.rawValue && status == 0
          // rdi, rsi, r10, r8, r9 are argument words 0, 1, 3, 4, 5.
          if after(6) != entry[2] || after(10) != entry[7]
            || (!replied && (after(7) != entry[3] || after(8) != entry[5] || after(9) != entry[6]))
          {
            found.insert(.preservedRegister)
          }
        }
      }
      if !fpuMatches(key) { found.insert(.fpuChanged) }
    case Resumption.entered.rawValue:
      if agent_entry_registers != 0 || agent_entry_flags != entryFlags {
        found.insert(.entryRegisters)
      }
      if !entryPlaced(me) { found.insert(.frameMisplaced) }
      if !upcallFrameMine(me) { found.insert(.frameRegisters) }
    case Resumption.started.rawValue:
      if agent_entry_registers != 0 || agent_entry_flags != entryFlags {
        found.insert(.startRegisters)
      }
      if !fpuMatches(0) { found.insert(.startFPU) }
    default: break
    }
    return found
  }
}
