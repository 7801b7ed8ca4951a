import ExoABI
import ExoHarness
import ExoSpec
import Foundation

/// The real kernel in QEMU, driven through its in-guest agent
/// (`kernel/user/programs/agent`, `DiffProtocol` in ExoABI) over the serial
/// console: the kernel boots in difftest mode (`difftest=1`), so it never
/// preempts and a slice ends only when a `tick` step asks for it
/// (`diffTick`). A whole sequence goes out in one write (reset, every call,
/// a digest request at each checkpoint) and the records come back as the
/// agents run it.
///
/// When the guest dies, panics or breaks the protocol the run reports a
/// failure with the console's last output; the next run boots a fresh QEMU.
public final class KernelTarget: DiffTarget {
  public let name: String
  public let options: BootOptions
  /// Seconds to wait for the guest's next byte.
  public var timeout: Double = 30
  /// The physical page number of the kernel's page index 0 (from the agent).
  public private(set) var firstPage: UInt64 = 0

  var process: Process?
  var pipes: (Pipe, Pipe)?
  var toGuest: Int32 = -1
  var fromGuest: Int32 = -1
  var buffer = [UInt8](repeating: 0, count: 1 << 16)
  var start = 0
  var end = 0
  /// The latest bytes read, for failure reports.
  var recent: [UInt8] = []
  /// Why the guest is unusable; the next run restarts it.
  var broken: String?
  /// QEMU boots and resets so far.
  public private(set) var boots = 0
  public private(set) var resets = 0

  /// Boots `kernel` (with the agent linked in) and waits for the agent.
  public init(kernel: URL, name: String = "kernel", qemu: String? = nil) throws {
    self.name = name
    var options = BootOptions(kernel: kernel)
    options.program = "agent"
    options.kernelArguments = ["difftest=1"]
    if let qemu { options.qemu = qemu }
    self.options = options
    signal(SIGPIPE, SIG_IGN)
    try boot()
  }

  deinit { stop() }

  /// Ends QEMU.
  public func stop() {
    if let process, process.isRunning {
      process.terminate()
      process.waitUntilExit()
    }
    process = nil
    pipes = nil
  }

  func boot() throws {
    stop()
    guard let qemu = QEMU.locate(options.qemu) else {
      throw DiffError.targetFailed("QEMU (\(options.qemu)) is not installed")
    }
    guard FileManager.default.fileExists(atPath: options.kernel.path) else {
      throw DiffError.targetFailed("no kernel image at \(options.kernel.path) (run exo build)")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: qemu)
    process.arguments = options.arguments()
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = output
    try process.run()
    self.process = process
    pipes = (input, output)
    toGuest = input.fileHandleForWriting.fileDescriptor
    fromGuest = output.fileHandleForReading.fileDescriptor
    start = 0
    end = 0
    recent = []
    broken = nil
    boots += 1
    try readReady(skipping: true)
  }

  // MARK: Reading

  struct ProtocolFailure: Error { var reason: String }

  func fill() throws(ProtocolFailure) {
    var descriptor = pollfd(fd: fromGuest, events: Int16(POLLIN), revents: 0)
    let ready = poll(&descriptor, 1, Int32(timeout * 1000))
    if ready == 0 {
      throw ProtocolFailure(reason: "the guest sent nothing for \(Int(timeout)) s")
    }
    let n = buffer.withUnsafeMutableBytes { read(fromGuest, $0.baseAddress, $0.count) }
    if n <= 0 {
      let status = process.map { p -> String in
        p.waitUntilExit()
        if let ending = DebugExit(qemuStatus: p.terminationStatus) {
          return "QEMU exited: \(ending)"
        }
        return "QEMU exited with status \(p.terminationStatus)"
      }
      throw ProtocolFailure(reason: status ?? "the guest's output ended")
    }
    start = 0
    end = n
  }

  @inline(__always)
  func byte() throws(ProtocolFailure) -> UInt8 {
    if start == end { try fill() }
    let b = buffer[start]
    start += 1
    if recent.count >= 4096 { recent.removeFirst(2048) }
    recent.append(b)
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

  /// Reads up to the agent's ready record: at boot after the kernel's log,
  /// after a reset at once.
  func readReady(skipping: Bool) throws {
    do throws(ProtocolFailure) {
      let marker = Array("\(DiffProtocol.readyMarker)".utf8)
      var matched = 0
      var skipped = 0
      while matched < marker.count {
        let b = try byte()
        if b == marker[matched] {
          matched += 1
        } else {
          if !skipping { throw ProtocolFailure(reason: "expected the agent's ready record") }
          skipped += 1
          matched = b == marker[0] ? 1 : 0
        }
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

  /// `reason`, the console's last output, and QEMU's fate.
  func failureReport(_ reason: String) -> String {
    // Whatever else the guest says within a moment (a panic report).
    timeout = min(timeout, 1)
    defer { timeout = 30 }
    while (try? byte()) != nil {}
    let text = String(decoding: recent.suffix(1500), as: UTF8.self)
      .unicodeScalars.map { $0.value >= 0x20 || $0 == "\n" ? String($0) : "." }.joined()
    stop()
    broken = reason
    return "\(reason)\n--- last console output ---\n\(text)\n---"
  }

  // MARK: Writing

  func send(_ bytes: [UInt8]) { Self.send(bytes, to: toGuest) }

  static func send(_ bytes: [UInt8], to toGuest: Int32) {
    bytes.withUnsafeBytes { raw in
      var offset = 0
      while offset < raw.count {
        let n = write(toGuest, raw.baseAddress! + offset, raw.count - offset)
        if n <= 0 {
          if n < 0 && errno == EINTR { continue }
          return  // the guest is gone; the reader reports it
        }
        offset += n
      }
    }
  }

  static func encode(_ step: DiffStep, into out: inout [UInt8]) throws {
    let number: UInt64
    switch step.transition {
    case .call(let call): number = call.rawValue
    case .event(.tick): number = DiffCall.tick.rawValue
    case .event(.exception):
      throw DiffError.targetFailed(
        "the kernel target cannot inject an exception event (the agent has no way to fault "
          + "at a chosen address)")
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
    send([DiffProtocol.reset])
    resets += 1
    try readReady(skipping: false)
  }

  public func run(_ step: Transition, _ arguments: [UInt64]) throws -> SyscallResult {
    var bytes: [UInt8] = []
    try Self.encode(DiffStep(step, arguments), into: &bytes)
    send(bytes)
    do {
      try expect(DiffProtocol.result, "a result")
      let status = try number()
      return SyscallResult(status: status, value: try number())
    } catch {
      throw DiffError.targetFailed(failureReport(error.reason))
    }
  }

  public func digest() throws -> UInt64 {
    send([DiffProtocol.digest])
    do {
      try expect(DiffProtocol.digestRecord, "a digest")
      return try word()
    } catch {
      throw DiffError.targetFailed(failureReport(error.reason))
    }
  }

  public func state() throws -> ConcreteState {
    send([DiffProtocol.dump])
    do {
      try expect(DiffProtocol.dumpRecord, "a dump")
      let count = InfoLayout(bounds: .kernel).size / 8
      var words = [UInt64](repeating: 0, count: count)
      for i in 0..<count { words[i] = try word() }
      return try ConcreteState(infoWords: words, bounds: .kernel)
    } catch let failure as ProtocolFailure {
      throw DiffError.targetFailed(failureReport(failure.reason))
    }
  }

  public func observe(
    _ steps: [DiffStep], checkpointEvery k: Int, bounds: Bounds, firstPage: UInt64
  ) throws -> ObservedRun {
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
    // Written from another thread: the guest's answers must be read while
    // a long batch is still going in.
    let written = DispatchSemaphore(value: 0)
    let batch = bytes
    let descriptor = toGuest
    DispatchQueue.global().async {
      Self.send(batch, to: descriptor)
      written.signal()
    }
    defer { written.wait() }
    var run = ObservedRun(initialDigest: nil, observations: [])
    run.observations.reserveCapacity(steps.count)
    do {
      try readReady(skipping: false)
      try expect(DiffProtocol.digestRecord, "a digest")
      run.initialDigest = try word()
      for i in steps.indices {
        try expect(DiffProtocol.result, "a result")
        let status = try number()
        let result = SyscallResult(status: status, value: try number())
        var digest: UInt64?
        if ObservedRun.isCheckpoint(i, count: steps.count, every: k) {
          try expect(DiffProtocol.digestRecord, "a digest")
          digest = try word()
        }
        run.observations.append(Observation(result: result, digest: digest))
      }
    } catch let error as DiffError {
      run.failure = error.description
    } catch let failure as ProtocolFailure {
      run.failure = failureReport(failure.reason)
    }
    return run
  }
}
