import ArgumentParser
import ExoHarness
import Foundation

@main
struct Exo: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "exo",
    abstract: "Build, boot and test the Swift exokernel.",
    subcommands: [
      Build.self, Boot.self, SpecRun.self, Replay.self, SpecBench.self, DiffTest.self, Bench.self,
      SpecChangeCommand.self,
    ])
}

/// Prints a line to standard error.
func note(_ text: String) {
  FileHandle.standardError.write(Data("exo: \(text)\n".utf8))
}

/// Builds the images, printing progress; exits with a status on failure.
func buildImages(quiet: Bool = false, mutants: [KernelMutant] = []) throws -> BuildReport {
  do {
    let project = try Project.locate()
    let build = KernelBuild(project: project, toolchain: try Toolchain.locate()) { line in
      if !quiet { note(line) }
    }
    return try build.run(mutants: mutants)
  } catch {
    note("error: \(error)")
    throw ExitCode(BootSetupExit.buildFailed)
  }
}

struct Build: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Build the kernel and user images (incrementally) into .build/exo.")

  func run() throws {
    let start = Date()
    let report = try buildImages()
    let seconds = String(format: "%.2f", Date().timeIntervalSince(start))
    if report.stepsRun == 0 {
      print("up to date (\(report.stepsTotal) steps checked in \(seconds) s)")
    } else {
      print("built \(report.stepsRun) of \(report.stepsTotal) steps in \(seconds) s")
    }
    let root = FileManager.default.currentDirectoryPath + "/"
    func relative(_ url: URL) -> String {
      url.path.hasPrefix(root) ? String(url.path.dropFirst(root.count)) : url.path
    }
    print("kernel:            \(relative(report.kernel))")
    print("fault-test kernel: \(relative(report.faultTestKernel))")
    for (name, url) in report.programs.sorted(by: { $0.key < $1.key }) {
      print("program \(name):".padding(toLength: 19, withPad: " ", startingAt: 0) + relative(url))
    }
  }
}

struct Boot: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Boot the kernel in QEMU and run a user program.",
    discussion: """
      Streams the serial console. With --peer linux, boots a Linux guest on a network \
      with the kernel's (docs/network.md) and prints its checks. Exit status: 0 success, \
      1 a --peer check failed, 2 user program failed, \
      3 kernel panic, 4 triple fault, 5 timeout, 6 QEMU missing, 7 image missing, \
      8 QEMU error, 9 build failed, 10 stopped by the harness (its network peer had \
      finished).
      """)

  @Option(help: "The user program to run first (a folder of kernel/user/programs).")
  var program: String = "hello"

  @Option(help: "Stop the guest after this many seconds.")
  var timeout: Double = 30

  @Flag(help: "Wait for gdb on localhost:1234 before the first instruction.")
  var gdb = false

  @Flag(help: "Count instructions: -icount shift=0,sleep=off (deterministic rdtsc).")
  var icount = false

  @Option(help: "Boot this kernel image instead of building one.")
  var kernel: String?

  @Option(help: "QEMU machine type.")
  var machine: String = "microvm"

  @Option(help: "Write QEMU's interrupt and CPU-reset log to this file.")
  var qemuLog: String?

  @Option(
    help: ArgumentHelp(
      "Boot a network peer beside the kernel's guest: `linux` (Debian's kernel, fetched with apt-get).",
      discussion: "The two guests share an Ethernet segment through UDP sockets on 127.0.0.1."))
  var peer: String?

  @Flag(
    help:
      "With --peer linux: run the kernel's NIC self-test (frames each way, counted by both sides) instead of a user program."
  )
  var nicSelftest = false

  func validate() throws {
    guard timeout > 0 else { throw ValidationError("--timeout must be positive, got \(timeout)") }
    if let peer, peer != "linux" {
      throw ValidationError("--peer: unknown peer '\(peer)'; the only peer is 'linux'")
    }
    if nicSelftest && peer == nil {
      throw ValidationError("--nic-selftest needs --peer linux")
    }
  }

  func run() throws {
    if peer != nil { return try runWithPeer() }
    let image: URL
    if let kernel {
      image = URL(fileURLWithPath: kernel)
    } else {
      let report = try buildImages(quiet: true)
      guard report.programs[program] != nil else {
        note(
          "error: no user program '\(program)'; have: \(report.programs.keys.sorted().joined(separator: ", "))"
        )
        throw ExitCode(BootOutcome.userFailure.exitCode)
      }
      image = report.kernel
    }
    var options = BootOptions(kernel: image)
    options.program = program
    options.timeout = timeout
    options.gdb = gdb
    options.icount = icount
    options.machine = machine
    options.qemuLog = qemuLog
    if gdb {
      note("waiting for gdb on localhost:1234; attach with:")
      note("  gdb \(image.path) -ex 'target remote localhost:1234'")
    }
    let result: BootResult
    do {
      result = try QEMU.boot(options) { text in
        FileHandle.standardOutput.write(Data(text.utf8))
      }
    } catch .qemuMissing(let name) {
      note("error: \(HarnessError.qemuMissing(name))")
      throw ExitCode(BootSetupExit.qemuMissing)
    } catch .imageMissing(let path) {
      note("error: \(HarnessError.imageMissing(path))")
      throw ExitCode(BootSetupExit.imageMissing)
    } catch {
      note("error: \(error)")
      throw ExitCode(BootOutcome.qemuError(1).exitCode)
    }
    if !result.qemuMessages.isEmpty {
      FileHandle.standardError.write(Data(result.qemuMessages.utf8))
    }
    note("\(result.outcome.summary) [\(String(format: "%.3f", result.seconds)) s]")
    if result.outcome != .success { throw ExitCode(result.outcome.exitCode) }
  }
}

extension Boot {
  /// `--peer linux`: both guests on one network, the kernel running the
  /// NIC self-test (`--nic-selftest`) or the program, Linux the checks
  /// named after it; prints each check and `N passed, M failed`; exits 0
  /// only if all pass.
  func runWithPeer() throws {
    let image: URL
    if let kernel {
      image = URL(fileURLWithPath: kernel)
    } else {
      let report = try buildImages(quiet: true)
      guard nicSelftest || report.programs[program] != nil else {
        note(
          "error: no user program '\(program)'; have: \(report.programs.keys.sorted().joined(separator: ", "))"
        )
        throw ExitCode(BootOutcome.userFailure.exitCode)
      }
      image = report.kernel
    }
    let prepared: LinuxPeer.Prepared
    do {
      let project = try Project.locate()
      prepared = try LinuxPeer(project: project) { note($0) }.prepareNetworkPeer()
    } catch {
      note("error: preparing the Linux peer: \(error)")
      throw ExitCode.failure
    }
    let network: GuestNetwork
    let results: (exo: BootResult, peer: BootResult)
    do {
      network = try GuestNetwork.freePorts()
      note(
        "network: exokernel on \(GuestNetwork.host):\(network.exoPort), Linux on \(GuestNetwork.host):\(network.peerPort)"
      )
      // Linux boots in seconds under TCG; the default limit is per guest.
      let options =
        nicSelftest
        ? NICSelfTestChecks.bootOptions(
          kernel: image, peer: prepared, network: network, timeout: max(timeout, 180))
        : PeerChecks.bootOptions(
          kernel: image, program: program, peer: prepared, network: network,
          timeout: max(timeout, 180))
      results = try GuestPair.boot(
        exo: options.exo, peer: options.peer, stopExoAfterPeer: nicSelftest ? nil : PeerChecks.grace
      ) { side, line in
        FileHandle.standardOutput.write(Data("[\(side)] \(line)\n".utf8))
      }
    } catch {
      note("error: \(error)")
      throw ExitCode(BootOutcome.qemuError(1).exitCode)
    }
    for (side, result) in [("exo", results.exo), ("linux", results.peer)]
    where !result.qemuMessages.isEmpty {
      FileHandle.standardError.write(Data("[\(side) QEMU] \(result.qemuMessages)".utf8))
    }
    let checks =
      nicSelftest
      ? NICSelfTestChecks.judge(
        exoConsole: results.exo.console, exoOutcome: results.exo.outcome,
        peerConsole: results.peer.console)
      : PeerChecks.judge(
        exoConsole: results.exo.console, exoOutcome: results.exo.outcome,
        peerConsole: results.peer.console, required: PeerChecks.required(for: program))
    for check in checks { print(check.line) }
    let failed = checks.filter { !$0.passed }.count
    print("\(checks.count - failed) passed, \(failed) failed")
    note(
      "exokernel guest \(String(format: "%.1f", results.exo.seconds)) s, Linux guest \(String(format: "%.1f", results.peer.seconds)) s"
    )
    if failed > 0 { throw ExitCode.failure }
  }
}
