import ExoABI
import LibOS
import LibOSKernel

/// The `revoke` program on the kernel: Revoke.main on the libOS over real system calls.
@main
struct RevokeProgram {
  static func main() {
    LibOS.start(kernel: SystemKernel(), name: "revoke") { os, start throws(ExoError) in
      try Revoke.main(os, start)
    }
  }
}
