import ExoABI
import ExoUser

/// The first user program: proves ring 3 runs, reaches the kernel with
/// `syscall` and prints through it.
@main
struct Hello {
  static func main() {
    print("hello from ring 3")
    let before = Kernel.ticks()
    var spins: UInt64 = 0
    while Kernel.ticks() == before && spins < 100_000_000 { spins &+= 1 }
    guard Kernel.ticks() > before else {
      print("hello: the timer did not advance while user code ran")
      Kernel.exit(1)
    }
    print("hello: timer ticks advance while user code runs")
  }
}
