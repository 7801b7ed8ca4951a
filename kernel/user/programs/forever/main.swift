import ExoUser

/// Never ends: for testing that `exo boot --timeout` stops a guest that runs
/// on and reports it as a timeout.
@main
struct Forever {
  static func main() {
    print("forever: running until stopped")
    var n: UInt64 = 0
    while true { n &+= Kernel.ticks() }
  }
}
