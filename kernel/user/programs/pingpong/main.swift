import ExoABI
import LibOS
import LibOSKernel

/// The `pingpong` program on the kernel: PingPong.main on the libOS over real system calls.
@main
struct PingPongProgram {
  static func main() {
    LibOS.start(kernel: SystemKernel(), name: "pingpong") { os, start throws(ExoError) in
      try PingPong.main(os, start)
    }
  }
}
