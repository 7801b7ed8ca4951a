import ExoABI
import ExoDiff
import ExoSpec
import ExoVerify
import Testing

let testBounds = Bounds(
  environments: 4, pages: 16, capabilities: 16, windowSlots: 8, slices: 4, maximumDepth: 3,
  maximumRun: 4)
let testFirstPage: UInt64 = 0x1000
let configuration = Generator.Configuration(bounds: testBounds, firstPage: testFirstPage)

func differ(against candidate: any DiffTarget, every k: Int = 1) -> Differ {
  Differ(
    reference: SpecTarget(name: "spec"), candidate: candidate, bounds: testBounds,
    firstPage: testFirstPage, checkpointEvery: k)
}

func mutantTarget(_ mutant: Mutant) -> MutantSpecTarget {
  MutantSpecTarget(name: "spec-mutant:\(mutant.rawValue)") { t, s, a in
    mutant.applyConcrete(t, to: &s, a)
  }
}

@Suite struct GeneratorTests {
  @Test("each call's errors are read off the spec in its check order")
  func errorsInCheckOrder() throws {
    #expect(
      try Transition.call(.environmentStop).errors() == [
        .outOfRange, .invalidCapability, .insufficientRights, .wrongState,
      ])
    #expect(
      try Transition.call(.call).errors() == [
        .outOfRange, .invalidCapability, .insufficientRights, .invalidArgument, .wrongState,
        .noEntry, .busy,
      ])
    #expect(try Transition.call(.reply).errors() == [.wrongState])
    #expect(try Transition.call(.exit).errors().isEmpty)
    #expect(try Transition.call(.yield).errors().isEmpty)
  }

  @Test("CI's run reaches every call's success and every error its checks can give")
  func ciRunCoversEveryOutcome() throws {
    // `exo difftest --seed 1 --calls 100000` (sequences of 200): what the
    // sequences do on the spec is what they do on the kernel when they
    // agree, so the generator alone tells what CI's run reaches.
    let kernel = Generator.Configuration(bounds: .kernel, firstPage: InfoHeader.kernelFirstPage)
    var total = Generator.Statistics()
    for i in 0..<500 {
      total.merge(
        Generator.sequence(seed: SplitMix64.derive(1, i), length: 200, configuration: kernel)
          .statistics)
    }
    #expect(try total.unreached(transitions: Generator.transitions) == [])
    // The list can fail: a run that makes no refused calls misses them.
    var quiet = Generator.Statistics()
    quiet.outcomes = total.outcomes.mapValues { $0.filter { $0.key == "ok" } }
    #expect(try quiet.unreached(transitions: Generator.transitions).count > 40)
  }

  @Test func specAgainstSpecAgreesAndReachesDeepStates() throws {
    let d = differ(against: SpecTarget(name: "spec (copy)"))
    var total = Generator.Statistics()
    for seed: UInt64 in 1...10 {
      let (steps, statistics) = Generator.sequence(
        seed: seed, length: 150, configuration: configuration)
      #expect(try d.firstDivergence(steps) == nil, "seed \(seed)")
      for (k, v) in statistics.successes { total.successes[k, default: 0] += v }
      for (k, v) in statistics.failures { total.failures[k, default: 0] += v }
      total.revokeSteps += statistics.revokeSteps
      total.reclaimSteps += statistics.reclaimSteps
      total.environmentsFreed += statistics.environmentsFreed
      total.maximumDepth = max(total.maximumDepth, statistics.maximumDepth)
      total.maximumBindings = max(total.maximumBindings, statistics.maximumBindings)
      total.callsByOthers += statistics.callsByOthers
      total.hostileCalls += statistics.hostileCalls
    }
    // 1,500 calls: mostly successes, and every kind of deep state.
    #expect(total.totalSuccesses > total.totalFailures)
    #expect(total.successes(.capabilityDerive) >= 30)
    #expect(total.successes(.pageMap) >= 30)
    #expect(total.successes(.pageAllocate) >= 20)
    #expect(total.successes(.environmentCreate) >= 5)
    #expect(total.successes(.environmentStart) >= 2)
    #expect(total.revokeSteps >= 5)
    #expect(total.reclaimSteps >= 5)
    #expect(total.environmentsFreed >= 1)
    #expect(total.maximumDepth == testBounds.maximumDepth)
    #expect(total.maximumBindings >= 4)
    #expect(total.hostileCalls >= 50)
    #expect(total.totalFailures >= 100)
    // Page faults the agent makes; revocation requests and their aborts.
    #expect((total.successes["exception"] ?? 0) >= 5)
    #expect(total.successes(.revocationRequest) >= 5)
  }

  @Test func generationIsDeterministicPerSeed() {
    let a = Generator.sequence(seed: 42, length: 200, configuration: configuration)
    let b = Generator.sequence(seed: 42, length: 200, configuration: configuration)
    let c = Generator.sequence(seed: 43, length: 200, configuration: configuration)
    #expect(a.steps == b.steps)
    #expect(a.statistics == b.statistics)
    #expect(a.steps != c.steps)
  }

  @Test func environmentZeroStaysAliveAndSomethingRuns() {
    for seed: UInt64 in 1...4 {
      var g = Generator(seed: seed, configuration: configuration)
      for _ in 0..<150 {
        let step = g.next()
        if step.transition == .event(.exception) {
          // A page fault of a user load or store (the agent can make it).
          #expect(step.arguments[0] == 14 && step.arguments[1] & 4 != 0)
        }
        #expect(g.state.current != ExoABI.none)
        let zero = g.state.environments.state[0]
        #expect(
          zero != EnvironmentState.dying.rawValue && zero != EnvironmentState.stopped.rawValue)
      }
    }
  }
}

@Suite struct DifferTests {
  @Test func mutantDivergesAndShrinksToAShortSequence() throws {
    let d = differ(against: mutantTarget(.mapForgetsPageCount))
    var found: [DiffStep]?
    for seed: UInt64 in 1...10 {
      let (steps, _) = Generator.sequence(seed: seed, length: 150, configuration: configuration)
      if try d.diverges(steps) {
        found = steps
        break
      }
    }
    let steps = try #require(found)
    let shrunk = try #require(try Shrinker(differ: d).shrink(steps))
    #expect(shrunk.steps.count <= 3)
    #expect(shrunk.divergence.kind == .state)
    #expect(shrunk.divergence.step?.transition == .call(.pageMap))
    #expect(shrunk.divergence.stateDifferences.contains { $0.contains(".mappings") })
    // The shrunk sequence still diverges, at its last step.
    let again = try #require(try d.firstDivergence(shrunk.steps))
    #expect(again.index == shrunk.steps.count - 1)
    // Deterministic.
    #expect(try Shrinker(differ: d).shrink(steps)?.steps == shrunk.steps)
    // The replay file passes on the spec, survives a JSON round trip, and
    // its steps fail on the mutant's final state.
    let replay = try ReplayFile(
      diverging: shrunk.steps, divergence: shrunk.divergence, bounds: testBounds,
      firstPage: testFirstPage)
    #expect(replay.runOnSpec().passed)
    #expect(replay.steps[shrunk.divergence.index].note?.hasPrefix("divergence") == true)
    let decoded = try ReplayFile.decode(json: try replay.encodedJSON())
    #expect(decoded == replay)
    let mutant = mutantTarget(.mapForgetsPageCount)
    mutant.reset(bounds: testBounds, firstPage: testFirstPage)
    for step in shrunk.steps { _ = try mutant.run(step.transition, step.arguments) }
    #expect(replay.final != mutant.state())
  }

  @Test func resultDivergenceIsReportedAtTheCall() throws {
    // A broken target whose result differs (the state stays the same):
    // every ticks() fails.
    let broken = MutantSpecTarget(name: "ticks-fails") { t, s, a in
      t == .call(.ticks) ? .failure(.busy) : s.step(t, a)
    }
    let d = differ(against: broken)
    let steps = [
      DiffStep(.call(.pageAllocate), [testFirstPage, 2, 0]), DiffStep(.call(.ticks)),
      DiffStep(.event(.tick)),
    ]
    let found = try #require(try d.firstDivergence(steps))
    #expect(found.kind == .result && found.index == 1)
    #expect(found.referenceResult == .success(0) && found.candidateResult == .failure(.busy))
    let shrunk = try #require(try Shrinker(differ: d).shrink(steps))
    #expect(shrunk.steps == [DiffStep(.call(.ticks))])
  }

  @Test func sparseCheckpointsLocateTheExactStep() throws {
    let d = differ(against: mutantTarget(.deriveForgetsChild), every: 25)
    var checked = 0
    for seed: UInt64 in 1...10 {
      let (steps, _) = Generator.sequence(seed: seed, length: 100, configuration: configuration)
      guard let sparse = try d.firstDivergence(steps) else { continue }
      let dense = try differ(against: mutantTarget(.deriveForgetsChild)).firstDivergence(steps)
      #expect(sparse == dense)
      #expect(sparse.step?.transition == .call(.capabilityDerive))
      checked += 1
    }
    #expect(checked >= 3)
    #expect(d.digestsCompared < 10 * 100)
  }

  @Test func everyMutantOfAGeneratedCallIsCaught() throws {
    // Mutants whose transitions the generator makes with effect (not the
    // exit or reply ones, which need environments that run code).
    let mutants: [Mutant] = [
      .mapForgetsCapabilityCount, .unmapLeavesPageCount, .deleteLeavesPagesOwned,
      .allocateForgetsRoot, .revokeKeepsChild, .reclaimFreesEarly, .deriveWidensRange,
      // Sending a frame stored for another environment's filter.
      .transmitAsAnyFilter,
    ]
    for mutant in mutants {
      let d = differ(against: mutantTarget(mutant), every: 10)
      var caught = false
      for seed: UInt64 in 1...10 where !caught {
        let (steps, _) = Generator.sequence(seed: seed, length: 150, configuration: configuration)
        caught = try d.diverges(steps)
      }
      #expect(caught, "\(mutant) not caught")
    }
  }
}

@Suite struct DigestTests {
  @Test func trackerEqualsTheFullDigestAfterEveryStep() {
    for bounds in [testBounds, Bounds.kernel] {
      let configuration = Generator.Configuration(bounds: bounds, firstPage: testFirstPage)
      let (steps, _) = Generator.sequence(seed: 5, length: 300, configuration: configuration)
      var state = ConcreteState(bounds: bounds, firstPage: testFirstPage)
      var tracker = DigestTracker(state)
      var distinct = Set<UInt64>()
      for step in steps {
        _ = state.step(step.transition, step.arguments)
        let value = tracker.update(to: state)
        #expect(value == state.digest)
        #expect(value == InfoDigest.of(state.infoWords()))
        distinct.insert(value)
      }
      #expect(distinct.count > 100, "the digest follows the state")
    }
  }

  @Test func aChangedWordChangesTheDigest() {
    var state = ConcreteState(bounds: testBounds, firstPage: testFirstPage)
    var tracker = DigestTracker(state)
    let before = tracker.update(to: state)
    state.pages.mappings[3] = 1
    #expect(tracker.update(to: state) != before)
    state.pages.mappings[3] = 0
    #expect(tracker.update(to: state) == before)
  }
}
