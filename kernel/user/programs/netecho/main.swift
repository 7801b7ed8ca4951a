import ExoABI
import ExoUser
import LibOS
import LibOSKernel

/// The `netecho` program on the kernel: NetEcho.main on the libOS over real
/// system calls. With `arg=1` on the kernel command line (`exo boot --peer
/// linux` gives it) it serves the Linux peer over the kernel's packet
/// filters and NIC; without, the scripted peer (ScriptedPeer.swift).
@main
struct NetEchoProgram {
  static func main() {
    let network = ProgramArgument.value == PeerNetwork.onNetworkArgument
    LibOS.start(kernel: SystemKernel(), name: "netecho") { os, start throws(ExoError) in
      try NetEcho.main(os, start, network: network)
    }
  }
}
