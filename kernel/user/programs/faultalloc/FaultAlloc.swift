import ExoABI
import LibOS

/// A user-level page-fault handler that allocates on demand. Slots 16..<20
/// are demand-allocated by the libOS itself. Faults in slots 32..<36 go to
/// this program's hook, which maps the page and then writes a marker that
/// straddles into the next slot, still unmapped: the handler faults again
/// from inside itself, four levels deep, and each level resumes the one
/// below.
public enum FaultAlloc {
  public static func main<K: KernelInterface>(_ os: LibOS<K>, _ start: ForkStart?)
    throws(ExoError) -> UInt64
  {
    os.demand(16..<20)
    let traced = 32..<36
    var depth = 0
    os.faultHook = { fault in
      guard let s = os.slot(of: fault.address), traced.contains(s) else { return false }
      depth += 1
      os.print("faultalloc: fault at slot \(s), depth \(depth)")
      guard (try? os.allocate(slot: s)) != nil else { return false }
      let end = os.address(slot: s + 1)
      os.store(end - 8, marker(s))
      if traced.contains(s + 1) { os.store(end, marker(s) + 1) }  // faults again
      depth -= 1
      return true
    }

    os.store(slot: 16, word: 0, 0xdead)
    os.print("faultalloc: demand page at slot 16 holds 0x\(hex(os.load(slot: 16, word: 0)))")
    os.print("faultalloc: untouched demand slot 17 reads \(os.load(slot: 17, word: 3))")

    os.store(slot: 32, word: 5, 42)
    var intact = os.load(slot: 32, word: 5) == 42
    for s in traced {
      intact = intact && os.load(slot: s, word: 511) == marker(s)
      if s > traced.lowerBound { intact = intact && os.load(slot: s, word: 0) == marker(s - 1) + 1 }
    }
    guard intact else {
      os.print("faultalloc: a marker written across pages was lost")
      return 1
    }
    os.print("faultalloc: recursive faults resolved, markers intact")
    os.print("faultalloc: \(os.faultsHandled) faults handled by the libOS")
    return 0
  }

  static func marker(_ slot: Int) -> UInt64 { 0xFA00_0000 + UInt64(slot) }
}
