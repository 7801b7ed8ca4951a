import CSharedMemory
import ExoABI
import ExoHarness
import ExoSpec
import Foundation

/// The real kernel in QEMU, driven through its in-guest agent
/// (`kernel/user/programs/agent`, `DiffProtocol` in ExoABI): the kernel
/// boots in difftest mode (`difftest=1`), so it never preempts and a slice
/// ends only when a `tick` step asks for it (`diffTick`). QEMU's RAM is a
/// file the host maps too, and the agent's console is a pair of byte rings
/// in it (`DiffProtocol.ringBase`): a whole sequence goes in at once (reset,
/// every call, a digest request at each checkpoint) and the records come
/// back as the agents run it. The UART carries only the kernel's log, kept
/// for failure reports.
///
/// When the guest dies, panics or breaks the protocol the run reports a
/// failure with the kernel's last log lines; the next run boots a fresh QEMU.
public final class KernelTarget: DiffTarget {
  public let name: String
  public private(set) var options: BootOptions
  /// Seconds to wait for the guest's next byte.
  public var timeout: Double = 30
  /// The physical page number of the kernel's page index 0 (from the agent).
  public private(set) var firstPage: UInt64 = 0

  var process: Process?
  var logPipe: Pipe?
  let log = ConsoleLog()
  /// The rings: `DiffProtocol.ringPages` pages of guest memory.
  var rings: UnsafeMutableRawPointer?
  var inHead: UInt64 = 0
  var buffer = [UInt8](repeating: 0, count: Int(DiffProtocol.ringSize))
  var start = 0
  var end = 0
  /// Why the guest is unusable; the next run restarts it.
  var broken: String?
  /// QEMU boots and sequence resets so far.
  public private(set) var boots = 0
  public private(set) var resets = 0
  nonisolated(unsafe) static var instances = 0

  /// Boots `kernel` (with the agent linked in) and waits for the agent.
  public init(kernel: URL, name: String = "kernel", qemu: String? = nil) throws {
    self.name = name
    var options = BootOptions(kernel: kernel)
    options.program = "agent"
    options.kernelArguments = ["difftest=1"]
    if let qemu { options.qemu = qemu }
    self.options = options
    try boot()
  }

  deinit { stop() }

  /// Ends QEMU and unmaps its memory.
  public func stop() {
    if let process, process.isRunning {
      // SIGKILL: a QEMU started from a thread that blocks SIGTERM (test
      // runners do) inherits the mask and would never see a SIGTERM.
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
    }
    process = nil
    logPipe?.fileHandleForReading.readabilityHandler = nil
    logPipe = nil
    if let rings { munmap(rings, Int(DiffProtocol.ringPages * 4096)) }
    rings = nil
  }

  func boot() throws {
    stop()
    guard let qemu = QEMU.locate(options.qemu) else {
      throw DiffError.targetFailed("QEMU (\(options.qemu)) is not installed")
    }
    guard FileManager.default.fileExists(atPath: options.kernel.path) else {
      throw DiffError.targetFailed("no kernel image at \(options.kernel.path) (run exo build)")
    }
    // Guest RAM in a file both sides map; unlinked once QEMU has it open.
    Self.instances += 1
    let folder =
      FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let path = "\(folder)/exo-difftest-\(getpid())-\(Self.instances)"
    let fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0o600)
    guard fd >= 0 else { throw DiffError.targetFailed("cannot create \(path): errno \(errno)") }
    defer { close(fd) }
    let megabytes = 128
    guard ftruncate(fd, off_t(megabytes << 20)) == 0 else {
      unlink(path)
      throw DiffError.targetFailed("cannot size \(path): errno \(errno)")
    }
    let mapped = mmap(
      nil, Int(DiffProtocol.ringPages * 4096), PROT_READ | PROT_WRITE, MAP_SHARED, fd,
      off_t(DiffProtocol.ringBase))
    guard let mapped, mapped != MAP_FAILED else {
      unlink(path)
      throw DiffError.targetFailed("cannot map \(path): errno \(errno)")
    }
    rings = mapped
    options.memory = "\(megabytes)M"
    options.sharedMemoryFile = path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: qemu)
    process.arguments = options.arguments()
    let output = Pipe()
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = output
    process.standardError = output
    let log = self.log
    log.clear()
    output.fileHandleForReading.readabilityHandler = { handle in
      log.append(handle.availableData)
    }
    do {
      try process.run()
    } catch {
      unlink(path)
      throw DiffError.targetFailed("cannot start \(qemu): \(error)")
    }
    self.process = process
    logPipe = output
    inHead = 0
    start = 0
    end = 0
    broken = nil
    boots += 1
    defer { unlink(path) }
    try readReady()
  }

  // MARK: The rings

  struct ProtocolFailure: Error { var reason: String }

  func counter(_ word: DiffProtocol.RingWord) -> UnsafeMutableRawPointer {
    rings! + Int(word.rawValue * 8)
  }

  /// Waits for `ready` to hold, checking that QEMU lives and the timeout.
  func wait(_ ready: () -> Bool) throws(ProtocolFailure) {
    var spins = 0
    var began: ContinuousClock.Instant?
    while !ready() {
      spins += 1
      if spins < 200 { continue }
      usleep(spins < 2000 ? 10 : 200)
      if spins % 64 == 0 {
        if let process, !process.isRunning {
          if ready() { return }
          process.waitUntilExit()
          if let ending = DebugExit(qemuStatus: process.terminationStatus) {
            throw ProtocolFailure(reason: "QEMU exited: \(ending)")
          }
          throw ProtocolFailure(reason: "QEMU exited with status \(process.terminationStatus)")
        }
        let now = ContinuousClock.now
        if let began, now - began > .milliseconds(Int64(timeout * 1000)) {
          throw ProtocolFailure(reason: "the guest sent nothing for \(Int(timeout)) s")
        }
        if began == nil { began = now }
      }
    }
  }

  func fill() throws(ProtocolFailure) {
    let tail = exo_load_acquire(counter(.outTail))
    var head = tail
    try wait {
      head = exo_load_acquire(counter(.outHead))
      return head != tail
    }
    let size = DiffProtocol.ringSize
    let ring = rings! + Int(DiffProtocol.outputRing - DiffProtocol.ringBase)
    let count = Int(head - tail)
    let offset = Int(tail % size)
    let first = min(count, Int(size) - offset)
    buffer.withUnsafeMutableBytes { b in
      b.baseAddress!.copyMemory(from: ring + offset, byteCount: first)
      if count > first {
        (b.baseAddress! + first).copyMemory(from: ring, byteCount: count - first)
      }
    }
    exo_store_release(counter(.outTail), head)
    start = 0
    end = count
  }

  /// Writes `bytes` to the input ring, waiting while it is full.
  func send(_ bytes: [UInt8]) throws(ProtocolFailure) {
    let size = DiffProtocol.ringSize
    let ring = rings! + Int(DiffProtocol.inputRing - DiffProtocol.ringBase)
    var done = 0
    while done < bytes.count {
      var free = 0
      try wait {
        free = Int(size - (inHead - exo_load_acquire(counter(.inTail))))
        return free > 0
      }
      let count = min(free, bytes.count - done)
      for i in 0..<count {
        ring.storeBytes(
          of: bytes[done + i], toByteOffset: Int((inHead + UInt64(i)) % size), as: UInt8.self)
      }
      inHead += UInt64(count)
      exo_store_release(counter(.inHead), inHead)
      done += count
    }
  }

  @inline(__always)
  func byte() throws(ProtocolFailure) -> UInt8 {
    if start == end { try fill() }
    let b = buffer[start]
    start += 1
    return b
  }

  func number() throws(ProtocolFailure) -> UInt64 {
    var value: UInt64 = 0
    var shift: UInt64 = 0
    while true {
      let b = try byte()
      if shift < 64 { value |= UInt64(b & 0x7F) << shift }
      shift += 7
      if b & 0x80 == 0 { return value }
      if shift > 70 { throw ProtocolFailure(reason: "a number longer than 10 bytes") }
    }
  }

  func word() throws(ProtocolFailure) -> UInt64 {
    var value: UInt64 = 0
    for i in 0..<8 { value |= UInt64(try byte()) << UInt64(8 * i) }
    return value
  }

  func expect(_ tag: UInt8, _ what: String) throws(ProtocolFailure) {
    let b = try byte()
    guard b == tag else {
      throw ProtocolFailure(
        reason: "expected \(what) ('\(Character(UnicodeScalar(tag)))'), got byte \(b)")
    }
  }

  /// Reads the agent's ready record (the first record after a boot or a
  /// reset).
  func readReady() throws {
    do throws(ProtocolFailure) {
      let marker = Array("\(DiffProtocol.readyMarker)".utf8)
      for expected in marker where try byte() != expected {
        throw ProtocolFailure(reason: "expected the agent's ready record")
      }
      let callEntry = try word()
      firstPage = try word()
      guard callEntry == DiffProtocol.callEntry else {
        throw ProtocolFailure(
          reason: "the agent's call entry is 0x\(String(callEntry, radix: 16)), "
            + "DiffProtocol.callEntry is 0x\(String(DiffProtocol.callEntry, radix: 16))")
      }
    } catch {
      throw DiffError.targetFailed(failureReport(error.reason))
    }
  }

  /// `reason` and the kernel's last log lines (a panic report, a fault).
  func failureReport(_ reason: String) -> String {
    // Whatever else the kernel logs within a moment.
    usleep(300_000)
    stop()
    broken = reason
    let text = log.text.split(separator: "\n", omittingEmptySubsequences: false).suffix(25)
      .joined(separator: "\n")
    return "\(reason)\n--- the kernel's log, last lines ---\n\(text)\n---"
  }

  // MARK: Encoding

  static func encode(_ step: DiffStep, into out: inout [UInt8]) throws {
    let number: UInt64
    switch step.transition {
    case .call(let call): number = call.rawValue
    case .event(.tick): number = DiffCall.tick.rawValue
    case .event(.exception):
      // The agent makes the access; the kernel takes the fault as the
      // event. Only page faults of ring-3 loads and stores can be made.
      guard step.arguments[0] == 14, step.arguments[1] & 4 != 0 else {
        throw DiffError.targetFailed(
          "the kernel target makes only page-fault exceptions of user loads and stores "
            + "(vector 14, error with the user bit 4), got vector \(step.arguments[0]) "
            + "error \(step.arguments[1])")
      }
      var address: [UInt8] = []
      leb(step.arguments[2], into: &address)
      out += [DiffProtocol.exception, UInt8(step.arguments[1] >> 1 & 1), UInt8(address.count)]
      out += address
      if !step.probes.isEmpty { try encode(step.probes, into: &out) }
      return
    case .event(.frameInjected): number = DiffCall.frame.rawValue
    case .event(.frameArrival):
      throw DiffError.targetFailed(
        "the kernel target injects frames as frameInjected (diffFrame), not by match vector")
    case .event(.revocationDeadline), .event(.revocationAbort), .event(.revocationPressure),
      .event(.allocationPressure):
      throw DiffError.targetFailed(
        "the kernel target cannot inject \(step.transition): the kernel takes revocation steps "
          + "on its own, in the tick path and after a failed pageAllocate")
    }
    var payload: [UInt8] = []
    for var v in step.arguments {
      while v >= 0x80 {
        payload.append(UInt8(truncatingIfNeeded: v) | 0x80)
        v >>= 7
      }
      payload.append(UInt8(v))
    }
    out += [DiffProtocol.step, UInt8(number), UInt8(step.arguments.count), UInt8(payload.count)]
    out += payload
    if !step.probes.isEmpty { try encode(step.probes, into: &out) }
  }

  static func leb(_ value: UInt64, into out: inout [UInt8]) {
    var v = value
    while v >= 0x80 {
      out.append(UInt8(truncatingIfNeeded: v) | 0x80)
      v >>= 7
    }
    out.append(UInt8(v))
  }

  /// A 'P' command: at most 8 probes.
  static func encode(_ probes: [DiffProbe], into out: inout [UInt8]) throws {
    guard probes.count <= 8 else {
      throw DiffError.targetFailed("at most 8 probes follow a step, got \(probes.count)")
    }
    var payload: [UInt8] = []
    for p in probes {
      leb(p.kind.rawValue, into: &payload)
      leb(p.address, into: &payload)
      if p.kind == .write { leb(p.value, into: &payload) }
    }
    out += [DiffProtocol.probes, UInt8(probes.count), UInt8(payload.count)]
    out += payload
  }

  /// Reads a 'p' record of `count` probes.
  func probeRecord(_ probes: [DiffProbe]) throws(ProtocolFailure) -> [DiffProbeOutcome] {
    try expect(DiffProtocol.probeRecord, "probe results")
    var outcomes: [DiffProbeOutcome] = []
    for p in probes {
      switch (try byte(), p.kind) {
      case (1, _): outcomes.append(.faulted)
      case (0, .read): outcomes.append(.read(try number()))
      case (0, .write): outcomes.append(.wrote)
      case (0, .execute): outcomes.append(.executed)
      case (2, .execute): outcomes.append(.declined)
      case (let other, _):
        throw ProtocolFailure(reason: "a probe outcome byte \(other) for a \(p.kind) probe")
      }
    }
    return outcomes
  }

  // MARK: DiffTarget

  func checkBounds(_ bounds: Bounds, _ firstPage: UInt64) throws {
    guard bounds == .kernel else {
      throw DiffError.targetFailed("the kernel target has the kernel's bounds (--bounds kernel)")
    }
    guard firstPage == self.firstPage else {
      throw DiffError.targetFailed(
        "the kernel's first page is \(self.firstPage), the run asked for \(firstPage)")
    }
  }

  public func reset(bounds: Bounds, firstPage: UInt64) throws {
    if broken != nil { try boot() }
    try checkBounds(bounds, firstPage)
    resets += 1
    do {
      try send([DiffProtocol.reset])
    } catch {
      throw DiffError.targetFailed(failureReport(error.reason))
    }
    try readReady()
  }

  public func run(_ step: Transition, _ arguments: [UInt64]) throws -> SyscallResult {
    var bytes: [UInt8] = []
    try Self.encode(DiffStep(step, arguments), into: &bytes)
    do {
      try send(bytes)
      try expect(DiffProtocol.result, "a result")
      let status = try number()
      let result = SyscallResult(status: status, value: try number())
      _ = try number()  // the agent's register checks (compared by observe)
      return result
    } catch {
      throw DiffError.targetFailed(failureReport(error.reason))
    }
  }

  public func probe(_ probes: [DiffProbe]) throws -> [DiffProbeOutcome] {
    guard !probes.isEmpty else { return [] }
    var bytes: [UInt8] = []
    try Self.encode(probes, into: &bytes)
    do {
      try send(bytes)
      return try probeRecord(probes)
    } catch {
      throw DiffError.targetFailed(failureReport(error.reason))
    }
  }

  public func digest() throws -> UInt64 {
    do {
      try send([DiffProtocol.digest])
      try expect(DiffProtocol.digestRecord, "a digest")
      return try word()
    } catch {
      throw DiffError.targetFailed(failureReport(error.reason))
    }
  }

  public func state() throws -> ConcreteState {
    do {
      try send([DiffProtocol.dump])
      try expect(DiffProtocol.dumpRecord, "a dump")
      let count = InfoLayout(bounds: .kernel).size / 8
      var words = [UInt64](repeating: 0, count: count)
      for i in 0..<count { words[i] = try word() }
      return try ConcreteState(infoWords: words, bounds: .kernel)
    } catch let failure as ProtocolFailure {
      throw DiffError.targetFailed(failureReport(failure.reason))
    }
  }

  /// The longest sequence one `observe` runs: its commands fit in the input
  /// ring, so the host never waits to write while the guest waits to be read.
  public static let maximumSteps = 2000

  public func observe(
    _ steps: [DiffStep], checkpointEvery k: Int, bounds: Bounds, firstPage: UInt64
  ) throws -> ObservedRun {
    guard steps.count <= Self.maximumSteps else {
      throw DiffError.targetFailed(
        "the kernel target runs at most \(Self.maximumSteps) steps per sequence, "
          + "got \(steps.count)")
    }
    if broken != nil { try boot() }
    try checkBounds(bounds, firstPage)
    var bytes: [UInt8] = [DiffProtocol.reset, DiffProtocol.digest]
    bytes.reserveCapacity(steps.count * 24 + 2)
    for (i, step) in steps.enumerated() {
      try Self.encode(step, into: &bytes)
      if ObservedRun.isCheckpoint(i, count: steps.count, every: k) {
        bytes.append(DiffProtocol.digest)
      }
    }
    resets += 1
    var run = ObservedRun(initialDigest: nil, observations: [])
    run.observations.reserveCapacity(steps.count)
    do {
      // A batch longer than the input ring goes in as the guest consumes
      // it; the agent's answers are small and its ring holds many.
      try send(bytes)
      try readReady()
      try expect(DiffProtocol.digestRecord, "a digest")
      run.initialDigest = try word()
      for i in steps.indices {
        try expect(DiffProtocol.result, "a result")
        let status = try number()
        let result = SyscallResult(status: status, value: try number())
        var machine = MachineObservation(anomalies: DiffAnomaly(rawValue: try number()))
        if !steps[i].probes.isEmpty { machine.probes = try probeRecord(steps[i].probes) }
        var digest: UInt64?
        if ObservedRun.isCheckpoint(i, count: steps.count, every: k) {
          try expect(DiffProtocol.digestRecord, "a digest")
          digest = try word()
        }
        run.observations.append(Observation(result: result, digest: digest, machine: machine))
      }
    } catch let error as DiffError {
      run.failure = error.description
    } catch let failure as ProtocolFailure {
      run.failure = failureReport(failure.reason)
    }
    return run
  }
}

/// The kernel's UART log, collected from QEMU's output.
final class ConsoleLog: @unchecked Sendable {
  private let lock = NSLock()
  private var data = Data()

  func append(_ more: Data) {
    lock.lock()
    data.append(more)
    if data.count > 1 << 16 { data.removeFirst(data.count - (1 << 15)) }
    lock.unlock()
  }

  func clear() {
    lock.lock()
    data.removeAll()
    lock.unlock()
  }

  var text: String {
    lock.lock()
    defer { lock.unlock() }
    return String(decoding: data, as: UTF8.self)
  }
}
