import ArgumentParser
import ExoABI
import ExoDiff
import ExoHarness
import Foundation

/// `exo bench`: the kernel paths in guest instructions next to Linux's
/// nearest equivalents, in the same QEMU with the same flags, plus host
/// figures of the tools.
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Measure kernel paths in instructions next to Linux, in the same QEMU.",
    discussion: """
      Boots the exokernel with the `bench` program and Debian's Linux kernel with a \
      busybox initramfs and a static C benchmark, both under QEMU -M microvm with \
      -icount shift=0,sleep=off (rdtsc counts instructions), and prints each path's \
      median instructions per iteration, Linux's and the ratio. Fetches the Linux \
      packages with apt-get download into .build/bench/linux on first use. Also \
      measures exoverify cold and warm, spec transitions per second and the differential \
      tester's calls per second (skip with --quick).
      """)

  @Option(help: "Write the results as JSON to this file.")
  var json: String?

  @Option(help: "Write the chart of the ratios (SVG) to this file.")
  var chart: String = ".build/bench/ratios.svg"

  @Flag(help: "Only the guest figures: skip exoverify, the spec rate and the difftest rate.")
  var quick = false

  @Flag(help: "Do not boot Linux (the pairs are then reported as not available).")
  var noLinux = false

  @Flag(help: "Boot each side twice and require the same instruction counts.")
  var checkDeterminism = false

  @Option(help: "Stop a guest after this many seconds.")
  var timeout: Double = 300

  @Option(help: "Seconds to run the spec workload for the transitions-per-second figure.")
  var specSeconds: Double = 3

  @Option(
    help: ArgumentHelp(
      "Profile instead of measure: write where each path's instructions go to this folder.",
      discussion:
        "Boots the bench program once with fewer iterations under QEMU's -d in_asm,exec,nochain "
        + "trace and prints, per path, the top functions and blocks by instructions per "
        + "iteration (FOLDER/profile.txt)."))
  var profile: String?

  @Option(help: "With --profile: how many functions and blocks to list per path.")
  var top: Int = 15

  @Flag(help: "With --profile: keep QEMU's trace (FOLDER/trace.log, hundreds of MB).")
  var keepTrace = false

  func validate() throws {
    guard timeout > 0 else { throw ValidationError("--timeout must be positive, got \(timeout)") }
    guard specSeconds > 0 else {
      throw ValidationError("--spec-seconds must be positive, got \(specSeconds)")
    }
    guard top > 0 else { throw ValidationError("--top must be positive, got \(top)") }
    guard chart.hasSuffix(".svg") else {
      throw ValidationError("--chart must name an .svg file, got \(chart)")
    }
  }

  func run() throws {
    let project: Project
    do { project = try Project.locate() } catch {
      note("error: \(error)")
      throw ExitCode.failure
    }
    let report = try buildImages(quiet: true)
    guard report.programs["bench"] != nil else {
      note("error: the image has no user program 'bench'")
      throw ExitCode.failure
    }
    var options = BootOptions(kernel: report.kernel)
    options.program = "bench"
    // Frames arrive from the bench program itself (`diffLoopback`).
    options.kernelArguments.append(BenchRows.kernelArgument)
    options.icount = true
    options.timeout = timeout
    // Linux reads the date at boot and seeds its random pool with it; a
    // fixed date on the virtual clock makes its counts repeatable.
    options.rtcBase = BenchResults.rtcBase
    if let profile {
      try runProfile(options, report: report, folder: profile)
      return
    }
    let runs = checkDeterminism ? 2 : 1

    var exoLogs: [BenchLog] = []
    for i in 0..<runs {
      note("booting the exokernel with the bench program\(runs > 1 ? " (run \(i + 1))" : "")")
      exoLogs.append(try guestRun(options, side: "exo"))
    }

    var linuxLogs: [BenchLog] = []
    var linuxKernel: String?
    var linuxOptions = options
    if !noLinux {
      let peer = LinuxPeer(project: project) { note($0) }
      let prepared: LinuxPeer.Prepared
      do { prepared = try peer.prepare() } catch {
        note("error: preparing Linux: \(error)")
        note("(`exo bench --no-linux` measures the exokernel alone)")
        throw ExitCode.failure
      }
      linuxKernel = prepared.kernelPackage
      linuxOptions.kernel = prepared.kernel
      linuxOptions.initrd = prepared.initrd
      linuxOptions.program = nil
      linuxOptions.commandLine = LinuxPeer.commandLine
      for i in 0..<runs {
        note(
          "booting \(prepared.kernelPackage) with the benchmark\(runs > 1 ? " (run \(i + 1))" : "")"
        )
        linuxLogs.append(try guestRun(linuxOptions, side: "linux"))
      }
    }

    var results: BenchResults
    do {
      results = try BenchResults.combine(
        exo: exoLogs[0], linux: linuxLogs.first, whyNoLinux: "Linux not run (--no-linux)")
    } catch {
      note("error: \(error)")
      throw ExitCode.failure
    }
    results.linuxKernel = linuxKernel
    // The QEMU arguments both sides share (all but the image and its
    // command line).
    var shared = options
    shared.program = nil
    let arguments = shared.arguments()
    if let k = arguments.firstIndex(of: "-kernel") {
      results.qemu = Array(arguments[..<k] + arguments[(k + 2)...])
    }
    if checkDeterminism {
      let first = BenchResults.counts([exoLogs[0]] + linuxLogs.prefix(1))
      let second = BenchResults.counts([exoLogs[1]] + linuxLogs.dropFirst().prefix(1))
      results.deterministic = first == second
      if first != second {
        for name in Set(first.keys).union(second.keys).sorted() where first[name] != second[name] {
          note(
            "not deterministic: \(name): \(first[name].map { "\($0)" } ?? "-") then \(second[name].map { "\($0)" } ?? "-")"
          )
        }
      }
    }

    if !quick {
      results.host += try hostFigures()
      results.host.append(try difftestRate(kernel: report.kernel))
    } else {
      results.unavailable.append(
        BenchResults.Unavailable(
          name: "differential-test calls per second",
          reason:
            "skipped under --quick (a host figure: \(Self.difftestCalls) calls against the kernel"
            + " in QEMU, \(Self.difftestJobs) jobs; the full exo bench measures it)",
          linux: nil))
    }

    print(results.table(), terminator: "")
    if let json {
      do {
        try results.json().write(to: URL(fileURLWithPath: json))
        note("wrote \(json)")
      } catch {
        note("error: cannot write \(json): \(error)")
        throw ExitCode.failure
      }
    }
    let chartURL = URL(fileURLWithPath: chart)
    do {
      try FileManager.default.createDirectory(
        at: chartURL.deletingLastPathComponent(), withIntermediateDirectories: true)
      try Data(results.svg().utf8).write(to: chartURL)
      note("wrote \(chart)")
    } catch {
      note("error: cannot write \(chart): \(error)")
      throw ExitCode.failure
    }
    if results.deterministic == false { throw ExitCode.failure }
  }

  /// `--profile FOLDER`: one traced boot of the bench program, the
  /// instructions of each path by function and block.
  func runProfile(_ base: BootOptions, report: BuildReport, folder: String) throws {
    let folderURL = URL(fileURLWithPath: folder)
    let traceURL = folderURL.appendingPathComponent("trace.log")
    do {
      try FileManager.default.createDirectory(at: folderURL, withIntermediateDirectories: true)
    } catch {
      note("error: cannot create \(folder): \(error)")
      throw ExitCode.failure
    }
    guard let program = report.programs["bench"] else { throw ExitCode.failure }
    var options = base
    options.kernelArguments.append(BenchProfile.kernelArgument)
    options.extraArguments += BenchProfile.qemuArguments(log: traceURL.path)
    note("booting the bench program under QEMU's execution trace (\(traceURL.path))")
    let result: BootResult
    do { result = try QEMU.boot(options) } catch {
      note("error: \(error)")
      throw ExitCode.failure
    }
    guard result.outcome == .success else {
      FileHandle.standardError.write(Data(result.console.suffix(3000).utf8))
      note("error: the traced guest: \(result.outcome.summary)")
      throw ExitCode.failure
    }
    let profileResult: BenchProfile
    let symbolizer: BenchProfile.Symbolizer
    do {
      symbolizer = BenchProfile.Symbolizer(
        kernel: try ELFSymbols.symbols(of: report.kernel),
        program: try ELFSymbols.symbols(of: program))
      profileResult = try BenchProfile.analyze(
        trace: traceURL, console: result.console, symbolizer: symbolizer)
    } catch {
      note("error: \(error)")
      throw ExitCode.failure
    }
    if !keepTrace { try? FileManager.default.removeItem(at: traceURL) }
    let text = demangled(profileResult.report(top: top, symbolizer: symbolizer))
    let out = folderURL.appendingPathComponent("profile.txt")
    do { try Data(text.utf8).write(to: out) } catch {
      note("error: cannot write \(out.path): \(error)")
      throw ExitCode.failure
    }
    print(text, terminator: "")
    note("wrote \(out.path)")
  }

  /// `text` with its Swift symbols demangled (`swift demangle --simplified`),
  /// or as it is if the demangler cannot run.
  func demangled(_ text: String) -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["swift", "demangle", "--simplified"]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return text }
    let writer = Thread {
      input.fileHandleForWriting.write(Data(text.utf8))
      try? input.fileHandleForWriting.close()
    }
    writer.start()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0, !data.isEmpty else { return text }
    return String(decoding: data, as: UTF8.self)
  }

  /// Boots one guest and parses its benchmark output.
  func guestRun(_ options: BootOptions, side: String) throws -> BenchLog {
    let result: BootResult
    do {
      result = try QEMU.boot(options)
    } catch {
      note("error: \(error)")
      throw ExitCode.failure
    }
    guard result.outcome == .success else {
      FileHandle.standardError.write(Data(result.console.suffix(3000).utf8))
      note("error: the \(side) guest: \(result.outcome.summary)")
      throw ExitCode.failure
    }
    do {
      let log = try BenchLog.parse(result.console, side: side)
      note("\(side): \(log.samples.count) figures in \(String(format: "%.1f", result.seconds)) s")
      return log
    } catch {
      FileHandle.standardError.write(Data(result.console.suffix(3000).utf8))
      note("error: \(error)")
      throw ExitCode.failure
    }
  }

  /// exoverify cold and warm, and the spec's transitions per second.
  func hostFigures() throws -> [BenchResults.HostFigure] {
    #if DEBUG
      let configuration = "debug"
    #else
      let configuration = "release"
    #endif
    var figures: [BenchResults.HostFigure] = []
    note("spec transitions per second (\(specSeconds) s)")
    let rate = try SpecWorkload.measure(seconds: specSeconds)
    figures.append(
      BenchResults.HostFigure(
        name: "spec transitions per second", value: rate.perSecond, unit: "1/s",
        note: "\(configuration) build, Bounds.kernel"))

    let exoverify = try exoverifyBinary(configuration)
    let cache = FileManager.default.currentDirectoryPath + "/.build/bench/exoverify-cache"
    try? FileManager.default.removeItem(atPath: cache)
    for (name, label) in [
      ("exoverify cold", "empty proof cache"), ("exoverify warm", "cache from the cold run"),
    ] {
      note("\(name): \(exoverify.lastPathComponent) --cache-folder \(cache)")
      let start = Date()
      let process = Process()
      process.executableURL = exoverify
      process.arguments = ["--cache-folder", cache]
      process.standardOutput = FileHandle.nullDevice
      process.standardError = FileHandle.nullDevice
      do { try process.run() } catch {
        note("error: cannot run \(exoverify.path): \(error)")
        throw ExitCode.failure
      }
      process.waitUntilExit()
      guard process.terminationStatus == 0 else {
        note("error: \(name) failed with status \(process.terminationStatus)")
        throw ExitCode.failure
      }
      figures.append(
        BenchResults.HostFigure(
          name: name, value: Date().timeIntervalSince(start), unit: "s",
          note: "\(configuration) build, \(label), all obligations"))
    }
    return figures
  }

  /// The fixed differential test whose rate `exo bench` reports.
  static let difftestCalls = 20_000
  static let difftestJobs = 2
  static let difftestSeed: UInt64 = 1

  /// Calls compared per second by the differential tester, in process:
  /// `exo difftest --seed 1 --calls 20000 --jobs 2` against `kernel` (two
  /// QEMU instances, booted before the clock starts). A divergence is an
  /// error: the figure would not be of a correct run.
  func difftestRate(kernel: URL) throws -> BenchResults.HostFigure {
    #if DEBUG
      let configuration = "debug"
    #else
      let configuration = "release"
    #endif
    let calls = Self.difftestCalls
    let jobs = Self.difftestJobs
    note("differential test: seed \(Self.difftestSeed), \(calls) calls, \(jobs) jobs")
    let firstPage = InfoHeader.kernelFirstPage
    var workers: [Differ] = []
    for _ in 0..<jobs {
      let candidate: KernelTarget
      do { candidate = try KernelTarget(kernel: kernel) } catch {
        note("error: cannot start the kernel for the differential test: \(error)")
        throw ExitCode.failure
      }
      workers.append(
        Differ(
          reference: SpecTarget(name: "spec", bounds: .kernel, firstPage: firstPage),
          candidate: candidate, bounds: .kernel, firstPage: firstPage, checkpointEvery: 1))
    }
    let outcome = DiffTest.runSequences(
      workers: workers,
      configuration: Generator.Configuration(
        bounds: .kernel, firstPage: firstPage, hostileFraction: 0.15),
      seed: Self.difftestSeed, length: 200, calls: calls, timeBudget: nil)
    if let error = outcome.pool.error {
      note("error: the differential test's target failed: \(error)")
      throw ExitCode.failure
    }
    if let found = outcome.pool.divergence {
      note(
        "error: the differential test diverged in sequence \(found.index) "
          + "(exo difftest --seed \(Self.difftestSeed) --calls \(calls) shows it)")
      throw ExitCode.failure
    }
    return BenchResults.HostFigure(
      name: "differential-test calls per second", value: outcome.rate, unit: "1/s",
      note:
        "\(configuration) build, seed \(Self.difftestSeed), \(outcome.compared) calls, \(jobs) jobs,"
        + " results and digests after every call")
  }

  /// The exoverify next to this exo, built if missing.
  func exoverifyBinary(_ configuration: String) throws -> URL {
    let here = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    let candidate = here.deletingLastPathComponent().appendingPathComponent("exoverify")
    if !FileManager.default.isExecutableFile(atPath: candidate.path) {
      note("building exoverify (\(configuration))")
      let process = Process()
      process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      process.arguments = ["swift", "build", "-c", configuration, "--product", "exoverify"]
      try process.run()
      process.waitUntilExit()
      guard process.terminationStatus == 0,
        FileManager.default.isExecutableFile(atPath: candidate.path)
      else {
        note("error: cannot build exoverify (swift build -c \(configuration) --product exoverify)")
        throw ExitCode.failure
      }
    }
    return candidate
  }
}
