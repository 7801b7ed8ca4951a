import ExoABI
import ExoSpec
import Testing

@Suite struct StateTests {
  @Test func initialStateIsTheABIs() {
    let state = ConcreteState(bounds: .kernel, firstPage: 0x1000)
    #expect(state.current == 0)
    #expect(state.environments.state[0] == EnvironmentState.runnable.rawValue)
    #expect(state.environments.state[1...].allSatisfy { $0 == EnvironmentState.free.rawValue })
    #expect(state.slices[0] == 0 && state.slices[1...].allSatisfy { $0 == ExoABI.none })
    #expect(state.pages.owner.allSatisfy { $0 == ExoABI.none })
    #expect(state.bindings.page.count == 16 * 512)
  }

  @Test(arguments: [smallBounds, Bounds.kernel])
  func infoWordsRoundTrip(_ bounds: Bounds) throws {
    var generator = Generator(seed: 5, bounds: bounds, firstPage: 0x1000)
    for _ in 0..<(bounds == .kernel ? 3 : 50) {
      let state = generator.scrambledState()
      var words = state.infoWords()
      #expect(words.count == InfoLayout(bounds: bounds).size / 8)
      // Enumerated fields must decode; scrambled states may hold garbage.
      for i in 0..<bounds.environments {
        words[InfoLayout(bounds: bounds).offset(environment: i, .state) / 8] %= 5
      }
      for i in 0..<bounds.capabilities {
        words[InfoLayout(bounds: bounds).offset(capability: i, .kind) / 8] %= 3
      }
      for i in 0..<bounds.environments {
        words[InfoLayout(bounds: bounds).offset(revocation: i, .phase) / 8] %= 3
      }
      for i in 0..<bounds.filters {
        words[InfoLayout(bounds: bounds).offset(filter: i, .state) / 8] %= 3
      }
      let decoded = try ConcreteState(infoWords: words, bounds: bounds)
      #expect(decoded.infoWords() == words)
      #expect(decoded.digest == ConcreteState.digest(infoWords: words))
    }
  }

  @Test func infoDecodingRejectsBadImages() {
    let state = ConcreteState(bounds: smallBounds, firstPage: 0x40)
    let words = state.infoWords()
    #expect(throws: InfoDecodingError.wrongSize(expected: words.count, found: 3)) {
      _ = try ConcreteState(infoWords: [1, 2, 3], bounds: smallBounds)
    }
    var bad = words
    bad[0] = 7
    #expect(
      throws: InfoDecodingError.header(field: "magic", expected: InfoHeader.magicValue, found: 7)
    ) {
      _ = try ConcreteState(infoWords: bad, bounds: smallBounds)
    }
    bad = words
    bad[InfoLayout(bounds: smallBounds).offset(capability: 2, .kind) / 8] = 9
    #expect(throws: InfoDecodingError.invalidField(field: "capabilities[2].kind", value: 9)) {
      _ = try ConcreteState(infoWords: bad, bounds: smallBounds)
    }
  }

  @Test func digestSeesEveryChange() {
    let state = ConcreteState(bounds: smallBounds, firstPage: 0x40)
    var changed = state
    changed.bindings.rights[7] = 1
    #expect(state.digest != changed.digest)
    #expect(state.digest == ConcreteState(bounds: smallBounds, firstPage: 0x40).digest)
  }

  /// docs/ABI.md: "a failed call changes nothing".
  @Test(arguments: Transition.all)
  func failedCallChangesNothing(_ transition: Transition) {
    var generator = Generator(seed: 17)
    var failures = 0
    for _ in 0..<300 {
      let before = generator.state()
      let arguments = generator.arguments(transition, for: before)
      var after = before
      let result = after.step(transition, arguments)
      if result.status != 0 {
        failures += 1
        #expect(
          after == before,
          "\(transition)(\(arguments)) failed with \(result.status) but changed \(before.differences(from: after))"
        )
        #expect(result.value == 0)
      }
    }
    if case .call = transition, transition != .call(.exit), transition != .call(.yield) {
      #expect(failures > 0)
    }
  }
}

/// Tables of cases for the checks' order (the first failing check decides).
@Suite struct CheckOrderTests {
  static let firstPage: UInt64 = 0x40

  /// Environment 0 holding root memory capability 0 over pages 0x40..0x42,
  /// mapped at its window slot 0, and environment capability 1 naming a
  /// stopped environment 1.
  static func setUp() -> ConcreteState {
    var state = ConcreteState(bounds: smallBounds, firstPage: firstPage)
    #expect(state.step(.call(.pageAllocate), [firstPage, 3, 0]).status == 0)
    #expect(state.step(.call(.pageMap), [0, 0, 0, firstPage, 0, 3]).status == 0)
    #expect(state.step(.call(.environmentCreate), [1, 1]).status == 0)
    return state
  }

  @Test(arguments: [
    (Syscall.pageMap, [UInt64(9), 0, 0, 0x40, 1, 1], ExoError.outOfRange),
    (.pageMap, [1, 4, 0, 0x40, 1, 1], .invalidCapability),
    (.pageMap, [1, 1, 0, 0x40, 1, 2], .invalidArgument),
    (.pageMap, [0, 0, 0, 0x40, 9, 1], .outOfRange),
    (.pageMap, [0, 0, 9, 0x40, 1, 1], .outOfRange),
    (.pageMap, [0, 0, 1, 0x40, 1, 1], .invalidCapability),
    (.pageMap, [1, 1, 0, 0x40, 1, 1], .invalidCapability),
    (.pageMap, [0, 0, 0, 0x43, 1, 1], .insufficientRights),
    (.pageMap, [0, 0, 0, 0x40, 0, 1], .slotInUse),
    (.pageAllocate, [0x40, 0, 2], .invalidArgument),
    (.pageAllocate, [0x45, 2, 2], .outOfRange),
    (.pageAllocate, [0x43, 1, 0], .slotInUse),
    (.pageAllocate, [0x42, 2, 2], .slotInUse),
    (.capabilityDerive, [0, 2, 64, 0x40, 1], .invalidArgument),
    (.capabilityDerive, [0, 2, 1, 0x42, 2], .insufficientRights),
    (.capabilityDelete, [0], .busy),
    (.environmentStart, [1, 1, 0, UserLayout.end], .badAddress),
    (.environmentStart, [1, 1, UserLayout.start, UserLayout.end + 1], .badAddress),
    (.call, [1, 0, 0, 0, 0], .wrongState),
    (.sliceFree, [1], .slotEmpty),
    (.environmentReclaim, [1], .wrongState),
    (.consoleWrite, [UserLayout.windowBase + 4090, 8], .badAddress),
  ])
  func firstFailingCheckDecides(_ call: Syscall, _ arguments: [UInt64], _ error: ExoError) {
    var state = Self.setUp()
    let before = state
    #expect(state.step(.call(call), arguments) == .failure(error))
    #expect(state == before)
  }

  @Test func successes() {
    var state = Self.setUp()
    #expect(
      state.step(.call(.environmentStart), [1, 1, UserLayout.start, UserLayout.end]) == .success())
    #expect(state.step(.call(.consoleWrite), [UserLayout.windowBase + 4088, 8]) == .success(8))
    #expect(state.step(.call(.consoleWrite), [UserLayout.stackTop - 8, 8]) == .success(8))
    #expect(
      state.step(.call(.consoleWrite), [UserLayout.stackTop - 4, 8]) == .failure(.badAddress))
    #expect(state.step(.call(.consoleWrite), [.max, 0]) == .success(0))
  }
}
