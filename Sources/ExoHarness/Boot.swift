import ExoABI
import Foundation

/// How a boot ended, judged from QEMU's exit status (see ExoABI's
/// `DebugExit`) or from the harness's own timeout.
public enum BootOutcome: Equatable, Sendable {
  /// The first user program exited with status 0.
  case success
  /// The user program failed, faulted, or could not be started.
  case userFailure
  /// The kernel printed a panic report.
  case kernelPanic
  /// The CPU reset (a triple fault): QEMU exits 0 under `-no-reboot`.
  case reset
  /// The guest ran past the time limit and was stopped.
  case timeout
  /// The harness ended the guest through its `BootStopper` (e.g. a
  /// server whose network peer had finished).
  case stopped
  /// QEMU itself failed (bad option, unreadable image) with this status.
  case qemuError(Int32)

  /// The exit status of `exo boot` for this outcome: each distinct.
  public var exitCode: Int32 {
    switch self {
    case .success: 0
    case .userFailure: 2
    case .kernelPanic: 3
    case .reset: 4
    case .timeout: 5
    case .stopped: 10
    case .qemuError: 8
    }
  }

  /// One line for the user.
  public var summary: String {
    switch self {
    case .success: "success: the user program exited with status 0"
    case .userFailure: "failure: the user program failed (see its output above)"
    case .kernelPanic: "kernel panic (report above)"
    case .reset:
      "triple fault: the CPU reset without a panic report (rerun with --qemu-log FILE to see why)"
    case .timeout: "timeout: the guest did not finish in time"
    case .stopped: "stopped: the harness ended the guest (its peer had finished)"
    case .qemuError(let status): "QEMU exited with status \(status) (its messages are above)"
    }
  }
}

/// Exit statuses of `exo boot` for problems before the guest runs.
public enum BootSetupExit {
  public static let qemuMissing: Int32 = 6
  public static let imageMissing: Int32 = 7
  public static let buildFailed: Int32 = 9
}

/// What to boot and how.
public struct BootOptions: Sendable {
  public var kernel: URL
  /// The user program to start (`program=NAME` on the kernel command line).
  public var program: String?
  /// The whole kernel command line, instead of `program=NAME` (for booting
  /// another kernel, such as Linux for `exo bench`).
  public var commandLine: String?
  /// An initial RAM disk (`-initrd`).
  public var initrd: URL?
  /// Start the real-time clock at this date and run it on the virtual
  /// clock (`-rtc base=DATE,clock=vm`): a guest that reads the date (Linux
  /// seeds its random pool with it) then runs the same on every boot.
  public var rtcBase: String?
  /// More `key=value` words for the kernel command line (e.g. `difftest=1`).
  public var kernelArguments: [String] = []
  /// Back the guest's RAM with this file, shared with the host (which can
  /// then map guest physical memory: offset = physical address).
  public var sharedMemoryFile: String?
  public var timeout: Double = 30
  /// Wait for gdb on tcp::1234 before the first instruction.
  public var gdb = false
  /// Count instructions: `-icount shift=0,sleep=off`.
  public var icount = false
  public var machine = "microvm"
  public var memory = "128M"
  /// Pass `-d int,cpu_reset -D FILE` to QEMU.
  public var qemuLog: String?
  /// More QEMU arguments, appended as they are (e.g. a network device).
  public var extraArguments: [String] = []
  /// Lets another thread end the guest before it ends itself.
  public var stopper: BootStopper?
  /// The QEMU binary: a name looked up on PATH, or a path.
  public var qemu = ProcessInfo.processInfo.environment["EXO_QEMU"] ?? "qemu-system-x86_64"

  public init(kernel: URL) { self.kernel = kernel }

  /// QEMU's arguments.
  public func arguments() -> [String] {
    let machine = sharedMemoryFile == nil ? self.machine : "\(self.machine),memory-backend=ram"
    var arguments = [
      "-M", machine, "-m", memory, "-display", "none", "-serial", "stdio", "-no-reboot",
      "-device", "isa-debug-exit,iobase=0x\(String(DebugExit.port, radix: 16)),iosize=0x04",
      "-kernel", kernel.path,
    ]
    if let initrd { arguments += ["-initrd", initrd.path] }
    let words = (program.map { ["program=\($0)"] } ?? []) + kernelArguments
    if let commandLine {
      arguments += ["-append", commandLine]
    } else if !words.isEmpty {
      arguments += ["-append", words.joined(separator: " ")]
    }
    if let sharedMemoryFile {
      arguments += [
        "-object",
        "memory-backend-file,id=ram,size=\(memory),mem-path=\(sharedMemoryFile),share=on",
      ]
    }
    if icount { arguments += ["-icount", "shift=0,sleep=off"] }
    if let rtcBase { arguments += ["-rtc", "base=\(rtcBase),clock=vm"] }
    if gdb { arguments += ["-s", "-S"] }
    if let qemuLog { arguments += ["-d", "int,cpu_reset", "-D", qemuLog] }
    return arguments + extraArguments
  }
}

/// The result of a boot.
public struct BootResult: Sendable {
  public var outcome: BootOutcome
  /// Everything the guest wrote to the serial console.
  public var console: String
  /// QEMU's own messages (stderr).
  public var qemuMessages: String
  /// Wall time from starting QEMU to its exit.
  public var seconds: Double
}

/// Runs the kernel under QEMU (TCG) and judges the outcome.
public enum QEMU {
  /// The path of the QEMU binary `name` (a name on PATH or a path), or nil.
  public static func locate(_ name: String) -> String? { ProcessRunner.which(name) }

  /// Boots, streaming the console to `echo` as it arrives.
  public static func boot(
    _ options: BootOptions, echo: @escaping @Sendable (String) -> Void = { _ in }
  )
    throws(HarnessError) -> BootResult
  {
    guard let qemu = ProcessRunner.which(options.qemu) else { throw .qemuMissing(options.qemu) }
    guard FileManager.default.fileExists(atPath: options.kernel.path) else {
      throw .imageMissing(options.kernel.path)
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: qemu)
    process.arguments = options.arguments()
    let stdout = Pipe()
    let stderr = Pipe()
    process.standardOutput = stdout
    process.standardError = stderr
    process.standardInput = FileHandle.nullDevice
    let console = Collected()
    let messages = Collected()
    stdout.fileHandleForReading.readabilityHandler = { handle in
      let data = handle.availableData
      guard !data.isEmpty else { return }
      let text = String(decoding: data, as: UTF8.self)
      console.append(text)
      echo(text)
    }
    stderr.fileHandleForReading.readabilityHandler = { handle in
      let data = handle.availableData
      if !data.isEmpty { messages.append(String(decoding: data, as: UTF8.self)) }
    }
    let finished = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in finished.signal() }
    let start = DispatchTime.now()
    do {
      try process.run()
    } catch {
      throw .qemuFailed("cannot start \(qemu): \(error)")
    }
    options.stopper?.attach(process)
    var timedOut = false
    let limit = options.gdb ? DispatchTime.distantFuture : start + options.timeout
    if finished.wait(timeout: limit) == .timedOut {
      timedOut = true
      process.terminate()
      if finished.wait(timeout: .now() + 2) == .timedOut {
        kill(process.processIdentifier, SIGKILL)
        finished.wait()
      }
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    // Drain what is left in the pipes.
    stdout.fileHandleForReading.readabilityHandler = nil
    stderr.fileHandleForReading.readabilityHandler = nil
    let rest = stdout.fileHandleForReading.readDataToEndOfFile()
    if !rest.isEmpty {
      let text = String(decoding: rest, as: UTF8.self)
      console.append(text)
      echo(text)
    }
    messages.append(
      String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))

    let outcome: BootOutcome
    if timedOut {
      outcome = .timeout
    } else if options.stopper?.wasStopped ?? false {
      outcome = .stopped
    } else {
      let status = process.terminationStatus
      switch (status, DebugExit(qemuStatus: status)) {
      case (0, _): outcome = .reset
      case (_, .success): outcome = .success
      case (_, .userFailure): outcome = .userFailure
      case (_, .kernelPanic): outcome = .kernelPanic
      default: outcome = .qemuError(status)
      }
    }
    return BootResult(
      outcome: outcome, console: console.text, qemuMessages: messages.text, seconds: seconds)
  }
}

/// Ends a running guest from another thread (QEMU gets SIGKILL); a stop
/// asked before the guest starts ends it as soon as it does.
public final class BootStopper: @unchecked Sendable {
  private let lock = NSLock()
  private var process: Process?
  private var stopped = false

  public init() {}

  func attach(_ process: Process) {
    lock.lock()
    self.process = process
    let stopNow = stopped
    lock.unlock()
    if stopNow { kill(process.processIdentifier, SIGKILL) }
  }

  /// Ends the guest.
  public func stop() {
    lock.lock()
    stopped = true
    let process = self.process
    lock.unlock()
    // SIGKILL: QEMU started through Foundation's Process did not end on
    // SIGTERM (`Process.terminate`), and the guest owes nothing more.
    if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
  }

  /// Whether `stop` was called.
  public var wasStopped: Bool {
    lock.lock()
    defer { lock.unlock() }
    return stopped
  }
}

/// Text appended from pipe handlers on other threads.
private final class Collected: @unchecked Sendable {
  private let lock = NSLock()
  private var storage = ""
  func append(_ text: String) {
    lock.lock()
    storage += text
    lock.unlock()
  }
  var text: String {
    lock.lock()
    defer { lock.unlock() }
    return storage
  }
}
