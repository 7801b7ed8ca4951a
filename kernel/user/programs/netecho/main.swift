import ExoABI
import LibOS
import LibOSKernel

/// The `netecho` program on the kernel: NetEcho.main on the libOS over real
/// system calls. Its frames come from the scripted peer (ScriptedPeer.swift)
/// until the kernel's packet-filter and NIC calls exist.
@main
struct NetEchoProgram {
  static func main() {
    LibOS.start(kernel: SystemKernel(), name: "netecho") { os, start throws(ExoError) in
      try NetEcho.main(os, start)
    }
  }
}
