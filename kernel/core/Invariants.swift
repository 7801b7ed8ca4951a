import ExoABI

#if INVARIANTS
  /// The kernel's own check of its invariants, run after every call and
  /// exception in the debug kernel (`kernel-debug.elf`). A violation panics
  /// with the invariant's name. The same invariants, over the spec's state,
  /// are what exoverify proves.
  enum Invariants {
    /// Scratch counters: mappings per page, then bindings and children per
    /// capability.
    nonisolated(unsafe) static var scratch: UInt64 = 0

    static func prepare(_ allocator: inout PageAllocator) {
      let words = Info.pageCount + 2 * Info.capabilityCount
      scratch = allocator.run((words * 8 + pageSize - 1) / pageSize)
    }

    private static func counter(_ i: UInt64) -> UInt64 { PhysicalMemory.load64(scratch + i * 8) }
    private static func bump(_ i: UInt64) {
      PhysicalMemory.store64(scratch + i * 8, PhysicalMemory.load64(scratch + i * 8) + 1)
    }
    private static func pageCounter(_ p: UInt64) -> UInt64 { p - Info.firstPage }
    private static func bindingCounter(_ c: UInt64) -> UInt64 { Info.pageCount + c }
    private static func childCounter(_ c: UInt64) -> UInt64 {
      Info.pageCount + Info.capabilityCount + c
    }

    static func check() {
      let words = Info.pageCount + 2 * Info.capabilityCount
      for i in 0..<words { PhysicalMemory.store64(scratch + i * 8, 0) }
      let E = Info.environmentCount
      let C = Info.capabilityCount

      // Capability tree.
      for c in 0..<C where Info.kind(c) != .empty {
        let owner = Info[capability: c, .owner]
        guard owner < E, Info.state(owner) != .free else {
          panic("invariant capabilityOwnerExists: a capability's holder is not an environment")
        }
        let rights = Rights(rawValue: Info[capability: c, .rights])
        guard rights.isValid else { panic("invariant capabilityRightsDefined") }
        let parent = Info[capability: c, .parent]
        if parent == none {
          guard Info[capability: c, .depth] == 0 else { panic("invariant rootDepthZero") }
        } else {
          guard parent < C, Info.kind(parent) == Info.kind(c) else {
            panic("invariant parentValid: a capability's parent is empty or of another kind")
          }
          guard Info[capability: c, .depth] == Info[capability: parent, .depth] + 1 else {
            panic("invariant depthGrows: depth is not the parent's plus one")
          }
          guard rights.isSubset(of: Rights(rawValue: Info[capability: parent, .rights])) else {
            panic("invariant rightsShrink: a child has a right its parent lacks")
          }
          let (pb, pc) = (Info[capability: parent, .base], Info[capability: parent, .count])
          let (b, n) = (Info[capability: c, .base], Info[capability: c, .count])
          guard b >= pb, b + n <= pb + pc else {
            panic("invariant rangeShrinks: a child's range is outside its parent's")
          }
          bump(childCounter(parent))
        }
        guard Info[capability: c, .depth] <= UInt64(Info.bounds.maximumDepth) else {
          panic("invariant depthBounded")
        }
        if Info.kind(c) == .environment {
          let e = Info[capability: c, .base]
          guard e < E, Info.state(e) != .free else {
            panic("invariant environmentCapabilityLive: names a free environment")
          }
        } else {
          let (b, n) = (Info[capability: c, .base], Info[capability: c, .count])
          guard n >= 1, b >= Info.firstPage, b + n <= Info.firstPage + Info.pageCount else {
            panic("invariant memoryCapabilityInRange")
          }
          if parent == none {
            for p in b..<(b + n) {
              guard Info[page: p, .root] == c, Info[page: p, .owner] == owner else {
                panic(
                  "invariant rootOwnsPages: a root capability's pages name another root or owner")
              }
            }
          }
        }
      }

      // Bindings: each backed by a capability of the mapping environment
      // with the rights it uses, and the page table agrees.
      for e in 0..<E {
        Info.forEachBinding(of: e) { s, page, m in
          guard Info.state(e) != .free else { panic("invariant freeEnvironmentMapsNothing") }
          guard m < C, Info.kind(m) == .memory, Info[capability: m, .owner] == e else {
            panic(
              "invariant bindingBacked: a binding's capability is not the mapper's memory capability"
            )
          }
          let (b, n) = (Info[capability: m, .base], Info[capability: m, .count])
          guard page >= b, page < b + n else {
            panic("invariant bindingInRange: a binding maps a page outside its capability")
          }
          let rights = Rights(rawValue: Info[binding: e, slot: s, .rights])
          guard rights.contains(.read),
            rights.isSubset(of: Rights(rawValue: Info[capability: m, .rights]))
          else { panic("invariant bindingRights: a binding uses a right its capability lacks") }
          guard Info[page: page, .owner] != none else { panic("invariant noBindingToFreePage") }
          guard let pte = AddressSpaces.userEntry(e, UserLayout.windowBase + s * pageSize),
            pte.frame.rawValue == page * pageSize,
            pte.contains(.writable) == rights.contains(.write),
            pte.contains(.noExecute) == !rights.contains(.execute)
          else { panic("invariant pageTableMatchesBindings") }
          bump(pageCounter(page))
          bump(bindingCounter(m))
          return true
        }
      }

      // Exact counts.
      for c in 0..<C {
        guard Info[capability: c, .children] == counter(childCounter(c)) else {
          panic("invariant childrenCountExact")
        }
        guard Info[capability: c, .bindings] == counter(bindingCounter(c)) else {
          panic("invariant bindingsCountExact")
        }
      }
      for i in 0..<Info.pageCount {
        let p = Info.firstPage + i
        guard Info[page: p, .mappings] == counter(pageCounter(p)) else {
          panic("invariant mappingsCountExact")
        }
        let owner = Info[page: p, .owner]
        if owner == none {
          guard Info[page: p, .root] == none else { panic("invariant freePageHasNoRoot") }
        } else {
          guard owner < E, Info.state(owner) != .free else {
            panic("invariant pageOwnerExists: a page is owned by a free environment")
          }
        }
      }

      // Capabilities held per environment.
      // (One pass over the table, counting in the page counters, which
      // are checked already.)
      for e in 0..<E { PhysicalMemory.store64(scratch + e * 8, 0) }
      for c in 0..<C where Info.kind(c) != .empty {
        let owner = Info[capability: c, .owner]
        guard owner < E else { panic("invariant capabilityOwnerExists") }
        bump(owner)
      }
      for e in 0..<E {
        guard Info[environment: e, .capabilities] == counter(e) else {
          panic("invariant capabilityCountExact: an environment's capability count is wrong")
        }
      }

      // Environments, slices, calls.
      for p in 0..<Info.sliceCount {
        let owner = Info[slice: p]
        guard owner == none || (owner < E && Info.state(owner) != .free) else {
          panic("invariant sliceOwnerExists")
        }
      }
      for e in 0..<E {
        let caller = Info[environment: e, .caller]
        if caller != none && caller != asynchronousCaller {
          guard caller < E, Info.state(caller) == .waiting else {
            panic("invariant callerWaits: a pending call's caller is not waiting")
          }
        }
      }
      let current = Info.current
      guard current == none || (current < E && Info.state(current) == .runnable) else {
        panic("invariant currentRunnable")
      }
      checkRevocation()
    }

    /// The abort-protocol invariants (proofs/: revocationRecords,
    /// repossessedOnce, repossessedUnbound, pagesConserved). Reuses the page
    /// counters as a mark per page.
    private static func checkRevocation() {
      let P = Info.pageCount
      for i in 0..<P { PhysicalMemory.store64(scratch + i * 8, 0) }
      for e in 0..<Info.environmentCount {
        let phase = Info[revocation: e, .phase]
        let n = Info[revocation: e, .repossessed]
        guard phase <= RevocationPhase.aborting.rawValue, n <= P else {
          panic("invariant revocationRecords: phase or vector header out of range")
        }
        if Info.state(e) == .free {
          for field in RevocationField.allCases where Info[revocation: e, field] != 0 {
            panic("invariant revocationRecords: a free environment has a revocation record")
          }
        }
        let pending = phase != RevocationPhase.none.rawValue
        // A page's counter holds e + 1 once e's vector records it (the
        // counters are cleared once, before the first environment).
        let mark = e + 1
        // Past the header every entry is 0 (read in place, a word a step).
        var address = Info.base + UInt64(Info.offset(repossession: e, entry: n))
        for _ in n..<P {
          guard PhysicalMemory.load64(address) == 0 else {
            panic("invariant revocationRecords: an entry past the header")
          }
          address &+= 8
        }
        for i in 0..<n {
          let entry = Info[repossession: e, entry: i]
          guard entry >= Info.firstPage, entry < Info.firstPage + P else {
            panic("invariant revocationRecords: an entry is not a managed page")
          }
          guard counter(pageCounter(entry)) != mark else {
            panic("invariant repossessedOnce: a page is recorded twice")
          }
          PhysicalMemory.store64(scratch + pageCounter(entry) * 8, mark)
          let owner = Info[page: entry, .owner]
          guard !(pending && owner == e), owner != none || Info[page: entry, .mappings] == 0
          else { panic("invariant repossessedUnbound: a repossessed page is still held or bound") }
        }
        if pending {
          guard
            Info.state(e) == .runnable || Info.state(e) == .stopped || Info.state(e) == .waiting,
            Info[revocation: e, .requested] >= 1,
            Info[revocation: e, .requested] <= P
          else { panic("invariant revocationRecords: a pending request is malformed") }
          var owned: UInt64 = 0
          for i in 0..<P where Info[page: Info.firstPage + i, .owner] == e { owned += 1 }
          guard owned + Info[revocation: e, .returned] + n == Info[revocation: e, .held] else {
            panic("invariant pagesConserved: owned + returned + repossessed != held")
          }
        }
      }
    }
  }
#endif
