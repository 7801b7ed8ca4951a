import ExoABI
import Foundation

/// Two QEMU guests joined by one Ethernet segment: each has a `dgram`
/// netdev whose UDP socket is on 127.0.0.1 and sends to the other's (no
/// other address, no host bridge or tap). The exokernel's guest
/// (`microvm`) has a `virtio-net-device` (virtio-mmio); the Linux peer's
/// (`pc`) an `e1000`, whose driver is one module of Debian's kernel.
public struct GuestNetwork: Sendable, Equatable {
  public static let host = "127.0.0.1"
  public static let exoMAC = mac(PeerNetwork.exoMAC)
  public static let peerMAC = mac(PeerNetwork.peerMAC)
  public static let exoAddress = dotted(PeerNetwork.exoAddress)
  public static let peerAddress = dotted(PeerNetwork.peerAddress)

  static func mac(_ b: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)) -> String {
    [b.0, b.1, b.2, b.3, b.4, b.5].map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }
      .joined(separator: ":")
  }

  static func dotted(_ a: (UInt8, UInt8, UInt8, UInt8)) -> String { "\(a.0).\(a.1).\(a.2).\(a.3)" }
  /// The UDP ports of the two ends.
  public var exoPort: UInt16
  public var peerPort: UInt16

  public init(exoPort: UInt16, peerPort: UInt16) {
    self.exoPort = exoPort
    self.peerPort = peerPort
  }

  /// Two ports free on 127.0.0.1 now (the system picks them).
  public static func freePorts() throws(HarnessError) -> GuestNetwork {
    let first = try freeUDPPort()
    var second = try freeUDPPort()
    var tries = 0
    while second == first && tries < 8 {
      second = try freeUDPPort()
      tries += 1
    }
    guard second != first else { throw .qemuFailed("no two free UDP ports on \(host)") }
    return GuestNetwork(exoPort: first, peerPort: second)
  }

  /// `-netdev dgram` sending from `local` to `remote`, both on 127.0.0.1.
  static func netdev(local: UInt16, remote: UInt16) -> String {
    "dgram,id=net0,local.type=inet,local.host=\(host),local.port=\(local),"
      + "remote.type=inet,remote.host=\(host),remote.port=\(remote)"
  }

  /// QEMU arguments of the exokernel's side.
  public var exoArguments: [String] {
    [
      "-netdev", GuestNetwork.netdev(local: exoPort, remote: peerPort),
      "-device", "virtio-net-device,netdev=net0,mac=\(GuestNetwork.exoMAC)",
    ]
  }

  /// QEMU arguments of the Linux peer's side.
  public var peerArguments: [String] {
    [
      "-netdev", GuestNetwork.netdev(local: peerPort, remote: exoPort),
      "-device", "e1000,netdev=net0,mac=\(GuestNetwork.peerMAC)",
    ]
  }
}

/// A UDP port on 127.0.0.1 that nothing uses: bound with port 0, read back,
/// and released for QEMU to take.
private func freeUDPPort() throws(HarnessError) -> UInt16 {
  #if canImport(Glibc)
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
  #else
    let fd = socket(AF_INET, SOCK_DGRAM, 0)
  #endif
  guard fd >= 0 else { throw .qemuFailed("cannot open a UDP socket to find a free port") }
  defer { close(fd) }
  var address = sockaddr_in()
  address.sin_family = sa_family_t(AF_INET)
  address.sin_port = 0
  address.sin_addr.s_addr = inet_addr(GuestNetwork.host)
  var length = socklen_t(MemoryLayout<sockaddr_in>.size)
  let bound = withUnsafePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
  }
  guard bound == 0 else { throw .qemuFailed("cannot bind a UDP socket on \(GuestNetwork.host)") }
  let named = withUnsafeMutablePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
  }
  guard named == 0 else { throw .qemuFailed("cannot read back a UDP socket's port") }
  return UInt16(bigEndian: address.sin_port)
}

/// One check of a two-guest run.
public struct NetworkCheck: Sendable, Equatable {
  public var name: String
  public var passed: Bool
  /// What was seen.
  public var detail: String

  public init(name: String, passed: Bool, detail: String) {
    self.name = name
    self.passed = passed
    self.detail = detail
  }

  public var line: String { "\(passed ? "PASS" : "FAIL") \(name): \(detail)" }
}

/// The NIC self-test (`exo boot --peer linux --nic-selftest`): the kernel,
/// booted with `nicselftest=1`, counts the frames Linux sends and then
/// transmits `NICSelfTestProtocol.burst` frames; Linux counts what its
/// interface received. Both report on their consoles; this judges them.
public enum NICSelfTestChecks {
  /// The kernel argument that runs the self-test.
  public static let kernelArgument = "nicselftest=1"

  /// The checks, from the two consoles and how the kernel's boot ended.
  public static func judge(exoConsole: String, exoOutcome: BootOutcome, peerConsole: String)
    -> [NetworkCheck]
  {
    var checks: [NetworkCheck] = []
    let found = line(in: exoConsole, starting: "exo: nic: virtio-net")
    checks.append(
      NetworkCheck(
        name: "the kernel finds the virtio-net device and reads its MAC",
        passed: found?.contains("MAC \(GuestNetwork.exoMAC)") ?? false,
        detail: found ?? "no 'exo: nic: virtio-net' line"))
    checks.append(PeerChecks.peerUp(peerConsole))
    let report = line(in: exoConsole, starting: "exo: nic selftest: received")
    let fields = report.map(numbers) ?? []
    // received N frames (B bytes) from MAC, M from others; transmitted T
    // frames (B bytes), R refused, E receive errors
    let received = fields.count > 0 ? fields[0] : nil
    checks.append(
      NetworkCheck(
        name: "frames from Linux arrive in the kernel's receive queue",
        passed: (received ?? 0) >= NICSelfTestProtocol.framesToWaitFor
          && (report?.contains("from \(GuestNetwork.peerMAC)") ?? false),
        detail: report ?? "no self-test report on the kernel's console"))
    let transmitted = fields.count > 3 ? fields[3] : nil
    let refused = fields.count > 5 ? fields[5] : nil
    checks.append(
      NetworkCheck(
        name: "the kernel transmits \(NICSelfTestProtocol.burst) frames",
        passed: transmitted == UInt64(NICSelfTestProtocol.burst) && refused == 0,
        detail: transmitted.map { "transmitted \($0), refused \(refused ?? 0)" } ?? "no report"))
    let peerReceived = line(in: peerConsole, starting: "peer: received")
    let count = peerReceived.map(numbers)?.first
    checks.append(
      NetworkCheck(
        name: "Linux's eth0 receives exactly the kernel's \(NICSelfTestProtocol.burst) frames",
        passed: count == UInt64(NICSelfTestProtocol.burst),
        detail: peerReceived ?? "no 'peer: received' line (see the Linux console)"))
    checks.append(
      NetworkCheck(
        name: "the kernel's self-test ends in success", passed: exoOutcome == .success,
        detail: exoOutcome.summary))
    return checks
  }

  /// The first line of `text` that starts with `prefix`, without its end.
  static func line(in text: String, starting prefix: String) -> String? {
    text.split(whereSeparator: \.isNewline).first { $0.hasPrefix(prefix) }
      .map(String.init)
  }

  /// The decimal numbers of `text`, in order (a MAC's hex digits are not
  /// numbers: a run of digits touching a letter or colon is skipped).
  static func numbers(_ text: String) -> [UInt64] {
    text.split(separator: " ").compactMap { word in
      let trimmed = word.trimmingCharacters(in: CharacterSet(charactersIn: "(),;"))
      return UInt64(trimmed)
    }
  }
}

extension NICSelfTestChecks {
  /// The two guests' options for the self-test on `network`: the kernel
  /// with `nicselftest=1` on `microvm` without ACPI (QEMU names virtio-mmio
  /// devices on the command line only then), Linux on its own machine.
  public static func bootOptions(
    kernel: URL, peer: LinuxPeer.Prepared, network: GuestNetwork, timeout: Double
  ) -> (exo: BootOptions, peer: BootOptions) {
    var exo = BootOptions(kernel: kernel)
    exo.machine = "microvm,acpi=off"
    exo.kernelArguments = [kernelArgument]
    exo.extraArguments = network.exoArguments
    // The kernel waits for the peer's first frames: it may run as long as
    // the peer, and a little longer.
    exo.timeout = timeout + 15
    var linux = BootOptions(kernel: peer.kernel)
    linux.machine = LinuxPeer.networkMachine
    linux.memory = LinuxPeer.networkMemory
    linux.initrd = peer.initrd
    linux.commandLine = LinuxPeer.networkCommandLine(checks: "nicselftest")
    linux.extraArguments = network.peerArguments
    linux.timeout = timeout
    return (exo, linux)
  }
}

/// The checks of `exo boot --peer linux --program NAME`: the kernel's
/// guest runs user program NAME with the NIC, the Linux peer runs the
/// checks its `/init` has for NAME (`exopeer.checks=NAME`). Each side
/// reports a check as a console line
///
///     SOURCE: check PASS|FAIL NAME: DETAIL
///
/// (`peer: check ...` from Linux; a user program may print its own, e.g.
/// counters only the exokernel sees). The judge adds that Linux's NIC came
/// up, that the peer ran to its end (`peer: checks done`) and that the
/// kernel's guest neither failed nor panicked (a server is stopped by the
/// harness once the peer is done).
public enum PeerChecks {
  /// Seconds the kernel's guest runs on after the peer has ended.
  public static let grace = 3.0

  /// The two guests' options for program `program` on `network`.
  public static func bootOptions(
    kernel: URL, program: String, peer: LinuxPeer.Prepared, network: GuestNetwork,
    timeout: Double
  ) -> (exo: BootOptions, peer: BootOptions) {
    var (exo, linux) = NICSelfTestChecks.bootOptions(
      kernel: kernel, peer: peer, network: network, timeout: timeout)
    // The program learns that it serves the peer (`arg=` is its rdi).
    exo.kernelArguments = ["arg=\(PeerNetwork.onNetworkArgument)"]
    exo.program = program
    linux.commandLine = LinuxPeer.networkCommandLine(checks: program)
    return (exo, linux)
  }

  /// Linux's NIC driver loaded and eth0 up with the peer's MAC.
  static func peerUp(_ peerConsole: String) -> NetworkCheck {
    let up = NICSelfTestChecks.line(in: peerConsole, starting: "peer: eth0 up")
    return NetworkCheck(
      name: "Linux loads its NIC driver and brings eth0 up",
      passed: up?.contains(GuestNetwork.peerMAC) ?? false,
      detail: up ?? "no 'peer: eth0 up' line (see the Linux console)")
  }

  /// The checks reported on a console, in order.
  public static func reported(in console: String) -> [NetworkCheck] {
    console.split(whereSeparator: \.isNewline).compactMap { line in
      for verdict in ["PASS", "FAIL"] {
        guard let marker = line.range(of: ": check \(verdict) ") else { continue }
        let rest = line[marker.upperBound...]
        let colon = rest.range(of: ": ")
        let source = line[..<marker.lowerBound]
        let name = String(colon.map { rest[..<$0.lowerBound] } ?? rest)
        return NetworkCheck(
          name: "\(source): \(name)", passed: verdict == "PASS",
          detail: colon.map { String(rest[$0.upperBound...]) } ?? "")
      }
      return nil
    }
  }

  /// The checks a run of `program` must report, from either side: one
  /// that is not reported fails (a server stopped before its checks, a
  /// peer cut short).
  public static func required(for program: String) -> [String] {
    switch program {
    case "netecho":
      return [
        "netecho: filters-installed", "netecho: overlap-refused", "netecho: spoof-refused",
        "netecho: unclaimed-counted", "netecho: frames-sent", "peer: ping",
        "peer: udp-echo-port-\(PeerNetwork.echoPort)",
        "peer: udp-silent-port-\(PeerNetwork.unclaimedPort)",
      ]
    case "netrecv":
      return [
        "netrecv: filter-installed", "netrecv: overlap-refused", "netrecv: frame-delivered",
        "netrecv: frame-is-peer-arp", "peer: arp-unanswered",
      ]
    default: return []
    }
  }

  public static func judge(
    exoConsole: String, exoOutcome: BootOutcome, peerConsole: String, required: [String] = []
  ) -> [NetworkCheck] {
    var checks = [peerUp(peerConsole)]
    let peerChecks = reported(in: peerConsole)
    checks += reported(in: exoConsole) + peerChecks
    for name in required where !checks.contains(where: { $0.name == name }) {
      checks.append(NetworkCheck(name: name, passed: false, detail: "not reported"))
    }
    let done = peerConsole.contains("peer: checks done")
    checks.append(
      NetworkCheck(
        name: "the peer runs its checks to the end", passed: done && !peerChecks.isEmpty,
        detail: done
          ? "\(peerChecks.count) checks reported"
          : "no 'peer: checks done' line (see the Linux console)"))
    checks.append(
      NetworkCheck(
        name: "the kernel's guest neither fails nor panics",
        passed: exoOutcome == .success || exoOutcome == .stopped, detail: exoOutcome.summary))
    return checks
  }
}

/// Two guests booted at the same time.
public enum GuestPair {
  /// Boots both and waits for both; `echo` gets each side's console a line
  /// at a time with the side's name (`exo`, `linux`). With
  /// `stopExoAfterPeer`, the exokernel's guest (a server that does not end
  /// by itself) is stopped that many seconds after the peer ends.
  public static func boot(
    exo: BootOptions, peer: BootOptions, stopExoAfterPeer: Double? = nil,
    echo: @escaping @Sendable (_ side: String, _ line: String) -> Void = { _, _ in }
  ) throws(HarnessError) -> (exo: BootResult, peer: BootResult) {
    let results = PairResults()
    let group = DispatchGroup()
    var exo = exo
    let stopper = stopExoAfterPeer.map { _ in exo.stopper ?? BootStopper() }
    exo.stopper = stopper
    for (side, options) in [("exo", exo), ("linux", peer)] {
      group.enter()
      DispatchQueue.global().async {
        let lines = LineSplitter { echo(side, $0) }
        do throws(HarnessError) {
          let result = try QEMU.boot(options) { lines.add($0) }
          lines.flush()
          results.set(side, .success(result))
        } catch {
          results.set(side, .failure(error))
        }
        if side == "linux", let stopper, let grace = stopExoAfterPeer {
          DispatchQueue.global().asyncAfter(deadline: .now() + grace) { stopper.stop() }
        }
        group.leave()
      }
    }
    group.wait()
    return (try results.get("exo").get(), try results.get("linux").get())
  }
}

private final class PairResults: @unchecked Sendable {
  private let lock = NSLock()
  private var results: [String: Result<BootResult, HarnessError>] = [:]
  func set(_ side: String, _ result: Result<BootResult, HarnessError>) {
    lock.lock()
    results[side] = result
    lock.unlock()
  }
  func get(_ side: String) -> Result<BootResult, HarnessError> {
    lock.lock()
    defer { lock.unlock() }
    return results[side] ?? .failure(.qemuFailed("the \(side) guest did not run"))
  }
}

/// Cuts streamed text into lines.
private final class LineSplitter: @unchecked Sendable {
  private let lock = NSLock()
  private var pending = ""
  private let emit: (String) -> Void
  init(_ emit: @escaping (String) -> Void) { self.emit = emit }
  func add(_ text: String) {
    lock.lock()
    pending += text
    var lines: [String] = []
    while let end = pending.firstIndex(where: { $0 == "\n" || $0 == "\r\n" }) {
      lines.append(String(pending[..<end]).trimmingCharacters(in: CharacterSet(charactersIn: "\r")))
      pending = String(pending[pending.index(after: end)...])
    }
    lock.unlock()
    lines.forEach(emit)
  }
  func flush() {
    lock.lock()
    let rest = pending
    pending = ""
    lock.unlock()
    if !rest.isEmpty { emit(rest) }
  }
}
