import ExoABI
import ExoProofs
import ExoSpec
import ExoVerify
import Foundation
import Testing

@Suite("exoverify")
struct VerifyTests {
  let verifier = Verifier(timeoutMilliseconds: 120_000)

  @Test("the initial state satisfies every invariant", arguments: Invariant.allCases)
  func initialState(_ invariant: Invariant) {
    let report = verifier.check(.initial(invariant))
    #expect(report.verdict == .proved, "\(report.detail ?? "")")
  }

  @Test(
    "transitions preserve invariants (a sample; the exoverify run in CI checks all)",
    arguments: [
      Obligation.preserves(.call(.pageMap), .bindingBacked),
      .preserves(.call(.capabilityDerive), .childrenCountExact),
      .preserves(.call(.pageUnmap), .mappingsCountExact),
      .preserves(.call(.exit), .pendingCallsLive),
      .errorUnchanged(.call(.capabilityGrant)),
    ])
  func preservation(_ obligation: Obligation) {
    let report = verifier.check(obligation)
    #expect(report.verdict == .proved, "\(obligation): \(report.detail ?? "")")
  }

  @Test(
    "the packet-filter theorems are proved (a sample; the exoverify run proves all)",
    arguments: [
      FilterTheorem.decoderExact, .errorNamesTest, .disagreeingTestsExclusive,
      .testHoldsBytewise, .witnessBytesAgree, .overlapSound,
    ])
  func packetFilter(_ theorem: FilterTheorem) {
    let report = verifier.check(.packetFilter(theorem))
    #expect(report.verdict == .proved, "\(theorem): \(report.detail ?? "")")
  }

  @Test("every invariant holds on the final state of the sample replay (kernel bounds)")
  func invariantsHoldOnSample() throws {
    let file = try ReplayFile.load(path: samplePath)
    var state = file.initialState
    for step in file.steps { _ = state.step(step.transition, step.arguments) }
    for invariant in Invariant.allCases { #expect(invariant.holds(in: state), "\(invariant)") }
  }

  @Test("every invariant holds on every state of random runs at the proof bounds")
  func invariantsHoldOnRandomRuns() {
    for seed in 1...20 {
      var walk = RandomWalk(seed: UInt64(seed))
      for _ in 0..<150 {
        let (transition, arguments, state) = walk.step()
        for invariant in Invariant.allCases where !invariant.holds(in: state) {
          Issue.record("\(invariant) broken after \(transition)\(arguments) (seed \(seed))")
          return
        }
      }
    }
  }

  @Test("each invariant is violated by some corrupted reachable state (none is vacuous)")
  func invariantsCanFail() {
    var caught = Set<Invariant>()
    var goods: [ConcreteState] = (1...10).map { seed in
      var walk = RandomWalk(seed: UInt64(seed))
      for _ in 0..<100 { _ = walk.step() }
      return walk.state
    }
    goods.append(abortingState())
    goods.append(filteringState())
    for good in goods {
      for i in good.words.indices {
        for delta: UInt64 in [1, .max, 0x55] {
          var words = good.words
          words[i] = words[i] &+ delta
          let bad = ConcreteState(bounds: good.bounds, firstPage: good.firstPage, words: words)
          for invariant in Invariant.allCases where !caught.contains(invariant) {
            if !invariant.holds(in: bad) { caught.insert(invariant) }
          }
        }
      }
    }
    let uncaught = Set(Invariant.allCases).subtracting(caught)
    #expect(uncaught.isEmpty, "never violated: \(uncaught.map(\.name))")
  }

  /// A state at the proof bounds in the middle of an abort: environment 1
  /// held three one-page runs, was asked for all three, ignored it, and
  /// two have been repossessed.
  func abortingState() -> ConcreteState {
    let fp: UInt64 = 0x100
    var s = ConcreteState(bounds: verifier.bounds, firstPage: fp)
    let steps: [(Transition, [UInt64])] = [
      (.call(.environmentCreate), [1, 0]),
      (.call(.environmentStart), [1, 0, UserLayout.imageBase, UserLayout.stackTop]),
      (.call(.yieldTo), [1]), (.call(.pageAllocate), [fp, 1, 1]),
      (.call(.pageAllocate), [fp + 1, 1, 2]), (.call(.pageAllocate), [fp + 2, 1, 3]),
      (.call(.pageMap), [1, ExoABI.none, 1, fp, 0, 1]), (.call(.yield), []), (.event(.tick), []),
      (.call(.revocationRequest), [1, 0, 3, 1]), (.event(.tick), []),
      (.event(.revocationDeadline), [1]), (.event(.revocationAbort), [1]),
      (.event(.revocationAbort), [1]),
    ]
    for (t, a) in steps {
      let r = s.step(t, a)
      #expect(r.status == 0, "\(t)\(a): \(r)")
    }
    #expect(s.revocations.phase[1] == RevocationPhase.aborting.rawValue)
    #expect(s.revocations.repossessed[1] == 2)
    return s
  }

  @Test(
    "every mutant is caught with a counterexample whose replay passes on the correct spec and not on the mutant",
    arguments: Mutant.provable)
  func mutantCaught(_ mutant: Mutant) throws {
    let fast = Verifier(bounds: verifier.bounds, timeoutMilliseconds: 120_000)
    let report = try #require(fast.catchMutant(mutant), "\(mutant) escaped")
    let example = try #require(report.counterexample)
    if let filters = example.filters {
      // A mutant of the packet-filter check changes no transition: its
      // counterexample is two filters and a frame, which a replay file (a
      // sequence of calls) cannot hold. What a replay would show is checked
      // here directly: both filters are well formed and the frame matches
      // both, the correct check says they overlap, the mutant's says not.
      #expect(mutant.transition == nil)
      let a = try PacketFilter(words: filters.a)
      let b = try PacketFilter(words: filters.b)
      #expect(a.matches(frame: filters.frame) && b.matches(frame: filters.frame))
      #expect(filters.frame.count <= PacketFilter.maximumFrameLength)
      let d = ConcreteDomain()
      #expect(d.filtersOverlap({ a.word($0) }, { b.word($0) }))
      #expect(!mutant.filtersOverlap(d, { a.word($0) }, { b.word($0) }))
      #expect(!filters.overlapSays)
      return
    }
    let transition = try #require(example.transition)
    // The correct spec on the counterexample's pre-state.
    var correct = example.pre
    let correctResult = correct.step(transition, example.arguments)
    // The mutated spec on the same pre-state.
    var mutated = example.pre
    let mutatedResult = mutant.applyConcrete(transition, to: &mutated, example.arguments)
    // The replay file built like exoverify's writer passes on the correct spec.
    let file = ReplayFile(
      bounds: example.pre.bounds, firstPage: example.pre.firstPage, initial: .state(example.pre),
      steps: [ReplayStep(transition, example.arguments, expect: ReplayExpectation(correctResult))],
      final: correct)
    let decoded = try ReplayFile.decode(json: file.encodedJSON())
    #expect(decoded.runOnSpec().passed)
    // On the mutant, the file's expected result or final state is not met.
    let step = try #require(decoded.steps.first)
    #expect(step.expect?.matches(mutatedResult) == false || decoded.final != mutated)
  }

  @Test(
    "the depth mutants are proved correct at depth 2: only the depth-3 bounds catch them",
    arguments: Mutant.depthMutants)
  func depthMutantEscapesAtDepthTwo(_ mutant: Mutant) {
    #expect(verifier.bounds.maximumDepth == 3 && Verifier.twoLevelBounds.maximumDepth == 2)
    // The obligation that catches it at the proof bounds (mutantCaught).
    let shallow = Verifier(
      bounds: Verifier.twoLevelBounds, timeoutMilliseconds: 120_000, mutant: mutant)
    let report = shallow.check(mutant.firstTried)
    #expect(report.verdict == .proved, "\(mutant): \(report.verdict) \(report.detail ?? "")")
    let deep = Verifier(bounds: verifier.bounds, timeoutMilliseconds: 120_000, mutant: mutant)
    #expect(deep.check(mutant.firstTried).verdict == .failed, "\(mutant)")
  }

  @Test(
    "the size mutants are proved correct at the proof bounds: only the audit at the kernel's sizes sees them",
    arguments: Mutant.sizeMutants)
  func sizeMutantEscapesTheProofBounds(_ mutant: Mutant) {
    let escaped = Verifier(bounds: verifier.bounds, timeoutMilliseconds: 120_000, mutant: mutant)
    let obligations = mutant.obligations.filter { $0.transitionOrNil == mutant.transition }
    #expect(obligations.count > 40)
    for report in escaped.check(group: obligations) {
      #expect(report.verdict == .proved, "\(mutant) \(report.obligation): \(report.verdict)")
    }
  }

  @Test(
    "obligations written as SMT-LIB2 get the same answers from the z3 command",
    .enabled(if: z3Path != nil))
  func smtlib2ThroughZ3() throws {
    let cases: [(Verifier, Obligation, String)] = [
      (verifier, .initial(.pageOwnership), "unsat"),
      (verifier, .preserves(.call(.pageUnmap), .mappingsCountExact), "unsat"),
      (verifier, .errorUnchanged(.call(.sliceFree)), "unsat"),
      (Verifier(mutant: .failedSliceFreeFrees), .errorUnchanged(.call(.sliceFree)), "sat"),
    ]
    for (v, obligation, expected) in cases {
      let text = try v.smtlib2(obligation)
      let file = FileManager.default.temporaryDirectory.appendingPathComponent(
        "exoverify-\(UInt64.random(in: 0...UInt64.max)).smt2")
      try text.write(to: file, atomically: true, encoding: .utf8)
      defer { try? FileManager.default.removeItem(at: file) }
      let process = Process()
      process.executableURL = URL(fileURLWithPath: z3Path ?? "")
      process.arguments = ["-smt2", file.path]
      let pipe = Pipe()
      process.standardOutput = pipe
      try process.run()
      let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      process.waitUntilExit()
      #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == expected, "\(obligation)")
      let ours = v.check(obligation)
      #expect((ours.verdict == .proved) == (expected == "unsat"), "\(obligation)")
    }
  }

  @Test("a run answers what the same executable proved at the same bounds, and nothing else")
  func executableCacheTier() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "exoverify-run-cache-test-\(UInt64.random(in: 0...UInt64.max))")
    defer { try? FileManager.default.removeItem(at: folder) }
    let cache = ProofCache(folder: folder)
    #expect(ProofCache.executableHash != nil)
    let proved = Obligation.preserves(.call(.sliceFree), .sliceOwnerExists)
    let first = runObligations([proved], verifier: verifier, jobs: 1, cache: cache) { _ in }
    #expect(first.map(\.verdict) == [.proved] && !first[0].cached)
    let second = runObligations([proved], verifier: verifier, jobs: 1, cache: cache) { _ in }
    #expect(second.map(\.verdict) == [.proved] && second[0].cached && second[0].seconds == 0)
    // Other bounds: a different formula, not answered by name.
    var other = verifier
    other.bounds.slices += 1
    let third = runObligations([proved], verifier: other, jobs: 1, cache: cache) { _ in }
    #expect(third.map(\.verdict) == [.proved] && !third[0].cached)
    // A failure is never recorded: the mutant's run fails again, from the solver.
    var mutated = verifier
    mutated.mutant = .failedSliceFreeFrees
    let failing = Obligation.errorUnchanged(.call(.sliceFree))
    for _ in 0..<2 {
      let r = runObligations([failing], verifier: mutated, jobs: 1, cache: cache) { _ in }
      #expect(r.map(\.verdict) == [.failed] && !r[0].cached)
    }
  }

  @Test("a solver answer of unknown is a failure, never a pass")
  func unknownIsFailure() {
    // A 1 ms budget cannot prove this obligation.
    let hurried = Verifier(timeoutMilliseconds: 1)
    let report = hurried.check(.preserves(.call(.environmentReclaim), .pageOwnership))
    #expect(report.verdict != .proved)
    #expect(report.verdict == .timeout || report.verdict == .unknown)
  }

  @Test("the cache answers an unchanged obligation and misses a changed one")
  func cache() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "exoverify-cache-test-\(UInt64.random(in: 0...UInt64.max))")
    defer { try? FileManager.default.removeItem(at: folder) }
    let cache = ProofCache(folder: folder)
    let obligation = Obligation.preserves(.call(.pageUnmap), .bindingsCountExact)
    let first = verifier.check(obligation, cache: cache)
    #expect(first.verdict == .proved && !first.cached)
    let second = verifier.check(obligation, cache: cache)
    #expect(second.verdict == .proved && second.cached)
    // Different bounds change the formula: no cache hit.
    var other = verifier
    other.bounds.windowSlots += 1
    let third = other.check(obligation, cache: cache)
    #expect(third.verdict == .proved && !third.cached)
  }
}

let samplePath: String = {
  var url = URL(fileURLWithPath: #filePath)
  while url.path != "/" {
    url.deleteLastPathComponent()
    let candidate = url.appendingPathComponent("specs/samples/basic.json").path
    if FileManager.default.fileExists(atPath: candidate) { return candidate }
  }
  return "specs/samples/basic.json"
}()

/// Random calls and events at the proof bounds, with arguments drawn mostly
/// from the valid ranges so that runs build deep states.
struct RandomWalk {
  var state: ConcreteState
  var rng: UInt64

  init(seed: UInt64) {
    state = ConcreteState(bounds: Verifier.proofBounds, firstPage: 0x100)
    rng = seed &* 0x9E37_79B9_7F4A_7C15
  }

  mutating func next(_ bound: UInt64) -> UInt64 {
    rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return (rng >> 33) % bound
  }

  mutating func argument(_ name: String) -> UInt64 {
    let b = state.bounds
    if next(20) == 0 { return [ExoABI.none, 0, 1, 0x8000_0000_0000][Int(next(4))] }
    switch name {
    case "target", "environment": return next(UInt64(b.environments))
    case "envCap", "capability", "memoryCap", "slot", "child":
      return name == "slot" && next(2) == 0
        ? next(UInt64(b.windowSlots)) : next(UInt64(b.capabilities))
    case "page", "base": return state.firstPage + next(UInt64(b.pages))
    case "count": return 1 + next(UInt64(b.maximumRun))
    case "rights": return [1, 3, 5, 7, 9, 15, 48, 63][Int(next(8))]
    case "position": return next(UInt64(b.slices))
    case "handlerStack": return UserLayout.windowBase + 16 * next(512)
    case "frameSlot": return next(UInt64(b.windowSlots))
    default: return next(4)
    }
  }

  mutating func step() -> (Transition, [UInt64], ConcreteState) {
    let all = Transition.all
    let transition = all[Int(next(UInt64(all.count)))]
    let arguments = transition.parameters.map { argument($0) }
    _ = state.step(transition, arguments)
    // Keep runs alive: an idle state only accepts ticks.
    if state.current == ExoABI.none { _ = state.step(.event(.tick), []) }
    return (transition, arguments, state)
  }
}

let z3Path: String? = ["/usr/bin/z3", "/usr/local/bin/z3"].first {
  FileManager.default.isExecutableFile(atPath: $0)
}

/// A state at the proof bounds with both filter slots active: UDP port 7
/// into window slot 0 and port 8 into slot 1, each bound writable (one
/// less on port 8's value word and the filters overlap).
func filteringState() -> ConcreteState {
  let fp: UInt64 = 0x100
  var s = ConcreteState(bounds: Verifier.proofBounds, firstPage: fp)
  let readWrite = Rights.read.rawValue | Rights.write.rawValue
  var steps: [(Transition, [UInt64])] = [
    (.call(.pageAllocate), [fp, 1, 1]), (.call(.pageAllocate), [fp + 1, 1, 2]),
    (.call(.pageMap), [0, ExoABI.none, 1, fp, 0, readWrite]),
    (.call(.pageMap), [0, ExoABI.none, 2, fp + 1, 1, readWrite]),
  ]
  for (f, port) in [(UInt64(0), UInt32(7)), (1, 8)] {
    let words = PacketTest(offset: 36, width: 2, equals: port).words
    steps.append((.call(.filterTest), [f, 0, words[0], words[1]]))
    steps.append((.call(.filterInstall), [f, 1, f]))
  }
  for (t, a) in steps {
    let r = s.step(t, a)
    #expect(r.status == 0, "\(t)\(a): \(r)")
  }
  #expect(s.filters.state.allSatisfy { $0 == FilterState.active.rawValue })
  return s
}
