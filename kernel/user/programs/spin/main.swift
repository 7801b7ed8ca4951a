import ExoABI
import LibOS
import LibOSKernel

/// The `spin` program on the kernel: Spin.main on the libOS over real system calls.
@main
struct SpinProgram {
  static func main() {
    LibOS.start(kernel: SystemKernel(), name: "spin") { os, start throws(ExoError) in
      try Spin.main(os, start)
    }
  }
}
