import ExoABI
import LibOS
import LibOSKernel

/// A tree of forks three levels deep (15 environments): each node prints
/// its id, checks that it sees its parent's memory as of the fork, writes
/// its own, forks its children and waits for them; after they are reaped
/// its own page still holds what it wrote.
@main
struct ForkTree {
  static func main() {
    let os = LibOS(kernel: SystemKernel())
    let start: ForkStart?
    do { start = try os.boot() } catch {
      print("forktree: boot failed: \(error.rawValue)")
      os.exit(1)
      return
    }
    // A node's id: `length` bits, most significant first.
    let argument = start?.argument ?? 0
    let length = argument >> 8
    let bits = argument & 0xFF
    var id = ""
    for i in 0..<length { id += (bits >> (length - 1 - i)) & 1 == 0 ? "0" : "1" }
    os.print("forktree: environment \(os.me): I am '\(id)'")

    if start == nil {
      do { try os.allocate(slot: 0) } catch {
        os.print("forktree: no memory")
        os.exit(1)
      }
    } else if os.load(slot: 0, word: 0) != stamp(length - 1, bits >> 1) {
      os.print("forktree: '\(id)' does not see its parent's memory")
      os.exit(1)
    }
    os.store(slot: 0, word: 0, stamp(length, bits))
    if length < 3 {
      for branch: UInt64 in 0..<2 {
        let child = ((length + 1) << 8) | (bits << 1) | branch
        do { try os.fork(function: 1, argument: child) } catch {
          os.print("forktree: '\(id)' could not fork: \(error.rawValue)")
          os.exit(1)
        }
      }
      do { try os.reapAll() } catch {
        os.print("forktree: '\(id)' could not reap: \(error.rawValue)")
        os.exit(1)
      }
    }
    guard os.load(slot: 0, word: 0) == stamp(length, bits) else {
      os.print("forktree: '\(id)' sees a child's write")
      os.exit(1)
      return
    }
    if start == nil { os.print("forktree: all 15 environments done") }
    os.exit(0)
  }

  static func stamp(_ length: UInt64, _ bits: UInt64) -> UInt64 {
    0xF0F0_0000 + (length << 8) + bits
  }
}
