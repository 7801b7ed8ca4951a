import ExoABI
import ExoSpec
import Foundation
import Testing

/// The revocation protocol on the real kernel: each rev* program runs one
/// scenario in QEMU and prints the exported revocation state in a
/// `REVSTATE` line; the spec runs the same scenario from
/// `specs/samples/NAME.json`, and the fields must agree.
///
/// Compared: the child's phase, requested, returned, held and repossessed,
/// its repossession vector (page indices from firstPage), the owners of
/// its pages 100–105 and its state. Not compared: the deadline and the tick
/// at which things happen, which are real time in QEMU; the spec's file
/// fixes one interleaving of the child's calls with the ticks that the
/// programs make sure of by their 100-tick deadline.
@Suite("Revocation in QEMU, checked against the spec", .serialized)
struct RevocationBootTests {
  static let child = 1

  /// The fields of a `REVSTATE` line.
  static func parse(_ console: String) -> [String: String]? {
    guard let line = console.split(separator: "\n").first(where: { $0.hasPrefix("REVSTATE ") })
    else { return nil }
    var fields: [String: String] = [:]
    for pair in line.split(separator: " ").dropFirst() {
      let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
      if parts.count == 2 { fields[parts[0]] = parts[1] }
    }
    return fields
  }

  /// The same fields, from the spec's final state of the scenario's file.
  static func expected(_ name: String) throws -> [String: String] {
    let path = Images.project.root.appendingPathComponent("specs/samples/\(name).json").path
    let report = try ReplayFile.load(path: path).runOnSpec()
    #expect(report.passed, "the spec run of \(name).json")
    let s = report.finalState
    let e = child
    let r = s.revocations
    let n = Int(r.repossessed[e])
    let row = e * s.bounds.pages
    let vector = s.repossessions[row..<(row + n)].map { String($0 - s.firstPage) }
    let owners = (100..<106).map { i in
      s.pages.owner[i] == ExoABI.none ? "none" : String(s.pages.owner[i])
    }
    return [
      "phase": String(r.phase[e]), "requested": String(r.requested[e]),
      "returned": String(r.returned[e]), "held": String(r.held[e]),
      "repossessed": String(r.repossessed[e]),
      "vector": vector.isEmpty ? "-" : vector.joined(separator: ","),
      "owners": owners.joined(separator: ","), "state": String(s.environments.state[e]),
    ]
  }

  static let cases: [(program: String, console: [String])] = [
    ("revignore", ["ignored", "child: upcall repossession(4 pages taken, 3 asked)"]),
    ("revcomply", ["child: revocationReturn(21) -> ok 0 pages owed"]),
    ("revfault", ["exo: environment 1 stopped: #PF page fault"]),
    (
      "revbogus",
      [
        "manager: second revocationRequest while pending -> busy",
        "child: revocationReturn(10) -> invalidCapability",
        "child: revocationReturn(999) -> outOfRange", "child: revocationReturn(21) -> ok 1",
      ]
    ),
    ("revexit", ["child: upcall revocationRequest: exiting with it pending"]),
    ("revpressure", ["manager: pageAllocate(100, 2) -> slotInUse"]),
  ]

  @Test(arguments: cases.map(\.program))
  func scenarioEndsInTheSpecsState(_ program: String) throws {
    let result = try Images.boot(program: program)
    #expect(result.outcome == .success, "console:\n\(result.console)")
    #expect(!result.console.contains("KERNEL PANIC"))
    for text in Self.cases.first(where: { $0.program == program })?.console ?? [] {
      #expect(result.console.contains(text), "\(program) console lacks \"\(text)\"")
    }
    let actual = try #require(Self.parse(result.console), "no REVSTATE line:\n\(result.console)")
    #expect(actual == (try Self.expected(program)), "console:\n\(result.console)")
  }

  @Test("losing a capability or a slice to another environment raises an upcall")
  func lossesAreVisible() throws {
    let result = try Images.boot(program: "revlost")
    #expect(result.outcome == .success, "console:\n\(result.console)")
    #expect(
      result.console.contains(
        "child: upcall capabilityLost(slot 41, kind 1); the table now says kind 0"),
      "console:\n\(result.console)")
    #expect(
      result.console.contains("child: upcall sliceLost(position 1); the table now says owner none"),
      "console:\n\(result.console)")
  }

  @Test("the invariant-checking kernel survives every scenario")
  func debugKernel() throws {
    let debug = try Images.report().debugKernel
    for program in Self.cases.map(\.program) + ["revlost"] {
      let result = try Images.boot(program: program, kernel: debug)
      #expect(result.outcome == .success, "\(program):\n\(result.console)")
      #expect(!result.console.contains("KERNEL PANIC"), "\(program):\n\(result.console)")
    }
  }

  @Test("the kernel's invariant check catches a planted revocation bug and names the invariant")
  func plantedRevocationBugCaught() throws {
    let result = try Images.boot(
      program: "revignore", kernel: try Images.report().plantedRevocationBugKernel)
    #expect(result.outcome == .kernelPanic, "console:\n\(result.console)")
    #expect(
      result.console.contains("KERNEL PANIC: invariant repossessedOnce"),
      "console:\n\(result.console)")
  }

  @Test("a planted difference is seen: the comparison can fail")
  func comparisonCanFail() throws {
    var wrong = try Self.expected("revignore")
    wrong["vector"] = "100,101,102"
    let result = try Images.boot(program: "revignore")
    #expect(Self.parse(result.console) != wrong)
  }
}
