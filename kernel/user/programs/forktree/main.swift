import ExoABI
import LibOS
import LibOSKernel

/// The `forktree` program on the kernel: ForkTree.main on the libOS over real system calls.
@main
struct ForkTreeProgram {
  static func main() {
    LibOS.start(kernel: SystemKernel(), name: "forktree") { os, start throws(ExoError) in
      try ForkTree.main(os, start)
    }
  }
}
