import ExoHarness
import Foundation
import Testing

/// The kernel runs the spec: its images link no allocator, and no kernel
/// file outside the spec's domain writes the exported tables.
@Suite("The kernel runs the spec")
struct KernelRunsSpecTests {
  /// Symbols that mean an image can allocate at run time.
  static let allocationSymbols: Set<String> = [
    "posix_memalign", "malloc", "calloc", "realloc", "free", "aligned_alloc",
    "swift_allocObject", "swift_slowAlloc", "swift_allocEmptyBox", "swift_allocBox",
    "swift_deallocObject", "swift_slowDealloc",
  ]

  @Test("the kernel images link no allocator and no runtime allocation")
  func noAllocation() throws {
    let report = try Images.report()
    for kernel in [report.kernel, report.debugKernel] {
      let names = Set(try ELFSymbols.names(of: kernel))
      #expect(names.count > 100, "\(kernel.lastPathComponent): symbol table not read")
      #expect(names.contains("exo_syscall"), "\(kernel.lastPathComponent): no exo_syscall")
      let found = names.intersection(Self.allocationSymbols)
      #expect(found.isEmpty, "\(kernel.lastPathComponent) links \(found.sorted())")
    }
  }

  @Test("the symbol check can fail: a user program that allocates links the allocator")
  func allocationSeenWhereItIs() throws {
    // The libOS programs use Swift arrays, so their images allocate.
    let primes = try #require(try Images.report().programs["primes"])
    let names = Set(try ELFSymbols.names(of: primes))
    #expect(!names.intersection(Self.allocationSymbols).isEmpty)
  }

  @Test("no spec transition in the kernel copies memory (the state is never copied per call)")
  func noStateCopies() throws {
    let kernel = try Images.report().kernel
    let tools = URL(fileURLWithPath: try Toolchain.locate().swiftc).deletingLastPathComponent()
    let process = Process()
    process.executableURL = tools.appendingPathComponent("llvm-objdump")
    process.arguments = ["-d", "--no-show-raw-insn", kernel.path]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    // Function headers are `ADDRESS <NAME>:`; a copy is a call of memcpy
    // or memmove (the kernel's copy routines).
    var function = ""
    var specFunctions = Set<String>()
    var copying = Set<String>()
    for line in text.split(separator: "\n") {
      if line.hasSuffix(">:"), let open = line.firstIndex(of: "<") {
        function = String(line[line.index(after: open)..<line.index(line.endIndex, offsetBy: -2)])
        if function.contains("SpecState") { specFunctions.insert(function) }
      } else if line.contains("call") && (line.contains("<memcpy>") || line.contains("<memmove>")) {
        copying.insert(function)
      }
    }
    #expect(specFunctions.count > 10, "no spec functions found in the disassembly")
    // The check can fail: boot code copies (the program image, the FPU
    // template), and is seen doing so.
    #expect(!copying.isEmpty)
    let offenders = copying.intersection(specFunctions)
    #expect(offenders.isEmpty, "spec functions that copy memory: \(offenders.sorted())")
  }

  @Test("no kernel file but the spec's domain and Info writes an exported table")
  func tablesWrittenOnlyByTheSpec() throws {
    let folder = Images.project.root.appendingPathComponent("kernel/core")
    let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
      .filter { $0.hasSuffix(".swift") }.sorted()
    #expect(files.contains("Syscalls.swift"))
    var offenders: [String] = []
    for file in files where !TableWrites.allowed.contains(file) {
      let text = try String(
        contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
      offenders += TableWrites.find(in: text).map { "\(file): \($0)" }
    }
    #expect(
      offenders.isEmpty,
      "exported tables written outside the spec:\n\(offenders.joined(separator: "\n"))")
  }

  @Test(
    "the table-write check can fail",
    arguments: [
      "  Info[capability: c, .owner] = target",
      "    Info[environment: caller, .capabilities] += 1",
      "  Info[header: .ticks] &+= 1",
      "  Info.store(8, 0)",
      "  Info.current = target",
      "  PhysicalMemory.store64(Info.base + 64, 0)",
      "  copyPages(to: Info.base, from: x, count: 1)",
    ])
  func tableWriteSeen(line: String) {
    #expect(
      TableWrites.find(in: "func f() {\n\(line)\n}\n") == [
        line.trimmingCharacters(in: .whitespaces)
      ])
  }

  @Test("reads of the tables are not writes")
  func readsPass() {
    let text = """
      let owner = Info[capability: c, .owner]
      if Info[environment: e, .state] == 1 { }
      guard Info.current != none else { return }
      let address = Info.base + offset
      """
    #expect(TableWrites.find(in: text).isEmpty)
  }
}

/// Finds the lines of a kernel source that write the exported tables.
enum TableWrites {
  /// The files that may: the spec's domain (every transition), `Info`
  /// (the header's layout words) and the difftest mode's reset to the
  /// initial state.
  static let allowed: Set<String> = ["KernelDomain.swift", "Info.swift", "DiffMode.swift"]

  static let patterns = [
    #"Info\[[^\]]*\]\s*(=|\+=|-=|&\+=|&-=|\|=|&=)[^=]"#,
    #"Info\.(store|current\s*=[^=]|digest\s*=[^=])"#,
    #"store(64|32|16)?\(\s*Info\.base"#,
    #"to:\s*Info\.base"#,
  ].compactMap { try? NSRegularExpression(pattern: $0) }

  static func find(in text: String) -> [String] {
    text.split(separator: "\n").map(String.init).filter { line in
      let code = line.components(separatedBy: "//")[0]
      let range = NSRange(code.startIndex..., in: code)
      return patterns.contains { $0.firstMatch(in: code, range: range) != nil }
    }.map { $0.trimmingCharacters(in: .whitespaces) }
  }
}
