import ExoABI
import ExoHarness
import Foundation
import Testing

/// The libOS's programs on the real kernel in QEMU: each one's console
/// output is checked line by line.
@Suite("LibOS programs on the kernel", .serialized)
struct LibOSProgramTests {
  /// The console lines that start with `prefix`.
  func lines(_ console: String, _ prefix: String) -> [String] {
    console.split(separator: "\n").map(String.init).filter { $0.hasPrefix(prefix) }
  }

  @Test("faultalloc: demand allocation and a fault handler that faults four levels deep")
  func faultalloc() throws {
    let result = try Images.boot(program: "faultalloc")
    #expect(result.outcome == .success, "console:\n\(result.console)")
    #expect(
      lines(result.console, "faultalloc:") == [
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

  @Test("forktree: 15 environments forked copy-on-write, each prints its id")
  func forktree() throws {
    let result = try Images.boot(program: "forktree")
    #expect(result.outcome == .success, "console:\n\(result.console)")
    let ids = lines(result.console, "forktree: environment").compactMap { line in
      line.split(separator: "'").dropFirst().first.map(String.init)
        ?? (line.hasSuffix("''") ? "" : nil)
    }
    var expected = [""]
    for length in 1...3 {
      for bits in 0..<(1 << length) {
        expected.append(
          String((0..<length).map { (bits >> (length - 1 - $0)) & 1 == 0 ? "0" : "1" }))
      }
    }
    #expect(ids.sorted() == expected.sorted(), "console:\n\(result.console)")
    #expect(result.console.contains("forktree: all 15 environments done"))
    #expect(!result.console.contains("does not see") && !result.console.contains("sees a child"))
  }

  @Test("pingpong: two environments exchange a counter by RPC")
  func pingpong() throws {
    let result = try Images.boot(program: "pingpong")
    #expect(result.outcome == .success, "console:\n\(result.console)")
    var expected: [String] = []
    for k in stride(from: 0, to: 20, by: 2) {
      expected.append("pingpong: environment 1 got \(k) from 0")
      expected.append("pingpong: environment 0 got \(k + 1) back")
    }
    expected.append("pingpong: counter reached 20")
    #expect(lines(result.console, "pingpong:") == expected)
  }

  @Test("netecho: the libOS network stack answers its scripted peer on the kernel")
  func netecho() throws {
    let result = try Images.boot(program: "netecho")
    #expect(result.outcome == .success, "console:\n\(result.console)")
    let printed = lines(result.console, "netecho: ")
    #expect(printed.last == "netecho: 23 passed, 0 failed", "\(printed)")
    #expect(printed.filter { $0.hasPrefix("netecho: ok echo reply ") }.count == 10)
    #expect(!printed.contains { $0.contains("FAIL") })
  }

  @Test("primes: a pipeline of environments connected by RPC prints the first 100 primes")
  func primes() throws {
    let result = try Images.boot(program: "primes")
    #expect(result.outcome == .success, "console:\n\(result.console)")
    var primes: [Int] = []
    var n = 2
    while primes.count < 100 {
      if !primes.contains(where: { n % $0 == 0 }) { primes.append(n) }
      n += 1
    }
    let printed = lines(result.console, "primes: ").compactMap { line -> Int? in
      guard line.hasSuffix(")") else { return nil }
      return Int(line.dropFirst("primes: ".count).prefix { $0 != " " })
    }
    #expect(printed == primes)
    #expect(result.console.contains("primes: found 100 primes, the last below 542"))
  }

  @Test("spin: a child that never yields is preempted and killed by its parent")
  func spin() throws {
    let result = try Images.boot(program: "spin")
    #expect(result.outcome == .success, "console:\n\(result.console)")
    #expect(
      lines(result.console, "spin:").filter { !$0.contains("ran again") } == [
        "spin: I am the parent, forking the child",
        "spin: I am the child, spinning",
        "spin: killing the child",
        "spin: the child is gone",
      ])
    #expect(result.console.contains("spin: the parent ran again"))
  }
}

extension LibOSProgramTests {
  @Test("threads: user-level threads preempted at slice ends, and taking turns")
  func threads() throws {
    let result = try Images.boot(program: "threads")
    #expect(result.outcome == .success, "console:\n\(result.console)")
    let lines = lines(result.console, "threads:")
    #expect(lines.count == 2, "console:\n\(result.console)")
    #expect(lines.first?.hasPrefix("threads: 3 spinning threads finished after ") == true)
    #expect(lines.last == "threads: turns taken with threadYield: 0 1 2 0 1 2 0 1 2")
  }
}

extension LibOSProgramTests {
  @Test("revoke: an application under memory pressure survives revocation and repossession")
  func revoke() throws {
    let result = try Images.boot(program: "revoke")
    #expect(result.outcome == .success, "console:\n\(result.console)")
    #expect(
      lines(result.console, "revoke: manager:") == [
        "revoke: manager: the application holds 20 pages",
        "revoke: manager: revocationRequest(4 pages, 1000 ticks) -> ok",
        "revoke: manager: the request ended: 4 returned, 0 repossessed",
        "revoke: manager: revocationRequest(3 pages, 1000 ticks) -> ok",
        "revoke: manager: the request ended: 3 returned, 0 repossessed",
        "revoke: manager: revocationRequest(2 pages, 3 ticks) -> ok (the application ignores it)",
        "revoke: manager: the request ended: 0 returned, 2 repossessed by the abort",
        "revoke: manager: the application survived 3 revocations with its data intact",
      ], "console:\n\(result.console)")
    let app = lines(result.console, "revoke: app:")
    let intact = "revoke: app: all 8 data pages intact (512 words checked)"
    #expect(app.count == 8, "console:\n\(result.console)")
    #expect(
      Array(app.prefix(6)) == [
        "revoke: app: 8 pages of data, 4 pages of buffer never written", intact,
        "revoke: app: gave back 4 pages (slots 8 9 10 11), all clean: nothing lost", intact,
        "revoke: app: gave back 3 pages (slots 0 1 2), data lost in 3: rebuilt from its source",
        intact,
      ])
    // Which two pages the abort takes depends on the capability slots the
    // kernel's tables give the rebuilt pages.
    let repossessed = app.count == 8 ? app[6] : ""
    #expect(repossessed.hasPrefix("revoke: app: 2 pages were repossessed (slots "), "\(app)")
    #expect(repossessed.hasSuffix("), data lost in 2: rebuilt from its source"), "\(app)")
    #expect(app.last == intact)
  }

  @Test("a transfer leaves the callee's interrupted x87/SSE state intact")
  func transferKeepsFPU() throws {
    let result = try Images.boot(program: "fpucheck")
    #expect(result.outcome == .success, "console:\n\(result.console)")
    #expect(result.console.contains("fpucheck: server computed with 0 bad rounds over "))
  }

  @Test(
    "each libOS program keeps every kernel invariant (the invariant-checking kernel)",
    arguments: [
      "faultalloc", "forktree", "netecho", "pingpong", "primes", "revoke", "spin", "threads",
    ])
  func invariantsHold(program: String) throws {
    let result = try Images.boot(program: program, kernel: try Images.report().debugKernel)
    #expect(result.outcome == .success, "console:\n\(result.console)")
    #expect(!result.console.contains("KERNEL PANIC"))
  }
}

extension CommandLineTests {
  @Test("exo spec-run runs a libOS program on the spec, with the kernel's output")
  func specRun() throws {
    let (status, output) = try exo(["spec-run", "--program", "pingpong"])
    #expect(status == 0, "\(output)")
    #expect(output.contains("pingpong: environment 1 got 18 from 0"))
    #expect(output.contains("pingpong: counter reached 20"))
    #expect(output.contains("exo: environment 0 exited with status 0 after "))
    let (unknown, message) = try exo(["spec-run", "--program", "nope"])
    #expect(unknown == 64)
    #expect(message.contains("no libOS program 'nope' runs on the spec; known: faultalloc"))
    let (limited, stopped) = try exo(
      ["spec-run", "--program", "spin", "--tick-every", "0", "--operation-limit", "5000"])
    #expect(limited == 5)
    #expect(stopped.contains("exo: stopped after 5000 operations"))
  }
}
