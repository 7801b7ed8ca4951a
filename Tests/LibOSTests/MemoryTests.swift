import ExoABI
import LibOS
import LibOSHost
import Testing

/// Single features of the libOS's memory manager on the spec.
@Suite("LibOS memory on the spec")
struct MemoryTests {
  /// Runs `body` as environment 0's program and returns the machine.
  func run(_ body: @escaping (LibOS<SimulatedKernel>) throws(ExoError) -> Void) -> Machine {
    let machine = Machine(bounds: Workload.bounds) { kernel in
      LibOS.start(kernel: kernel, name: "memory") { os, _ throws(ExoError) in
        try body(os)
        return 0
      }
    }
    machine.run()
    return machine
  }

  @Test("page colouring: every page allocated has the asked colour", arguments: [0, 1, 3])
  func colouring(colour: UInt64) {
    var pages: [UInt64] = []
    let machine = run { os throws(ExoError) in
      os.pageColour = (4, colour)
      for s in 0..<6 { try os.allocate(slot: s) }
      pages = (0..<6).map { os.slots[$0].page }
    }
    #expect(machine.spec.environments.exitStatus[0] == 0, "\(machine.console)")
    #expect(pages.count == 6 && pages.allSatisfy { $0 % 4 == colour }, "\(pages)")
    #expect(Set(pages).count == 6)
  }

  @Test("pages are taken by name from the exported table, going on from the last one taken")
  func byName() {
    var pages: [UInt64] = []
    let machine = run { os throws(ExoError) in
      try os.allocate(slot: 0)
      try os.allocate(slot: 1)
      try os.unmap(slot: 0)  // gives the first page back
      try os.allocate(slot: 2)
      pages = [os.slots[1].page, os.slots[2].page]
    }
    #expect(machine.spec.environments.exitStatus[0] == 0, "\(machine.console)")
    // Three handler-stack pages come first; allocation goes on from the
    // last page taken rather than reusing the one just given back.
    let first = machine.spec.firstPage
    #expect(pages == [first + 4, first + 5], "\(pages)")
  }

  @Test("a fault outside any demand or copy-on-write slot ends the environment")
  func unhandledFault() {
    let machine = run { os throws(ExoError) in
      _ = os.load(slot: 5, word: 0)
      os.print("not reached")
    }
    #expect(machine.spec.environments.exitStatus[0] == 72)
    #expect(machine.console.contains("unhandled exception 14"))
    #expect(!machine.console.contains("not reached"))
  }

  @Test("protect to read-only, then a write faults and ends the environment")
  func readOnly() {
    let machine = run { os throws(ExoError) in
      try os.allocate(slot: 0)
      os.store(slot: 0, word: 0, 7)
      try os.protect(slot: 0, rights: [.read])
      #expect(os.load(slot: 0, word: 0) == 7)
      os.store(slot: 0, word: 0, 8)
      os.print("not reached")
    }
    #expect(machine.spec.environments.exitStatus[0] == 72)
    #expect(!machine.console.contains("not reached"))
  }
}

extension MemoryTests {
  @Test(
    "revocation victims: clean pages before dirty ones, least recently used first, never shared ones"
  )
  func victims() {
    var victims: [Int] = []
    let machine = run { os throws(ExoError) in
      try os.allocate(slot: 6)
      let sharer = try os.fork(function: 1)  // shares slot 6: never a victim
      for s in 0..<5 { try os.allocate(slot: s) }
      os.store(slot: 0, word: 0, 1)  // dirty, used early
      os.store(slot: 1, word: 0, 1)  // dirty, used late
      _ = os.load(slot: 2, word: 0)  // clean, used late
      _ = os.load(slot: 3, word: 0)  // clean, used later still
      os.store(slot: 1, word: 1, 1)
      try os.allocate(slot: 5)
      let child = try os.fork(function: 1)  // shares slots 0...5
      try os.kill(child)
      try os.reap(child)  // no longer shared: slots 0...5 are candidates again
      victims = os.revocationVictims(count: 7)
      try os.kill(sharer)
      try os.reap(sharer)
    }
    #expect(machine.spec.environments.exitStatus[0] == 0, "\(machine.console)")
    // Clean: 4 (allocated, never used since), 2, 3 then 5 (allocated last);
    // dirty: 0 then 1.
    #expect(victims == [4, 2, 3, 5, 0, 1], "\(victims)")
  }

  @Test("reconcile: the libOS forgets repossessed pages and agrees with the kernel again")
  func reconcile() {
    var agree = false
    var lost: [Int] = []
    var demand: [Bool] = []
    var told: [Int] = []
    let machine = run { os throws(ExoError) in
      os.lostHook = { told.append($0) }
      try os.allocate(slot: 0)
      try os.allocate(slot: 1)
      os.store(slot: 1, word: 0, 9)
      let taken = [os.slots[0].page, os.slots[1].page]
      // What the kernel does when it repossesses: bindings and capabilities go.
      for s in 0..<2 {
        let c = os.slots[s].capability
        _ = os.kernel.sys(PageUnmapArguments(target: os.me, envCap: none, slot: UInt64(s)))
        _ = os.kernel.sys(CapabilityDeleteArguments(capability: c))
      }
      lost = os.reconcile(repossessed: taken)
      demand = [os.slots[0].demand, os.slots[1].demand]
      agree = (0..<os.bounds.windowSlots).allSatisfy {
        os.slots[$0].page == os.binding(os.me, $0, .page)
      }
      #expect(os.load(slot: 0, word: 0) == 0)  // clean: comes back as zeros
    }
    #expect(machine.spec.environments.exitStatus[0] == 0, "\(machine.console)")
    #expect(agree)
    #expect(lost == [1])
    #expect(told == [1])
    // Both read as zeros again; only slot 1 had data to lose.
    #expect(demand == [true, true])
  }
}
