import Foundation

/// `exo bench --profile`: where each benchmark path's instructions go.
///
/// The bench program runs under QEMU with `-d in_asm,exec,nochain`: QEMU
/// logs every translated block with its instructions (`IN:`) and, with
/// chaining off, every execution of a block (`Trace`). A block's
/// instruction count is read from its translation; each execution adds it
/// to the function (kernel or bench ELF symbol) that holds the block's
/// first address. The bench program calls three marker functions
/// (kernel/user/programs/bench/profile.S) outside its timed regions:
/// `exo_profile_begin`/`exo_profile_end` around each timed iteration and
/// `exo_profile_next` when a workload reports its `BENCH` line; the
/// profile of the n-th workload is what ran between its markers, its name
/// the n-th `BENCH` line's. The first iteration of each workload is left
/// out (it warms what later iterations find ready). Everything before the
/// first instruction of the user program is the boot path.
///
/// Block-granular counts over-count a block cut short by a fault (the
/// faulting instruction and the rest of its block are counted); each
/// path's total is printed next to its `BENCH` median so the difference
/// shows.
public struct BenchProfile: Sendable {
  /// One path: its instructions in all counted iterations, by function
  /// and by block.
  public struct Path: Sendable {
    public var name: String
    /// The iterations counted (all but the first; 1 for boot).
    public var iterations = 0
    public var instructions: UInt64 = 0
    public var kernelInstructions: UInt64 = 0
    /// Instructions by function name (mangled).
    public var functions: [String: UInt64] = [:]
    /// Instructions by block start address.
    public var blocks: [UInt64: UInt64] = [:]

    public init(name: String) { self.name = name }

    public var perIteration: Double {
      iterations == 0 ? 0 : Double(instructions) / Double(iterations)
    }
  }

  public var paths: [Path]
  /// The `BENCH` medians of the profiled run, by name.
  public var medians: [String: UInt64]

  /// QEMU's options for the trace the profile reads.
  public static func qemuArguments(log: String) -> [String] {
    ["-d", "in_asm,exec,nochain", "-D", log]
  }

  /// The kernel command-line word that makes the bench program run
  /// `Profile.iterations` iterations per workload.
  public static let kernelArgument = "arg=1"

  static let markerBegin = "exo_profile_begin"
  static let markerEnd = "exo_profile_end"
  static let markerNext = "exo_profile_next"

  /// Maps addresses to the kernel's and the program's functions.
  public struct Symbolizer: Sendable {
    var starts: [UInt64] = []
    var symbols: [ELFSymbols.Symbol] = []
    /// The program's lowest code address: the kernel's code lies below.
    var programStart: UInt64

    public init(kernel: [ELFSymbols.Symbol], program: [ELFSymbols.Symbol]) {
      func code(_ s: ELFSymbols.Symbol) -> Bool {
        (s.type == 0 || s.type == 2) && s.address != 0 && !s.name.hasPrefix(".")
          && !s.name.hasPrefix("$x") && !s.name.hasPrefix("__")
      }
      var all = (kernel + program).filter(code)
      all.sort { ($0.address, $1.size) < ($1.address, $0.size) }
      for s in all where starts.last != s.address {
        starts.append(s.address)
        symbols.append(s)
      }
      programStart = program.filter(code).map(\.address).min() ?? .max
    }

    /// The index of the symbol at or below `pc`.
    func index(_ pc: UInt64) -> Int? {
      var low = 0
      var high = starts.count
      while low < high {
        let mid = (low + high) / 2
        if starts[mid] <= pc { low = mid + 1 } else { high = mid }
      }
      return low == 0 ? nil : low - 1
    }

    /// The function holding `pc` (an assembly label holds everything up to
    /// the next symbol), or its address.
    public func function(_ pc: UInt64) -> String {
      guard let i = index(pc) else { return hex(pc) }
      let s = symbols[i]
      if s.size == 0 || pc < s.address + s.size { return s.name }
      return hex(pc)
    }

    /// `function+offset`.
    public func location(_ pc: UInt64) -> String {
      guard let i = index(pc) else { return hex(pc) }
      let s = symbols[i]
      return "\(s.name)+0x\(String(pc - s.address, radix: 16))"
    }

    public func address(of name: String) -> UInt64? {
      symbols.first { $0.name == name }?.address
    }

    public func isKernel(_ pc: UInt64) -> Bool { pc < programStart }
  }

  /// Reads the trace at `trace` of a run whose console output is
  /// `console`.
  public static func analyze(trace: URL, console: String, symbolizer: Symbolizer)
    throws(HarnessError) -> BenchProfile
  {
    func failed(_ why: String) -> HarnessError {
      .buildFailed(step: "exo bench --profile", output: why)
    }
    guard let begin = symbolizer.address(of: markerBegin),
      let end = symbolizer.address(of: markerEnd), let next = symbolizer.address(of: markerNext)
    else { throw failed("the bench program has no \(markerBegin)/\(markerEnd)/\(markerNext)") }
    var names: [String] = []
    var medians: [String: UInt64] = [:]
    for line in console.split(whereSeparator: \.isNewline) where line.hasPrefix("BENCH ") {
      let words = line.split(separator: " ")
      guard words.count >= 3 else { continue }
      names.append(String(words[1]))
      medians[String(words[1])] = UInt64(words[2])
    }
    guard let data = try? Data(contentsOf: trace, options: .alwaysMapped) else {
      throw failed("cannot read the trace \(trace.path)")
    }

    var boot = Path(name: "boot")
    boot.iterations = 1
    var paths: [Path] = []
    var booting = true
    var inRegion = false
    var iteration = 0
    var workload = 0
    var problem: String?

    func record(_ pc: UInt64, _ n: UInt64) {
      if booting {
        if symbolizer.isKernel(pc) {
          boot.instructions += n
          boot.kernelInstructions += n
          boot.functions[symbolizer.function(pc), default: 0] += n
          boot.blocks[pc, default: 0] += n
          return
        }
        booting = false
      }
      switch pc {
      case begin:
        if inRegion { problem = problem ?? "\(markerBegin) twice without \(markerEnd)" }
        inRegion = true
        iteration += 1
        if workload == paths.count {
          paths.append(
            Path(name: workload < names.count ? names[workload] : "workload \(workload)"))
        }
        if iteration > 1 { paths[workload].iterations += 1 }
      case end:
        inRegion = false
      case next:
        if inRegion { problem = problem ?? "\(markerNext) inside a timed region" }
        if workload == paths.count {
          paths.append(
            Path(name: workload < names.count ? names[workload] : "workload \(workload)"))
        }
        workload += 1
        iteration = 0
      default:
        guard inRegion && iteration > 1 else { return }
        paths[workload].instructions += n
        if symbolizer.isKernel(pc) { paths[workload].kernelInstructions += n }
        paths[workload].functions[symbolizer.function(pc), default: 0] += n
        paths[workload].blocks[pc, default: 0] += n
      }
    }

    // One pass over the log. `IN:` starts a translation: its lines that
    // begin with `0x` are its instructions, up to an empty line. The first
    // `Trace` of that block's address after it gives the translation's
    // host address, the key of its count from then on.
    var blockSizes: [UInt64: UInt64] = [:]
    var pendingPC: UInt64? = nil
    var pendingCount: UInt64 = 0
    var inTranslation = false
    data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
      let bytes = raw.bindMemory(to: UInt8.self)
      let count = bytes.count
      var at = 0
      func hexValue(_ from: Int) -> (UInt64, Int) {
        var i = from
        var value: UInt64 = 0
        while i < count {
          let c = bytes[i]
          let digit: UInt8
          if c >= 48 && c <= 57 {
            digit = c - 48
          } else if c >= 97 && c <= 102 {
            digit = c - 87
          } else {
            break
          }
          value = value << 4 | UInt64(digit)
          i += 1
        }
        return (value, i)
      }
      while at < count {
        var lineEnd = at
        while lineEnd < count && bytes[lineEnd] != 10 { lineEnd += 1 }
        let length = lineEnd - at
        if length >= 6 && bytes[at] == 84 && bytes[at + 1] == 114 && bytes[at + 5] == 32 {
          // "Trace N: 0xHOST [CSBASE/PC/FLAGS/CFLAGS] symbol"
          inTranslation = false
          var i = at + 6
          while i < lineEnd && bytes[i] != 120 { i += 1 }  // the x of 0x
          let (host, afterHost) = hexValue(i + 1)
          i = afterHost
          while i < lineEnd && bytes[i] != 47 { i += 1 }  // the first /
          let (pc, _) = hexValue(i + 1)
          if let p = pendingPC, p == pc {
            blockSizes[host] = pendingCount
            pendingPC = nil
          }
          record(pc, blockSizes[host] ?? 1)
        } else if length >= 3 && bytes[at] == 73 && bytes[at + 1] == 78 && bytes[at + 2] == 58 {
          inTranslation = true  // "IN:"
          pendingPC = nil
          pendingCount = 0
        } else if inTranslation {
          if length == 0 {
            inTranslation = false
          } else if length > 2 && bytes[at] == 48 && bytes[at + 1] == 120 {
            if pendingCount == 0 { pendingPC = hexValue(at + 2).0 }
            pendingCount += 1
          }
        }
        at = lineEnd + 1
      }
    }
    if let problem { throw failed(problem) }
    guard paths.count == names.count else {
      throw failed(
        "the trace has \(paths.count) workloads and the console \(names.count) BENCH lines")
    }
    return BenchProfile(paths: [boot] + paths, medians: medians)
  }

  /// The report: per path, its instructions per iteration, then the top
  /// functions and blocks. `name` turns a mangled symbol into a readable
  /// one.
  public func report(
    top: Int, symbolizer: Symbolizer, name: (String) -> String = { $0 }
  ) -> String {
    var text = ""
    func figure(_ v: Double) -> String { String(format: "%10.1f", v) }
    for path in paths {
      let iterations = Double(max(path.iterations, 1))
      text +=
        "== \(path.name): \(String(format: "%.1f", path.perIteration)) instructions per iteration"
      text += " (\(path.iterations) iteration\(path.iterations == 1 ? "" : "s") traced"
      if let median = medians[path.name] { text += "; BENCH median \(median)" }
      text += "), kernel \(String(format: "%.1f", Double(path.kernelInstructions) / iterations))\n"
      text += "  per iteration      %  function\n"
      for (function, n) in path.functions.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) })
        .prefix(top)
      {
        let share = path.instructions == 0 ? 0 : 100 * Double(n) / Double(path.instructions)
        text +=
          "  \(figure(Double(n) / iterations)) \(String(format: "%5.1f", share))  \(name(function))\n"
      }
      text += "  hottest blocks:\n"
      for (pc, n) in path.blocks.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }).prefix(top)
      {
        text +=
          "  \(figure(Double(n) / iterations))         \(hex(pc)) \(name(symbolizer.location(pc)))\n"
      }
      text += "\n"
    }
    return text
  }
}

private func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
