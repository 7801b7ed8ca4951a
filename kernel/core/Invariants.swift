import Arch
import ExoABI

#if INVARIANTS
  /// The invariant-checking kernel (`kernel-debug.elf`): after every call,
  /// exception and tick it evaluates every case of `proofs/`'s `Invariant`
  /// (the invariants exoverify proves, the same code) over the kernel's
  /// own tables, and then the one invariant of the hand-written residue
  /// that no abstract state can say: every window slot's page-table entry
  /// says what its binding says. A violation panics with the invariant's
  /// name.
  enum Invariants {
    /// The scratch memory the plain domains count in (`countsMatch`,
    /// `allDistinct`): a word per page, the most any count needs.
    static func prepare(_ allocator: inout PageAllocator) {
      Spec.scratch = allocator.run((Info.pageCount * 8 + pageSize - 1) / pageSize)
      Spec.scratchWords = Int(Info.pageCount)
    }

    static func check() {
      let state = Spec.state
      var ordinal = 0
      while let (invariant, label) = Invariant.at(ordinal) {
        if !invariant.holds(in: state) {
          Log("").end()
          Log("KERNEL PANIC: invariant ").text(label).end()
          exitMachine(.kernelPanic)
        }
        ordinal += 1
      }
      checkPageTables()
    }

    /// Every bound window slot's page-table entry maps its page, writable
    /// exactly when the binding has write, executable exactly when it has
    /// execute.
    static func checkPageTables() {
      for e in 0..<Info.environmentCount {
        Info.forEachBinding(of: e) { s, page, _ in
          let rights = Rights(rawValue: Info[binding: e, slot: s, .rights])
          guard let pte = AddressSpaces.userEntry(e, UserLayout.windowBase + s * pageSize),
            pte.frame.rawValue == page * pageSize,
            pte.contains(.writable) == rights.contains(.write),
            pte.contains(.noExecute) == !rights.contains(.execute)
          else { panic("invariant pageTableMatchesBindings") }
          return true
        }
      }
    }
  }
#endif
