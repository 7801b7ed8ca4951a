import ExoABI
import LibOS

/// A child that spins without ever yielding is preempted at the end of
/// each of its slices (the parent runs in between) and then killed by its
/// parent.
public enum Spin {
  public static func main<K: KernelInterface>(_ os: LibOS<K>, _ start: ForkStart?)
    throws(ExoError) -> UInt64
  {
    if start != nil {
      os.print("spin: I am the child, spinning")
      var n: UInt64 = 0
      while true {
        n &+= 1
        os.store(slot: 0, word: 0, n)
      }
    }
    try os.allocate(slot: 0)
    os.print("spin: I am the parent, forking the child")
    let child = try os.fork(function: 1)
    // The child's first write copies its slot 0: the exported bindings show
    // it spinning.
    let shared = os.slots[0].page
    while os.binding(child.environment, 0, .page) == shared { os.yield() }
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
      return 1
    }
    os.print("spin: the child is gone")
    return 0
  }
}
