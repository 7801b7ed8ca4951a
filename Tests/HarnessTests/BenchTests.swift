import ExoABI
import ExoHarness
import Foundation
import Testing

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// A transcript in the shape the guests print: kernel lines, "\r\n" line
/// ends, one line per workload.
private func transcript(side: String, _ lines: [String], end: Bool = true) -> String {
  (["booting", "BENCH-BEGIN \(side)", "BENCH-OVERHEAD 3"] + lines + (end ? ["BENCH-END"] : []))
    .joined(separator: "\r\n") + "\r\n"
}

private let exoLines = [
  "BENCH exo.null 200 200 900 1000", "BENCH exo.exception 1800 1800 2500 1000",
  "BENCH exo.dispatch 700 700 900 1000",
  "BENCH exo.pct 1600 1600 2000 1000", "BENCH exo.page 6000 6000 7000 500",
  "BENCH exo.envcreate 70000 70000 71000 200", "BENCH exo.envcreateonly 60000 60000 61000 200",
  "BENCH exo.revoke 100000 99000 120000 1000", "BENCH exo.fork 120000 110000 130000 200",
  "BENCH exo.filterinstall 130000 129000 131000 500",
  "BENCH exo.framearrival 3400 3400 4400 500", "BENCH exo.udpecho 22000 22000 23000 200",
]
private let linuxLines = [
  "BENCH linux.getppid 400 400 400 1000", "BENCH linux.sigsegv 6000 6000 9000 1000",
  "BENCH linux.pipe 10000 10000 40000 500", "BENCH linux.mmap 20000 20000 90000 500",
  "BENCH linux.fork 150000 150000 300000 200",
]

private func exoLog() throws -> BenchLog {
  let text =
    "exo: timer running (halted for 2000000 cycles)\r\n"
    + transcript(side: "exo", ["BENCH-BOOT 5000000"] + exoLines)
  return try BenchLog.parse(text, side: "exo")
}

private func linuxLog() throws -> BenchLog {
  try BenchLog.parse(transcript(side: "linux", linuxLines), side: "linux")
}

@Suite("exo bench: parsing, pairing, JSON, chart, initramfs")
struct BenchTests {
  @Test("a transcript parses into samples; boot is the clock less the halted time")
  func parse() throws {
    let log = try exoLog()
    #expect(log.samples.count == exoLines.count)
    #expect(
      log.samples["exo.pct"] == BenchSample(median: 1600, min: 1600, max: 2000, iterations: 1000))
    #expect(log.overhead == 3)
    #expect(log.bootInstructions == 3_000_000)
  }

  @Test(
    "malformed transcripts are refused with the line and the reason",
    arguments: [
      ("BENCH exo.null 12 x 30 10", "field 4 is not a count", 4),
      ("BENCH exo.null 12 1 30", "expected BENCH <name>", 4),
      ("BENCH exo.null 12 13 30 10", "not min <= median <= max", 4),
      ("BENCH exo.null 12 1 30 0", "iterations must be positive", 4),
      ("BENCH-WHAT 1", "unknown record BENCH-WHAT", 4),
      ("BENCH-BOOT many", "field 2 is not a count", 4),
    ])
  func malformed(line: String, reason: String, number: Int) {
    do {
      _ = try BenchLog.parse(transcript(side: "exo", [line]), side: "exo")
      Issue.record("accepted \(line)")
    } catch {
      guard case .malformed(let at, _, let why) = error else {
        Issue.record("wrong error \(error)")
        return
      }
      #expect(at == number)
      #expect(why.contains(reason), "\(why)")
    }
  }

  @Test("a duplicate, a missing end, a failure, the other side's begin are refused")
  func refused() {
    #expect(throws: BenchLogError.self) {
      try BenchLog.parse(transcript(side: "exo", [exoLines[0], exoLines[0]]), side: "exo")
    }
    #expect(throws: BenchLogError.incomplete(side: "exo")) {
      try BenchLog.parse(transcript(side: "exo", exoLines, end: false), side: "exo")
    }
    #expect(throws: BenchLogError.failed(side: "exo", reasons: ["exo.pct call: busy"])) {
      try BenchLog.parse(transcript(side: "exo", ["BENCH-FAIL exo.pct call: busy"]), side: "exo")
    }
    #expect(throws: BenchLogError.self) {
      try BenchLog.parse(transcript(side: "linux", linuxLines), side: "exo")
    }
    #expect(throws: BenchLogError.noOutput(side: "exo")) {
      try BenchLog.parse("exo: booting\r\nKERNEL PANIC\r\n", side: "exo")
    }
  }

  @Test("pairs: ratio = exo / linux, targets judged; every row is measured")
  func combine() throws {
    let results = try BenchResults.combine(exo: exoLog(), linux: linuxLog())
    let null = try #require(results.pairs.first { $0.name == "null system call" })
    #expect(null.exo == 200 && null.linux == 400 && null.ratio == 0.5 && null.meetsTarget == true)
    let exception = try #require(results.pairs.first { $0.name == "exception round trip" })
    #expect(exception.ratio == 0.3 && exception.meetsTarget == false)
    let fork = try #require(results.pairs.first { $0.name == "fork" })
    #expect(fork.exo == 120_000 && fork.linux == 150_000 && fork.ratio == 0.8)
    #expect(fork.target == nil && fork.meetsTarget == nil)
    // Only the rows whose mechanism is not built yet.
    #expect(
      results.unavailable.map(\.name)
        == BenchRows.singles.filter { $0.pending != nil }.map(\.name))
    #expect(
      results.exoOnly.map(\.name) == [
        "exception dispatch only", "revocation round trip", "environment create",
        "environment create+teardown", "filter install, 15 installed", "frame arrival to owner",
        "UDP echo round trip",
      ])
    #expect(results.bootInstructions == 3_000_000)
    let table = results.table()
    #expect(table.contains("null system call") && table.contains("0.500"))
    #expect(table.contains("fork") && table.contains("0.800"))
    #expect(table.contains("not available:") == BenchRows.singles.contains { $0.pending != nil })
  }

  @Test("a figure a row needs and the guest did not print is an error")
  func missingFigure() throws {
    let exo = try BenchLog.parse(transcript(side: "exo", Array(exoLines.dropFirst())), side: "exo")
    #expect(throws: BenchCombineError.missing(side: "exo", metric: "exo.null")) {
      try BenchResults.combine(exo: exo, linux: linuxLog())
    }
    let linux = try BenchLog.parse(
      transcript(side: "linux", Array(linuxLines.dropLast())), side: "linux")
    #expect(throws: BenchCombineError.missing(side: "linux", metric: "linux.fork")) {
      try BenchResults.combine(exo: exoLog(), linux: linux)
    }
    // Without Linux the pairs are not available, and say why.
    let alone = try BenchResults.combine(exo: exoLog(), linux: nil, whyNoLinux: "no Linux")
    #expect(alone.pairs.isEmpty)
    #expect(alone.unavailable.filter { $0.reason == "no Linux" }.count == 5)
  }

  @Test("the determinism check sees a count that moved")
  func determinism() throws {
    let a = try exoLog()
    var b = a
    #expect(BenchResults.counts([a]) == BenchResults.counts([b]))
    b.samples["exo.null"]?.median += 1
    #expect(BenchResults.counts([a]) != BenchResults.counts([b]))
    var c = a
    c.halted = 1
    #expect(BenchResults.counts([a]) != BenchResults.counts([c]))
  }

  @Test("the JSON has a pairs array of name, exo, linux and ratio = exo / linux")
  func json() throws {
    let results = try BenchResults.combine(exo: exoLog(), linux: linuxLog())
    let object = try #require(
      try JSONSerialization.jsonObject(with: results.json()) as? [String: Any])
    let pairs = try #require(object["pairs"] as? [[String: Any]])
    #expect(pairs.count == 5)
    for pair in pairs {
      let name = try #require(pair["name"] as? String)
      let exo = try #require(pair["exo"] as? Double)
      let linux = try #require(pair["linux"] as? Double)
      let ratio = try #require(pair["ratio"] as? Double)
      #expect(abs(ratio - exo / linux) < 1e-12, "\(name)")
    }
    #expect(
      (object["unavailable"] as? [Any])?.count
        == BenchRows.singles.filter { $0.pending != nil }.count)
  }

  @Test("the chart is SVG with one bar per pair, from parity towards its ratio")
  func chart() throws {
    let results = try BenchResults.combine(exo: exoLog(), linux: linuxLog())
    let svg = results.svg()
    // Well-formed XML with an svg root.
    let document = try XMLDocument(data: Data(svg.utf8))
    #expect(document.rootElement()?.name == "svg")
    // The attributes, read from the text: one line per element.
    func attribute(_ name: String, _ line: Substring) -> Double? {
      guard let range = line.range(of: " \(name)=\"") else { return nil }
      return Double(line[range.upperBound...].prefix { $0 != "\"" })
    }
    let lines = svg.split(separator: "\n")
    let bars = lines.filter { $0.hasPrefix("<rect x=") }
    #expect(bars.count == results.pairs.count)
    let parity = try #require(
      lines.first { $0.hasPrefix("<line") && $0.contains("stroke=\"black\"") })
    let parityX = try #require(attribute("x1", parity))
    // Every ratio here is below 1: each bar ends at the parity line.
    for bar in bars {
      let x = try #require(attribute("x", bar))
      let width = try #require(attribute("width", bar))
      #expect(abs(x + width - parityX) < 0.2)
    }
    for pair in results.pairs { #expect(svg.contains(">\(pair.name)<")) }
  }

  @Test("the newc archive: headers, names, padding, a device node, the trailer")
  func newc() throws {
    var archive = NewcArchive()
    archive.add("dev", .directory, mode: 0o755)
    archive.add("dev/console", .characterDevice(major: 5, minor: 1), mode: 0o600)
    archive.add("init", .file(Data("#!/bin/sh\n".utf8)), mode: 0o755)
    let data = archive.finished()
    var entries: [(name: String, fields: [UInt32], body: Data)] = []
    var offset = 0
    while offset < data.count {
      let header = String(decoding: data[offset..<offset + 110], as: UTF8.self)
      #expect(header.hasPrefix("070701"))
      var fields: [UInt32] = []
      for i in 0..<13 {
        let start = header.index(header.startIndex, offsetBy: 6 + 8 * i)
        let hex = header[start..<header.index(start, offsetBy: 8)]
        fields.append(try #require(UInt32(hex, radix: 16)))
      }
      let nameSize = Int(fields[11])
      let nameStart = offset + 110
      let name = String(decoding: data[nameStart..<nameStart + nameSize - 1], as: UTF8.self)
      #expect(data[nameStart + nameSize - 1] == 0)
      var bodyStart = nameStart + nameSize
      bodyStart += (4 - bodyStart % 4) % 4
      let bodySize = Int(fields[6])
      entries.append((name, fields, data[bodyStart..<bodyStart + bodySize]))
      offset = bodyStart + bodySize
      offset += (4 - offset % 4) % 4
      if name == "TRAILER!!!" { break }
    }
    #expect(offset == data.count)
    #expect(entries.map(\.name) == ["dev", "dev/console", "init", "TRAILER!!!"])
    #expect(entries[0].fields[1] == 0o040755)
    #expect(
      entries[1].fields[1] == 0o020600 && entries[1].fields[9] == 5 && entries[1].fields[10] == 1)
    #expect(entries[2].fields[1] == 0o100755 && entries[2].body == Data("#!/bin/sh\n".utf8))
  }

  @Test("the bench program prints every figure the rows name, the same on two boots")
  func guestProgram() throws {
    let report = try Images.report()
    var options = BootOptions(kernel: report.kernel)
    options.program = "bench"
    options.kernelArguments.append(BenchRows.kernelArgument)
    options.icount = true
    options.rtcBase = BenchResults.rtcBase
    options.timeout = 60
    let first = try QEMU.boot(options)
    #expect(first.outcome == .success, "console:\n\(first.console)")
    let log = try BenchLog.parse(first.console, side: "exo")
    let results = try BenchResults.combine(exo: log, linux: nil)
    #expect(results.exoOnly.count == BenchRows.singles.filter { $0.pending == nil }.count)
    for row in BenchRows.pairs where row.pending == nil {
      #expect(log.samples[row.exoMetric] != nil, "\(row.exoMetric)")
    }
    #expect((log.bootInstructions ?? 0) > 0)
    let second = try BenchLog.parse(QEMU.boot(options).console, side: "exo")
    #expect(BenchResults.counts([log]) == BenchResults.counts([second]))
  }
}
