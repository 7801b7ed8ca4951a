import ExoABI
import LibOS
import LibOSHost
import LibOSPrograms
import Testing

/// The `netecho` program against its scripted peer: on the executable
/// spec (as `exo spec-run --program netecho` runs it), and with planted
/// bugs of the stack, which the peer's checks must catch.
@Suite("netecho")
struct NetEchoTests {
  @Test("netecho on the spec passes every check of its peer")
  func onSpec() {
    let machine = Machine(bounds: .kernel, tickEvery: 97) { kernel in
      LibOS.start(kernel: kernel, name: "netecho") { os, start throws(ExoError) in
        try NetEcho.main(os, start)
      }
    }
    #expect(machine.run() == .idle)
    let lines = machine.console.split(separator: "\n").map(String.init)
    #expect(machine.spec.environments.exitStatus[0] == 0, "\(lines)")
    #expect(lines.last == "netecho: 23 passed, 0 failed", "\(lines)")
    #expect(!lines.contains { $0.contains("FAIL") }, "\(lines)")
    #expect(lines.contains("netecho: 10 echo replies, 4 datagrams echoed, 7 frames dropped"))
  }

  @Test("the peer catches a wrong stack", arguments: NetworkPlantedBug.allCases)
  func plantedBug(_ bug: NetworkPlantedBug) throws {
    var stack = try NetEcho.stack()
    stack.plantedBug = bug
    var peer = ScriptedPeer(server: NetEcho.mac, serverIP: NetEcho.ip)
    NetEcho.exercise(&stack, &peer) { 0 }
    #expect(peer.failed > 0, "\(peer.log)")
  }

  @Test("the correct stack passes the same exercise on the host")
  func correctStack() throws {
    var stack = try NetEcho.stack()
    var peer = ScriptedPeer(server: NetEcho.mac, serverIP: NetEcho.ip)
    NetEcho.exercise(&stack, &peer) { 0 }
    #expect(peer.failed == 0 && peer.passed == 23, "\(peer.log)")
  }
}
