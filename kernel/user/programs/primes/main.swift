import ExoABI
import LibOS
import LibOSKernel

/// The `primes` program on the kernel: Primes.main on the libOS over real system calls.
@main
struct PrimesProgram {
  static func main() {
    LibOS.start(kernel: SystemKernel(), name: "primes") { os, start throws(ExoError) in
      try Primes.main(os, start)
    }
  }
}
