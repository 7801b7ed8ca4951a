import ExoABI
import ExoDiff
import ExoHarness
import ExoSpec
import Foundation
import Testing

/// The kernel images, with every planted bug, built once for the suite.
enum KernelImages {
  static let images = SuiteImages(containing: #filePath, mutants: KernelMutant.allCases)
  static var project: Project { images.project }

  static func report() throws -> BuildReport { try images.report() }
}

let kernelConfiguration = Generator.Configuration(
  bounds: .kernel, firstPage: InfoHeader.kernelFirstPage)

func kernelDiffer(_ candidate: any DiffTarget) -> Differ {
  Differ(
    reference: SpecTarget(name: "spec", bounds: .kernel, firstPage: InfoHeader.kernelFirstPage),
    candidate: candidate, bounds: .kernel, firstPage: InfoHeader.kernelFirstPage)
}

@Suite("The kernel in QEMU against the spec", .serialized)
struct KernelTargetTests {
  @Test("the kernel agrees with the spec on generated sequences, every result and digest")
  func kernelAgrees() throws {
    let target = try KernelTarget(kernel: try KernelImages.report().kernel)
    let d = kernelDiffer(target)
    var statistics = Generator.Statistics()
    for i in 0..<30 {
      let (steps, s) = Generator.sequence(
        seed: SplitMix64.derive(7, i), length: 200, configuration: kernelConfiguration)
      statistics.callsByOthers += s.callsByOthers
      for (k, v) in s.successes { statistics.successes[k, default: 0] += v }
      let divergence = try d.firstDivergence(steps)
      #expect(divergence == nil, "sequence \(i): \(divergence.map(String.init(describing:)) ?? "")")
    }
    #expect(d.digestsCompared >= 30 * 200)
    // Calls made by environments the agent started, and transfers into them.
    #expect(statistics.callsByOthers >= 50)
    #expect(statistics.successes(.environmentStart) >= 5)
    #expect(statistics.successes(.call) + statistics.successes(.send) >= 6)
    // One reset per sequence, one boot.
    #expect(target.boots == 1)
  }

  @Test("the kernel's digest is InfoDigest of its exported tables, as the spec computes it")
  func digestsAgree() throws {
    let target = try KernelTarget(kernel: try KernelImages.report().kernel)
    let (steps, _) = Generator.sequence(seed: 99, length: 300, configuration: kernelConfiguration)
    _ = try target.observe(
      steps, checkpointEvery: 300, bounds: .kernel, firstPage: InfoHeader.kernelFirstPage)
    let state = try target.state()
    let kernelDigest = try target.digest()
    #expect(state.digest == kernelDigest)
    #expect(InfoDigest.of(state.infoWords()) == kernelDigest)
    var spec = ConcreteState(bounds: .kernel, firstPage: InfoHeader.kernelFirstPage)
    for step in steps { _ = spec.kernelStep(step.transition, step.arguments) }
    #expect(spec == state)
    #expect(
      spec.digest != ConcreteState(bounds: .kernel, firstPage: InfoHeader.kernelFirstPage).digest)
  }

  @Test(
    "every planted kernel bug is found and shrunk to at most 16 calls",
    arguments: KernelMutant.allCases)
  func mutantFound(_ mutant: KernelMutant) throws {
    let report = try KernelImages.report()
    let image = try #require(report.mutantKernels[mutant])
    let d = kernelDiffer(try KernelTarget(kernel: image, name: "kernel-mutant:\(mutant.rawValue)"))
    var found: [DiffStep]?
    // The settings of CI's run (`exo difftest --seed 1 --calls 100000`).
    for i in 0..<500 where found == nil {
      let (steps, _) = Generator.sequence(
        seed: SplitMix64.derive(1, i), length: 200, configuration: kernelConfiguration)
      if try d.diverges(steps) { found = steps }
    }
    let steps = try #require(found, "\(mutant) not found in 100,000 calls")
    let shrinker = Shrinker(differ: d) { Generator.admits($0, kernelConfiguration) }
    let shrunk = try #require(try shrinker.shrink(steps))
    // A bug in the machine code may need a few more calls to set up (an
    // environment with a handler stack, a stopped one started again, a
    // page shared under another's handler stack).
    #expect(shrunk.steps.count <= 16, "\(mutant): \(shrunk.steps)")
    #expect(Generator.admits(shrunk.steps, kernelConfiguration))
    // The correct kernel runs the same calls as the spec does.
    let good = kernelDiffer(try KernelTarget(kernel: report.kernel))
    #expect(try good.firstDivergence(shrunk.steps) == nil)
  }

  @Test("the replay corpus passes on the spec, and on the kernel where it can start")
  func corpus() throws {
    let folder = KernelImages.project.root.appendingPathComponent("proofs/corpus")
    let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
      .filter { $0.hasSuffix(".json") }.sorted()
    // A replay of each of the first planted bugs (the spec patches) is kept.
    let kept = KernelMutant.allCases.filter { names.contains("kernel-mutant-\($0.rawValue).json") }
    #expect(kept.count >= 12)
    let target = try KernelTarget(kernel: try KernelImages.report().kernel)
    var onKernel = 0
    for name in names {
      let file = try ReplayFile.load(path: folder.appendingPathComponent(name).path)
      // A file with probes runs on the spec as the tester ran it: the
      // probes' stores are the page contents the spec reads.
      let spec = file.isTesterFile ? try file.runOnTesterSpec() : file.runOnSpec()
      #expect(spec.passed, "\(name) on the spec")
      let kernelCanRun =
        file.initial == .initial && file.bounds == .kernel
        && file.firstPage == InfoHeader.kernelFirstPage
        && !file.steps.contains { $0.transition == .event(.exception) }
      guard kernelCanRun else { continue }
      let report = try file.run(on: target)
      #expect(report.passed, "\(name) on the kernel: \(report.steps.filter { !$0.matches })")
      onKernel += 1
    }
    #expect(onKernel >= kept.count)
  }

  @Test("a replay of a planted bug's divergence fails on that kernel")
  func replayFailsOnTheMutant() throws {
    let report = try KernelImages.report()
    let mutant = KernelMutant.deleteLeaksPage
    let file = try ReplayFile.load(
      path: KernelImages.project.root.appendingPathComponent(
        "proofs/corpus/kernel-mutant-\(mutant.rawValue).json"
      ).path)
    let target = try KernelTarget(kernel: try #require(report.mutantKernels[mutant]))
    #expect(!(try file.run(on: target)).passed)
  }

  @Test("every planted bug is a patch that applies to the spec or the kernel exactly once")
  func mutantsPatchTheSpec() throws {
    let root = KernelImages.project.root
    let patches = KernelMutant.allCases.map(\.patch) + [.plantedMapping, .plantedRevocation]
    for patch in patches {
      let text = try String(
        contentsOf: root.appendingPathComponent(patch.path), encoding: .utf8)
      let patched = try patch.apply(to: text)
      #expect(patched != text, "\(patch.path): \(patch.find)")
    }
    // Spec bugs name the transition exoverify must catch them in.
    for m in KernelMutant.allCases { #expect((m.transition != nil) == m.patch.isSpec, "\(m)") }
    // At least two planted bugs of each class the tester must see.
    for kind in ["tables", "pageTables", "pageContents", "registers", "frames"] {
      #expect(KernelMutant.allCases.filter { $0.kind == kind }.count >= 2, "\(kind)")
    }
  }

  @Test("a patch whose text is gone from the spec is an error that says so")
  func stalePatchFails() {
    let patch = SpecPatch(file: "SpecState+Memory.swift", find: "no such text", replace: "x")
    #expect(throws: HarnessError.self) { try patch.apply(to: "let a = 1\n") }
    let twice = SpecPatch(file: "F.swift", find: "a", replace: "b")
    do {
      _ = try twice.apply(to: "a a")
      Issue.record("a patch whose text occurs twice applied")
    } catch {
      #expect("\(error)".contains("occurs 2 times"))
    }
  }
}

@Suite("Packet filters on the kernel and the spec", .serialized)
struct FilterKernelTests {
  /// The corpus replay of `installSkipsOverlapCheck`: an overlapping filter
  /// and a malformed test, refused.
  static func replay() throws -> ReplayFile {
    try ReplayFile.load(
      path: KernelImages.project.root.appendingPathComponent(
        "proofs/corpus/kernel-mutant-installSkipsOverlapCheck.json"
      ).path)
  }

  @Test("an overlapping filter is refused with overlap, a malformed one with invalidArgument")
  func refusalsOnSpecAndKernel() throws {
    let file = try Self.replay()
    let expected = file.steps.compactMap(\.expect)
    #expect(expected.contains(.error(.overlap)) && expected.contains(.error(.invalidArgument)))
    #expect(file.runOnSpec().passed)
    let target = try KernelTarget(kernel: try KernelImages.report().kernel)
    let report = try file.run(on: target)
    #expect(report.passed, "\(report.steps.filter { !$0.matches })")
  }

  @Test("the kernel whose filterInstall skips the overlap check fails the replay")
  func mutantFails() throws {
    let report = try KernelImages.report()
    let target = try KernelTarget(
      kernel: try #require(report.mutantKernels[.installSkipsOverlapCheck]))
    #expect(!(try Self.replay().run(on: target)).passed)
  }
}
