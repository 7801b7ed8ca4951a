import ExoABI
import LibOS
import LibOSKernel

/// The `faultalloc` program on the kernel: FaultAlloc.main on the libOS over real system calls.
@main
struct FaultAllocProgram {
  static func main() {
    LibOS.start(kernel: SystemKernel(), name: "faultalloc") { os, start throws(ExoError) in
      try FaultAlloc.main(os, start)
    }
  }
}
