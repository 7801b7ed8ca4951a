import ExoABI
import LibOS

/// User-level threads scheduled by the libOS in this environment's slice:
/// three threads count in a shared page without ever yielding, and are
/// preempted at slice ends; then three more take turns explicitly with
/// threadYield.
public enum Threads {
  public static func main<K: KernelInterface>(_ os: LibOS<K>, _ start: ForkStart?)
    throws(ExoError) -> UInt64
  {
    try os.allocate(slot: 0)
    var quanta = [0, 0, 0]
    for i in 0..<3 {
      try os.spawn {
        // Count until three slices have ended while this thread ran.
        var last = os.header(.ticks)
        var seen = 0
        while seen < 3 {
          os.store(slot: 0, word: i, os.load(slot: 0, word: i) + 1)
          let now = os.header(.ticks)
          if now != last {
            seen += 1
            last = now
          }
        }
        quanta[i] = seen
      }
    }
    os.joinAll()
    let switches = os.threadSwitches
    os.print("threads: 3 spinning threads finished after \(switches) preemptions")
    guard quanta == [3, 3, 3], switches >= 6 else {
      os.print("threads: preemption did not reach every thread")
      return 1
    }
    var order: [Int] = []
    let base = os.threads.count
    for i in 0..<3 {
      try os.spawn {
        for _ in 0..<3 {
          order.append(i)
          os.threadYield()
        }
      }
    }
    for i in base..<(base + 3) { os.join(i) }
    os.print(
      "threads: turns taken with threadYield: \(order.map { String($0) }.joined(separator: " "))")
    for i in 0..<3 where os.load(slot: 0, word: i) == 0 {
      os.print("threads: thread \(i) never counted")
      return 1
    }
    return 0
  }
}
