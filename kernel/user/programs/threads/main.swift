import ExoABI
import LibOS
import LibOSKernel

/// The `threads` program on the kernel: Threads.main on the libOS over real system calls.
@main
struct ThreadsProgram {
  static func main() {
    LibOS.start(kernel: SystemKernel(), name: "threads") { os, start throws(ExoError) in
      try Threads.main(os, start)
    }
  }
}
