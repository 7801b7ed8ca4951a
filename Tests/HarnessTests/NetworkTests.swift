import ExoABI
import ExoHarness
import Foundation
import Testing

/// Consoles in the shape the two guests print for the NIC self-test.
private func exoConsole(
  mac: String = GuestNetwork.exoMAC, received: Int = 4, from: String = GuestNetwork.peerMAC,
  transmitted: Int = NICSelfTestProtocol.burst, refused: Int = 0
) -> String {
  [
    "exo: booting",
    "exo: nic: virtio-net (virtio-mmio version 1) at 0x00000000feb00e00 irq 12, MAC \(mac), 32 receive and 32 transmit buffers",
    "exo: nic selftest: the peer is sending; transmitting 8 frames",
    "exo: nic selftest: received \(received) frames (326 bytes) from \(from), 0 from others; transmitted \(transmitted) frames (480 bytes), \(refused) refused, 0 receive errors",
  ].joined(separator: "\r\n") + "\r\n"
}

private func peerConsole(received: Int = NICSelfTestProtocol.burst) -> String {
  "peer: eth0 up, MAC \(GuestNetwork.peerMAC)\r\npeer: received \(received) frames, transmitted 7 frames\r\n[    7.4] reboot: Power down\r\n"
}

/// A kernel booted with a virtio-net device whose socket sends to a port
/// nobody listens on (127.0.0.1 only).
private func bootWithNIC(
  program: String = "hello", arguments: [String] = [], modern: Bool = false
) throws -> BootResult {
  let report = try Images.report()
  let network = try GuestNetwork.freePorts()
  var options = BootOptions(kernel: report.kernel)
  options.program = program
  options.kernelArguments = arguments
  options.machine = "microvm,acpi=off"
  options.extraArguments =
    network.exoArguments + (modern ? ["-global", "virtio-mmio.force-legacy=false"] : [])
  options.timeout = 60
  return try QEMU.boot(options)
}

@Suite("The NIC: driver bring-up, the self-test's judge, the Linux peer", .serialized)
struct NetworkTests {
  @Test("the judge passes a complete self-test")
  func judgePasses() {
    let checks = NICSelfTestChecks.judge(
      exoConsole: exoConsole(), exoOutcome: .success, peerConsole: peerConsole())
    #expect(checks.count == 6)
    #expect(checks.allSatisfy { $0.passed }, "\(checks.map(\.line))")
  }

  @Test(
    "the judge fails each broken part, and only that check",
    arguments: [
      (exoConsole(mac: "52:54:00:00:00:09"), BootOutcome.success, peerConsole(), 0),
      (
        exoConsole(), BootOutcome.success,
        "peer: eth0 could not be configured\r\npeer: received 8 frames, transmitted 0 frames\r\n", 1
      ),
      (exoConsole(received: 2), BootOutcome.success, peerConsole(), 2),
      (exoConsole(from: "52:54:00:00:00:07"), BootOutcome.success, peerConsole(), 2),
      (exoConsole(transmitted: 7), BootOutcome.success, peerConsole(), 3),
      (exoConsole(refused: 1), BootOutcome.success, peerConsole(), 3),
      (exoConsole(), BootOutcome.success, peerConsole(received: 7), 4),
      (exoConsole(), BootOutcome.success, peerConsole(received: 9), 4),
      (exoConsole(), BootOutcome.userFailure, peerConsole(), 5),
    ])
  func judgeFails(exo: String, outcome: BootOutcome, peer: String, failing: Int) {
    let checks = NICSelfTestChecks.judge(exoConsole: exo, exoOutcome: outcome, peerConsole: peer)
    #expect(checks.indices.filter { !checks[$0].passed } == [failing], "\(checks.map(\.line))")
  }

  @Test("both guests' sockets are on 127.0.0.1, on two distinct ports, each sending to the other")
  func loopbackOnly() throws {
    let network = try GuestNetwork.freePorts()
    #expect(network.exoPort != network.peerPort)
    for arguments in [network.exoArguments, network.peerArguments] {
      let netdev = try #require(arguments.firstIndex(of: "-netdev")).advanced(by: 1)
      let hosts = arguments[netdev].split(separator: ",").filter { $0.contains(".host=") }
      #expect(hosts == ["local.host=127.0.0.1", "remote.host=127.0.0.1"])
    }
    #expect(network.exoArguments[1].contains("local.port=\(network.exoPort),"))
    #expect(network.exoArguments[1].hasSuffix("remote.port=\(network.peerPort)"))
    #expect(network.peerArguments[1].contains("local.port=\(network.peerPort),"))
  }

  @Test("without a NIC the kernel boots as before and names none")
  func noNIC() throws {
    let result = try Images.boot()
    #expect(result.outcome == .success, "console:\n\(result.console)")
    #expect(!result.console.contains("exo: nic"))
  }

  @Test(
    "the kernel finds a virtio-net device on the command line and brings it up (legacy and modern transports)",
    arguments: [(false, 1), (true, 2)])
  func bringUp(modern: Bool, version: Int) throws {
    let result = try bootWithNIC(modern: modern)
    #expect(result.outcome == .success, "console:\n\(result.console)")
    #expect(
      result.console.contains(
        "exo: nic: virtio-net (virtio-mmio version \(version)) at 0x00000000feb00e00"))
    #expect(result.console.contains("MAC \(GuestNetwork.exoMAC), 32 receive and 32 transmit"))
    #expect(result.console.contains("hello from ring 3"))
  }

  @Test("the self-test without a NIC fails with a clear message")
  func selfTestNeedsNIC() throws {
    let report = try Images.report()
    var options = BootOptions(kernel: report.kernel)
    options.kernelArguments = [NICSelfTestChecks.kernelArgument]
    options.timeout = 60
    let result = try QEMU.boot(options)
    #expect(result.outcome == .userFailure, "console:\n\(result.console)")
    #expect(result.console.contains("exo: nic selftest: no NIC"))
  }

  @Test("Linux and the kernel exchange frames: every self-test check passes")
  func selfTestWithLinux() throws {
    let prepared = try preparedPeer()
    let report = try Images.report()
    let options = NICSelfTestChecks.bootOptions(
      kernel: report.kernel, peer: prepared, network: try GuestNetwork.freePorts(),
      timeout: 180)
    let results = try GuestPair.boot(exo: options.exo, peer: options.peer)
    let checks = NICSelfTestChecks.judge(
      exoConsole: results.exo.console, exoOutcome: results.exo.outcome,
      peerConsole: results.peer.console)
    #expect(
      checks.allSatisfy { $0.passed },
      "\(checks.map(\.line).joined(separator: "\n"))\nexo:\n\(results.exo.console)\nlinux:\n\(results.peer.console)"
    )
  }

  @Test("check lines are read from either console, with their source, name and detail")
  func reportedChecks() {
    let console =
      "exo: booting\r\nnetecho: check PASS unclaimed: 1 frame dropped\r\npeer: check FAIL ping: 10 packets transmitted, 0 packets received, 100% packet loss\r\npeer: check PASS bare\r\n"
    #expect(
      PeerChecks.reported(in: console) == [
        NetworkCheck(name: "netecho: unclaimed", passed: true, detail: "1 frame dropped"),
        NetworkCheck(
          name: "peer: ping", passed: false,
          detail: "10 packets transmitted, 0 packets received, 100% packet loss"),
        NetworkCheck(name: "peer: bare", passed: true, detail: ""),
      ])
  }

  @Test(
    "the program judge: a failed check, a peer that did not finish, or a failed kernel guest fails",
    arguments: [
      ("peer: check PASS ping: ok\r\npeer: checks done\r\n", BootOutcome.stopped, true),
      ("peer: check PASS ping: ok\r\npeer: checks done\r\n", BootOutcome.success, true),
      ("peer: check FAIL ping: 100% packet loss\r\npeer: checks done\r\n", .stopped, false),
      ("peer: check PASS ping: ok\r\n", BootOutcome.stopped, false),
      ("peer: checks done\r\n", BootOutcome.stopped, false),
      ("peer: check PASS ping: ok\r\npeer: checks done\r\n", BootOutcome.kernelPanic, false),
      ("peer: check PASS ping: ok\r\npeer: checks done\r\n", BootOutcome.timeout, false),
    ])
  func programJudge(peerChecks: String, outcome: BootOutcome, passes: Bool) {
    let checks = PeerChecks.judge(
      exoConsole: "exo: booting\r\n", exoOutcome: outcome,
      peerConsole: "peer: eth0 up, MAC \(GuestNetwork.peerMAC)\r\n" + peerChecks)
    #expect(checks.allSatisfy { $0.passed } == passes, "\(checks.map(\.line))")
  }

  /// `netrecv` against the peer whose checks are `peerChecks`: the checks
  /// of both sides, judged.
  /// With `untilExit` the kernel's guest runs until its program exits
  /// (else the harness stops it after the peer, as for a server).
  func netrecv(peerChecks: String, untilExit: Bool = false) throws -> (
    checks: [NetworkCheck], transcript: String
  ) {
    let prepared = try preparedPeer()
    let report = try Images.report()
    var options = PeerChecks.bootOptions(
      kernel: report.kernel, program: "netrecv", peer: prepared,
      network: try GuestNetwork.freePorts(), timeout: 180)
    options.peer.commandLine = LinuxPeer.networkCommandLine(checks: peerChecks)
    let results = try GuestPair.boot(
      exo: options.exo, peer: options.peer, stopExoAfterPeer: untilExit ? nil : PeerChecks.grace)
    let checks = PeerChecks.judge(
      exoConsole: results.exo.console, exoOutcome: results.exo.outcome,
      peerConsole: results.peer.console)
    return (checks, "exo:\n\(results.exo.console)\nlinux:\n\(results.peer.console)")
  }

  @Test("Linux's ARP requests reach the packet filter of a program on the kernel (netrecv)")
  func framesReachAFilter() throws {
    let (checks, transcript) = try netrecv(peerChecks: "netrecv")
    for name in [
      "netrecv: filter-installed", "netrecv: overlap-refused", "netrecv: frame-delivered",
      "netrecv: frame-is-peer-arp", "peer: arp-unanswered",
    ] {
      #expect(checks.contains { $0.name == name && $0.passed }, "\(name)\n\(transcript)")
    }
    #expect(checks.allSatisfy { $0.passed }, "\(transcript)")
  }

  @Test("netrecv's delivery checks fail when no frame for its filter is sent")
  func netrecvFailsWithoutFrames() throws {
    // A peer with no such checks sends nothing to the exokernel's address;
    // the program waits its 45 s for a frame and reports.
    let (checks, transcript) = try netrecv(peerChecks: "none", untilExit: true)
    #expect(
      checks.contains { $0.name == "netrecv: frame-delivered" && !$0.passed }, "\(transcript)")
    #expect(
      checks.contains { $0.name == "netrecv: frame-is-peer-arp" && !$0.passed }, "\(transcript)")
  }

  @Test(
    "netecho on the kernel serves Linux: ping with 0% loss, UDP echo, the unclaimed frame counted, a second environment's spoof refused"
  )
  func netechoServesLinux() throws {
    let prepared = try preparedPeer()
    let report = try Images.report()
    let options = PeerChecks.bootOptions(
      kernel: report.kernel, program: "netecho", peer: prepared,
      network: try GuestNetwork.freePorts(), timeout: 180)
    let results = try GuestPair.boot(
      exo: options.exo, peer: options.peer, stopExoAfterPeer: PeerChecks.grace)
    let transcript = "exo:\n\(results.exo.console)\nlinux:\n\(results.peer.console)"
    let checks = PeerChecks.judge(
      exoConsole: results.exo.console, exoOutcome: results.exo.outcome,
      peerConsole: results.peer.console, required: PeerChecks.required(for: "netecho"))
    for name in PeerChecks.required(for: "netecho") {
      #expect(checks.contains { $0.name == name && $0.passed }, "\(name)\n\(transcript)")
    }
    #expect(
      checks.contains { $0.name == "peer: ping" && $0.detail.contains(" 0% packet loss") },
      "\(transcript)")
    #expect(checks.allSatisfy { $0.passed }, "\(transcript)")
    // The server ends by itself on the peer's done message.
    #expect(results.exo.outcome == .success, "\(transcript)")
  }

  @Test("a check a program must report fails when it is not reported")
  func requiredChecksMissingFail() {
    let checks = PeerChecks.judge(
      exoConsole: "netecho: check PASS filters-installed: 3 filters\r\n", exoOutcome: .stopped,
      peerConsole: "peer: eth0 up, MAC \(GuestNetwork.peerMAC)\r\npeer: check PASS ping: ok\r\n"
        + "peer: checks done\r\n",
      required: PeerChecks.required(for: "netecho"))
    let missing = checks.filter { $0.detail == "not reported" }.map(\.name)
    #expect(missing.contains("netecho: unclaimed-counted"))
    #expect(missing.contains("netecho: spoof-refused"))
    #expect(!missing.contains("peer: ping"))
    #expect(!checks.allSatisfy { $0.passed })
  }

  @Test(
    "the netecho checks fail against a kernel whose program does not answer, and the harness stops that guest"
  )
  func netechoChecksFailWithoutAnEchoProgram() throws {
    let prepared = try preparedPeer()
    let report = try Images.report()
    var options = PeerChecks.bootOptions(
      kernel: report.kernel, program: "forever", peer: prepared,
      network: try GuestNetwork.freePorts(), timeout: 180)
    options.peer.commandLine = LinuxPeer.networkCommandLine(checks: "netecho")
    let results = try GuestPair.boot(
      exo: options.exo, peer: options.peer, stopExoAfterPeer: PeerChecks.grace)
    let transcript = "exo:\n\(results.exo.console)\nlinux:\n\(results.peer.console)"
    #expect(results.exo.outcome == .stopped, "\(transcript)")
    let reported = PeerChecks.reported(in: results.peer.console)
    #expect(
      reported.map(\.name) == [
        "peer: ping", "peer: udp-echo-port-\(PeerNetwork.echoPort)",
        "peer: udp-silent-port-\(PeerNetwork.unclaimedPort)",
      ], "\(transcript)")
    #expect(reported.map(\.passed) == [false, false, true], "\(transcript)")
    #expect(results.peer.console.contains("peer: checks done"))
  }
}

/// The Linux network peer, or the test is cancelled with the reason.
private func preparedPeer() throws -> LinuxPeer.Prepared {
  do {
    return try LinuxPeer(project: Images.project).prepareNetworkPeer()
  } catch {
    try Test.cancel("the Linux packages are not available (\(error)); skipped")
  }
}
