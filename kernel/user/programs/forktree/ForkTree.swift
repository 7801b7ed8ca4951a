import ExoABI
import LibOS

/// A tree of forks three levels deep (15 environments): each node prints
/// its id, checks that it sees its parent's memory as of the fork, writes
/// its own, forks its children and waits for them; after they are reaped
/// its own page still holds what it wrote.
public enum ForkTree {
  public static func main<K: KernelInterface>(_ os: LibOS<K>, _ start: ForkStart?)
    throws(ExoError) -> UInt64
  {
    // A node's id: `length` bits, most significant first.
    let argument = start?.argument ?? 0
    let length = argument >> 8
    let bits = argument & 0xFF
    var id = ""
    for i in 0..<length { id += (bits >> (length - 1 - i)) & 1 == 0 ? "0" : "1" }
    os.print("forktree: environment \(os.me): I am '\(id)'")

    if start == nil {
      try os.allocate(slot: 0)
    } else if os.load(slot: 0, word: 0) != stamp(length - 1, bits >> 1) {
      os.print("forktree: '\(id)' does not see its parent's memory")
      return 1
    }
    os.store(slot: 0, word: 0, stamp(length, bits))
    if length < 3 {
      for branch: UInt64 in 0..<2 {
        try os.fork(function: 1, argument: ((length + 1) << 8) | (bits << 1) | branch)
      }
      let failed = try os.reapAll()
      guard failed == 0 else {
        os.print("forktree: \(failed) children of '\(id)' failed")
        return 1
      }
    }
    guard os.load(slot: 0, word: 0) == stamp(length, bits) else {
      os.print("forktree: '\(id)' sees a child's write")
      return 1
    }
    if start == nil { os.print("forktree: all 15 environments done") }
    return 0
  }

  static func stamp(_ length: UInt64, _ bits: UInt64) -> UInt64 {
    0xF0F0_0000 + (length << 8) + bits
  }
}
