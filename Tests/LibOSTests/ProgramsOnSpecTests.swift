import ExoABI
import LibOS
import LibOSHost
import LibOSPrograms
import Testing

/// The libOS programs run on the executable spec in process, with the same
/// expectations as on the kernel (Tests/HarnessTests/LibOSProgramTests):
/// what a libOS developer runs before booting.
@Suite("LibOS programs on the spec")
struct ProgramsOnSpecTests {
  func run(
    tickEvery: Int = 97,
    _ body: @escaping (LibOS<SimulatedKernel>, ForkStart?) throws(ExoError) -> UInt64
  ) -> (Machine.Ending, [String], Machine) {
    let machine = Machine(bounds: .kernel, tickEvery: tickEvery) { kernel in
      LibOS.start(kernel: kernel, name: "program", body)
    }
    let ending = machine.run()
    let lines = machine.console.split(separator: "\n").map(String.init)
    return (ending, lines, machine)
  }

  @Test("faultalloc")
  func faultalloc() {
    let (ending, lines, machine) = run { os, start throws(ExoError) in
      try FaultAlloc.main(os, start)
    }
    #expect(ending == .idle)
    #expect(machine.spec.environments.exitStatus[0] == 0, "\(lines)")
    #expect(
      lines == [
        "faultalloc: demand page at slot 16 holds 0xdead",
        "faultalloc: untouched demand slot 17 reads 0",
        "faultalloc: fault at slot 32, depth 1",
        "faultalloc: fault at slot 33, depth 2",
        "faultalloc: fault at slot 34, depth 3",
        "faultalloc: fault at slot 35, depth 4",
        "faultalloc: recursive faults resolved, markers intact",
        "faultalloc: 2 faults handled by the libOS",
      ])
  }

  @Test("forktree", arguments: [0, 13, 97])
  func forktree(tickEvery: Int) {
    let (ending, lines, machine) = run(tickEvery: tickEvery) { os, start throws(ExoError) in
      try ForkTree.main(os, start)
    }
    #expect(ending == .idle)
    #expect(machine.spec.environments.exitStatus[0] == 0, "\(lines)")
    #expect(lines.filter { $0.hasPrefix("forktree: environment") }.count == 15, "\(lines)")
    #expect(lines.last == "forktree: all 15 environments done")
  }

  @Test("pingpong", arguments: [0, 7, 97])
  func pingpong(tickEvery: Int) {
    let (_, lines, machine) = run(tickEvery: tickEvery) { os, start throws(ExoError) in
      try PingPong.main(os, start)
    }
    var expected: [String] = []
    for k in stride(from: 0, to: 20, by: 2) {
      expected.append("pingpong: environment 1 got \(k) from 0")
      expected.append("pingpong: environment 0 got \(k + 1) back")
    }
    expected.append("pingpong: counter reached 20")
    #expect(lines == expected)
    #expect(machine.spec.environments.exitStatus[0] == 0)
  }

  @Test("primes")
  func primes() {
    let (_, lines, machine) = run { os, start throws(ExoError) in try Primes.main(os, start) }
    var primes: [Int] = []
    var n = 2
    while primes.count < 100 {
      if !primes.contains(where: { n % $0 == 0 }) { primes.append(n) }
      n += 1
    }
    let printed = lines.compactMap { line -> Int? in
      guard line.hasSuffix(")") else { return nil }
      return Int(line.dropFirst("primes: ".count).prefix { $0 != " " })
    }
    #expect(printed == primes)
    #expect(lines.last == "primes: found 100 primes, the last below 542")
    #expect(machine.spec.environments.exitStatus[0] == 0)
  }

  @Test("spin")
  func spin() {
    let (_, lines, machine) = run(tickEvery: 50) { os, start throws(ExoError) in
      try Spin.main(os, start)
    }
    #expect(
      lines.filter { !$0.contains("ran again") } == [
        "spin: I am the parent, forking the child",
        "spin: I am the child, spinning",
        "spin: killing the child",
        "spin: the child is gone",
      ])
    #expect(machine.spec.environments.exitStatus[0] == 0)
  }

  @Test("threads")
  func threads() {
    let (_, lines, machine) = run(tickEvery: 40) { os, start throws(ExoError) in
      try Threads.main(os, start)
    }
    #expect(lines.count == 2, "\(lines)")
    #expect(lines.first?.hasPrefix("threads: 3 spinning threads finished after ") == true)
    #expect(lines.last == "threads: turns taken with threadYield: 0 1 2 0 1 2 0 1 2")
    #expect(machine.spec.environments.exitStatus[0] == 0)
  }

  /// What `revoke` prints (the manager's and the application's lines
  /// separately: they interleave differently at different slice lengths).
  static let revokeManager = [
    "revoke: manager: the application holds 20 pages",
    "revoke: manager: revocationRequest(4 pages, 1000 ticks) -> ok",
    "revoke: manager: the request ended: 4 returned, 0 repossessed",
    "revoke: manager: revocationRequest(3 pages, 1000 ticks) -> ok",
    "revoke: manager: the request ended: 3 returned, 0 repossessed",
    "revoke: manager: revocationRequest(2 pages, 3 ticks) -> ok (the application ignores it)",
    "revoke: manager: the request ended: 0 returned, 2 repossessed by the abort",
    "revoke: manager: the application survived 3 revocations with its data intact",
  ]
  static let revokeApplication = [
    "revoke: app: 8 pages of data, 4 pages of buffer never written",
    "revoke: app: all 8 data pages intact (512 words checked)",
    "revoke: app: gave back 4 pages (slots 8 9 10 11), all clean: nothing lost",
    "revoke: app: all 8 data pages intact (512 words checked)",
    "revoke: app: gave back 3 pages (slots 0 1 2), data lost in 3: rebuilt from its source",
    "revoke: app: all 8 data pages intact (512 words checked)",
    "revoke: app: 2 pages were repossessed (slots 0 1), data lost in 2: rebuilt from its source",
    "revoke: app: all 8 data pages intact (512 words checked)",
  ]

  @Test(
    "revoke: an application survives revocation and repossession with its data intact",
    arguments: [13, 40, 97, 250])
  func revoke(tickEvery: Int) {
    let (ending, lines, machine) = run(tickEvery: tickEvery) { os, start throws(ExoError) in
      try Revoke.main(os, start)
    }
    #expect(ending == .idle)
    #expect(machine.spec.environments.exitStatus[0] == 0, "\(lines)")
    #expect(lines.filter { $0.hasPrefix("revoke: manager:") } == Self.revokeManager, "\(lines)")
    #expect(lines.filter { $0.hasPrefix("revoke: app:") } == Self.revokeApplication, "\(lines)")
    #expect(machine.upcallsDelivered[.revocationRequest] == 3)
    #expect(machine.upcallsDelivered[.repossession] == 1)
    #expect(machine.violations.isEmpty, "\(machine.violations)")
  }

  /// Slice ends at every possible distance: a race between environments
  /// shows as a wrong line at some of them.
  @Test("pingpong and primes at every slice length from 1 to 40 operations")
  func everySliceLength() {
    var primes: [Int] = []
    var n = 2
    while primes.count < 100 {
      if !primes.contains(where: { n % $0 == 0 }) { primes.append(n) }
      n += 1
    }
    for tick in 1...40 {
      let (_, pong, _) = run(tickEvery: tick) { os, start throws(ExoError) in
        try PingPong.main(os, start)
      }
      #expect(pong.last == "pingpong: counter reached 20", "tick every \(tick): \(pong)")
      let (_, lines, _) = run(tickEvery: tick) { os, start throws(ExoError) in
        try Primes.main(os, start)
      }
      let printed = lines.compactMap { line -> Int? in
        guard line.hasSuffix(")") else { return nil }
        return Int(line.dropFirst("primes: ".count).prefix { $0 != " " })
      }
      #expect(printed == primes, "tick every \(tick)")
    }
  }
}
