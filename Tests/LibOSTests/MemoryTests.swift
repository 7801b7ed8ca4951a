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
