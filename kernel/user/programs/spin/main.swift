import ExoABI
import LibOS
import LibOSKernel

/// A child that spins without ever yielding is preempted at the end of
/// each of its slices (the parent runs in between) and then killed by its
/// parent.
@main
struct Spin {
  static func main() {
    let os = LibOS(kernel: SystemKernel())
    let start: ForkStart?
    do { start = try os.boot() } catch {
      print("spin: boot failed: \(error.rawValue)")
      os.exit(1)
      return
    }
    if start != nil {
      os.print("spin: I am the child, spinning")
      var n: UInt64 = 0
      while true {
        n &+= 1
        os.store(slot: 0, word: 0, n)
      }
    }
    do {
      try os.allocate(slot: 0)
      os.print("spin: I am the parent, forking the child")
      let child = try os.fork(function: 1)
      let first = os.header(.ticks)
      var seen: UInt64 = 0
      while os.header(.ticks) < first + 6 {
        os.yield()
        seen += 1
      }
      os.print("spin: the parent ran again \(seen) times while the child spun")
      os.print("spin: killing the child")
      try os.kill(child)
      try os.reap(child)
      guard os.state(child.environment) == .free else {
        os.print("spin: the child's slot is not free")
        os.exit(1)
        return
      }
      os.print("spin: the child is gone")
    } catch {
      os.print("spin: failed: \(error.rawValue)")
      os.exit(1)
    }
    os.exit(0)
  }
}
