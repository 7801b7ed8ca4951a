import ExoABI
import Foundation
import LibOS
import LibOSHost
import PropertyBased
import Testing

/// Random workloads of allocations, maps, protections, demand faults,
/// forks with copy-on-write, writes and reads, exits, environment switches,
/// RPCs, slice ends and revocation (requests, memory pressure, ignored
/// requests that end in an abort), on the spec. Every step checks that the
/// libOS's view of its window agrees with the kernel's exported bindings,
/// that it names no page or capability it lost to revocation, and that
/// every read returns what this environment last wrote there (as of the
/// fork, for a child; zeros where the libOS reported the data lost); the
/// end checks that nothing leaks and that every RPC was delivered exactly
/// once, in order. Failing workloads are shrunk.
@Suite("LibOS properties on the spec")
struct PropertyTests {
  static let steps = zip(
    Gen.int(in: 0...(Step.kinds - 1)), Gen.int(in: 0...7), Gen.int(in: 0...999)
  ).array(of: 0...60)
  static let ticks = Gen.int(in: 0...40)

  static func decode(_ raw: [(Int, Int, Int)]) -> [Step] {
    raw.map { Step(kind: $0.0, a: $0.1, b: $0.2) }
  }

  /// 3,000 workloads drawn from fixed seeds, so that every run (CI's
  /// included) checks the same ones; `LIBOS_WORKLOAD_SEED` in the
  /// environment draws others (a failure prints its steps).
  @Test("random workloads keep every libOS property")
  func randomWorkloads() {
    let base =
      ProcessInfo.processInfo.environment["LIBOS_WORKLOAD_SEED"].flatMap { UInt64($0) } ?? 0x11B05
    for i in 0..<3000 {
      var g = SplitMix64(seed: SplitMix64.derive(base, i))
      let count = Int(g.next() % 61)
      let raw = (0..<count).map { _ in
        (Int(g.next() % UInt64(Step.kinds)), Int(g.next() % 8), Int(g.next() % 1000))
      }
      let tick = Int(g.next() % 41)
      let steps = Self.decode(raw)
      let failures = Workload(steps: steps).run(tickEvery: tick == 0 ? 0 : tick + 9)
      let every = tick == 0 ? 0 : tick + 9
      #expect(
        failures.isEmpty,
        "workload \(i) of seed \(base): steps \(steps), tick every \(every): \(failures)")
    }
  }

  /// Workloads random runs once failed on, kept as regressions.
  static let regressions: [([(Int, Int, Int)], Int)] = [
    // Memory pressure answered at the revocation point before a write: a
    // slice ended during its system calls, and a second thread ran the
    // next step (an unmap of the slot) between the write's checks and its
    // store.
    (
      [
        (0, 0, 0), (24, 0, 0), (20, 0, 0), (2, 0, 0), (2, 0, 0), (24, 0, 0), (0, 7, 0), (2, 0, 0),
        (2, 1, 0), (23, 0, 0), (2, 7, 0), (9, 7, 0),
      ], 28
    ),
    // Environment 1: unhandled page fault at 0x9000004000.
    (
      [
        (0, 4, 0), (24, 0, 0), (0, 1, 0), (24, 0, 0), (11, 5, 0), (2, 5, 0), (20, 0, 0),
        (2, 7, 0), (24, 0, 0), (2, 4, 0), (12, 0, 0), (15, 3, 0), (20, 0, 0), (19, 0, 0),
        (19, 0, 0), (0, 2, 0), (2, 2, 0), (2, 5, 0), (9, 1, 0), (2, 4, 0), (22, 0, 0), (12, 0, 0),
      ], 33
    ),
  ]

  @Test("workloads that once failed keep every libOS property")
  func regressionWorkloads() {
    for (raw, tick) in Self.regressions {
      let steps = Self.decode(raw)
      let failures = Workload(steps: steps).run(tickEvery: tick)
      #expect(failures.isEmpty, "steps \(steps), tick every \(tick): \(failures)")
    }
  }

  /// A deterministic stream of workloads, for the planted-bug checks.
  static func workloads(_ count: Int, seed: UInt64) -> [([Step], Int)] {
    var state = seed
    func next(_ bound: Int) -> Int {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Int((state >> 33) % UInt64(bound))
    }
    return (0..<count).map { _ in
      let steps = (0..<(10 + next(50))).map { _ in
        Step(kind: next(Step.kinds), a: next(8), b: next(1000))
      }
      return (steps, next(3) == 0 ? 0 : 10 + next(40))
    }
  }

  @Test("every planted libOS bug is caught", arguments: PlantedBug.allCases)
  func plantedBugIsCaught(bug: PlantedBug) {
    var caught: [String]? = nil
    for (steps, tick) in Self.workloads(300, seed: 7) where caught == nil {
      let failures = Workload(steps: steps, plantedBug: bug).run(tickEvery: tick)
      if !failures.isEmpty { caught = failures }
    }
    #expect(caught != nil, "\(bug) went unnoticed")
    print("\(bug) caught: \(caught?.first ?? "-")")
  }

  @Test("a libOS that skips reconciliation is caught touching pages it lost to revocation")
  func skippedReconciliationIsCaught() {
    var caught: [String] = []
    for (steps, tick) in Self.workloads(300, seed: 7) where caught.isEmpty {
      caught = Workload(steps: steps, plantedBug: .reconcileSkipped).run(tickEvery: tick).filter {
        $0.contains("repossessed or given back") || $0.contains("lost to revocation")
      }
    }
    #expect(!caught.isEmpty)
    print("reconcileSkipped: \(caught.first ?? "-")")
  }

  @Test("the machine flags a system call naming a capability the caller knows it lost")
  func staleCapabilityIsFlagged() {
    var machine: Machine? = nil
    var repossessed = 0
    machine = Machine(bounds: Workload.bounds, tickEvery: 10) { kernel in
      LibOS.start(kernel: kernel, name: "stale") { os, _ throws(ExoError) in
        try os.allocate(slot: 0)
        let stale = os.slots[0].capability
        os.ignoresRequests = 1  // the abort takes the page
        machine?.raisePressure(on: os.me, count: 1)
        while os.revocationPending || os.pagesRepossessed == 0 { os.yield() }
        repossessed = os.pagesRepossessed
        _ = os.kernel.sys(CapabilityDeleteArguments(capability: stale))  // the bug
        return 0
      }
    }
    machine?.run()
    #expect(repossessed == 1)
    #expect(
      machine?.violations == [
        "environment 0: capabilityDelete names capability 0, lost to revocation"
      ],
      "\(machine?.violations ?? [])")
  }

  @Test("the same workloads pass without a planted bug, and exercise every feature")
  func controlRun() {
    var total = Coverage()
    for (index, (steps, tick)) in Self.workloads(300, seed: 7).enumerated() {
      let workload = Workload(steps: steps)
      // The first 30 with every step audited against exoverify's theorems.
      let failures = workload.run(tickEvery: tick, checkingInvariants: true, auditing: index < 30)
      #expect(failures.isEmpty, "steps \(steps), tick every \(tick): \(failures)")
      if !failures.isEmpty { break }
      total += workload.coverage
    }
    print("coverage of 300 workloads: \(total)")
    #expect(total.forks > 300 && total.faults > 200 && total.reads > 200)
    #expect(total.rpcs > 100 && total.environments > 600 && total.ticks > 300)
    #expect(total.threads > 100 && total.threadSwitches > 20)
    // Revocation: requests answered by giving pages back, aborts that
    // repossessed pages, slots whose data was lost, upcalls delivered.
    #expect(total.answered > 100 && total.returned > 100 && total.repossessed > 20)
    #expect(total.lost > 20 && total.upcalls > 100)
  }
}
