import ExoHarness
import Foundation
import Testing

/// `exo bench --profile` reads QEMU's `-d in_asm,exec,nochain` log: a
/// synthetic log in that shape, with kernel and program symbols.
@Suite struct BenchProfileTests {
  typealias Symbol = ELFSymbols.Symbol

  static let kernel = [
    Symbol(name: "kernel_entry", address: 0x10_0000, size: 0, type: 0),
    Symbol(name: "kernel_work", address: 0x10_0100, size: 0x100, type: 2),
  ]
  static let program = [
    Symbol(name: "exo_profile_begin", address: 0x80_0000_0010, size: 0, type: 0),
    Symbol(name: "exo_profile_end", address: 0x80_0000_0020, size: 0, type: 0),
    Symbol(name: "exo_profile_next", address: 0x80_0000_0030, size: 0, type: 0),
    Symbol(name: "user_loop", address: 0x80_0000_0100, size: 0x80, type: 2),
  ]

  /// A translation of `count` instructions at `pc` (host address `host`).
  static func translation(_ pc: UInt64, _ count: Int) -> String {
    "----------------\nIN: \n"
      + (0..<count).map { "0x\(String(pc + UInt64($0), radix: 16)):  90  nop\n" }.joined()
      + "\n"
  }

  static func trace(_ host: UInt64, _ pc: UInt64) -> String {
    "Trace 0: 0x\(String(host, radix: 16)) [0000000000000000/\(String(format: "%016llx", pc))/"
      + "00000040/ff020200] \n"
  }

  /// One iteration: begin, the user loop's block, the kernel's, end.
  static func iteration(first: Bool) -> String {
    var text = ""
    if first { text += translation(0x80_0000_0010, 1) }
    text += trace(0x7000_0010, 0x80_0000_0010)
    if first { text += translation(0x80_0000_0100, 4) }
    text += trace(0x7000_0100, 0x80_0000_0100)
    if first { text += translation(0x10_0104, 10) }
    text += trace(0x7000_0200, 0x10_0104)
    if first { text += translation(0x80_0000_0020, 1) }
    text += trace(0x7000_0020, 0x80_0000_0020)
    return text
  }

  func analyze(_ log: String, console: String) throws -> BenchProfile {
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("exo-profile-\(UUID().uuidString).log")
    try Data(log.utf8).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    return try BenchProfile.analyze(
      trace: url, console: console,
      symbolizer: BenchProfile.Symbolizer(kernel: Self.kernel, program: Self.program))
  }

  @Test("blocks count their translation's instructions; the first iteration is left out")
  func counts() throws {
    // Boot: 7 kernel instructions before the first user block.
    var log = Self.translation(0x10_0000, 7) + Self.trace(0x7000_0000, 0x10_0000)
    log += Self.iteration(first: true)
    log += Self.iteration(first: false) + Self.iteration(first: false)
    log += Self.translation(0x80_0000_0030, 1) + Self.trace(0x7000_0030, 0x80_0000_0030)
    let profile = try analyze(log, console: "BENCH-BEGIN exo\r\nBENCH exo.null 14 14 14 3\r\n")
    #expect(profile.paths.map(\.name) == ["boot", "exo.null"])
    #expect(profile.paths[0].instructions == 7)
    let path = profile.paths[1]
    #expect(path.iterations == 2)
    #expect(path.instructions == 28)
    #expect(path.kernelInstructions == 20)
    #expect(path.functions == ["kernel_work": 20, "user_loop": 8])
    #expect(path.perIteration == 14)
    let report = profile.report(
      top: 5, symbolizer: BenchProfile.Symbolizer(kernel: Self.kernel, program: Self.program))
    #expect(report.contains("== exo.null: 14.0 instructions per iteration"))
    #expect(report.contains("kernel_work+0x4"))
  }

  @Test("a trace whose workloads do not match the console's BENCH lines is refused")
  func mismatch() throws {
    let log =
      Self.translation(0x10_0000, 7) + Self.trace(0x7000_0000, 0x10_0000)
      + Self.iteration(first: true)
      + Self.translation(0x80_0000_0030, 1) + Self.trace(0x7000_0030, 0x80_0000_0030)
    #expect(throws: HarnessError.self) {
      try analyze(log, console: "BENCH exo.null 14 14 14 3\r\nBENCH exo.pct 9 9 9 3\r\n")
    }
  }
}
