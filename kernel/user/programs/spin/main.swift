import ExoUser

/// Never ends: for testing that `exo boot --timeout` stops a guest that runs
/// on and reports it as a timeout.
@main
struct Spin {
  static func main() {
    print("spin: running until stopped")
    var n: UInt64 = 0
    while true { n &+= Kernel.ticks() }
  }
}
