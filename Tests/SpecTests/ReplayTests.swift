import ExoABI
import ExoSpec
import Foundation
import Testing

@Suite struct ReplayTests {
  static let samplePath = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("specs/samples/basic.json").path

  @Test func sampleRunsAndMatches() throws {
    let replay = try ReplayFile.load(path: Self.samplePath)
    #expect(replay.bounds == .kernel)
    #expect(replay.steps.count > 40)
    let report = replay.runOnSpec()
    #expect(report.passed, "\(report.steps.filter { !$0.matches })")
    // Every kernel call and event appears in the samples.
    var transitions = Set(replay.steps.map(\.transition))
    let folder = URL(fileURLWithPath: Self.samplePath).deletingLastPathComponent()
    for name in try FileManager.default.contentsOfDirectory(atPath: folder.path)
    where name.hasSuffix(".json") {
      let other = try ReplayFile.load(path: folder.appendingPathComponent(name).path)
      #expect(other.runOnSpec().passed, "\(name)")
      transitions.formUnion(other.steps.map(\.transition))
    }
    for t in Transition.all { #expect(transitions.contains(t), "\(t) missing") }
  }

  @Test func roundTripsInitialAndSteps() throws {
    let replay = try ReplayFile.load(path: Self.samplePath)
    let again = try ReplayFile.decode(json: try replay.encodedJSON())
    #expect(again == replay)
  }

  @Test func roundTripsExplicitStates() throws {
    var generator = Generator(seed: 99)
    for _ in 0..<50 {
      let start = generator.state()
      let end = generator.state()
      let transition = Transition.all[generator.below(Transition.all.count)]
      let arguments = generator.arguments(transition, for: start)
      var scratch = start
      let expect = ReplayExpectation(scratch.step(transition, arguments))
      let replay = ReplayFile(
        bounds: start.bounds, firstPage: start.firstPage, initial: .state(start),
        steps: [ReplayStep(transition, arguments, expect: expect, note: "n")], final: end)
      let again = try ReplayFile.decode(json: try replay.encodedJSON())
      #expect(again == replay)
    }
  }

  @Test func mismatchIsReported() throws {
    var replay = ReplayFile(bounds: smallBounds, firstPage: smallFirstPage)
    replay.steps = [
      ReplayStep(.call(.ticks), expect: .value(0)),
      ReplayStep(.call(.ticks), expect: .error(.busy)),
    ]
    replay.final = ConcreteState(bounds: smallBounds, firstPage: smallFirstPage)
    replay.final?.tickCount = 5
    let report = replay.runOnSpec()
    #expect(!report.passed)
    #expect(report.steps.map(\.matches) == [true, false])
    #expect(report.finalDifferences == ["ticks: 5 → 0"])
  }

  /// Malformed files name the field path and its line.
  @Test(arguments: [
    (
      #"{"format": "exo-replay", "version": 1, "bounds": "kernel", "firstPage": 4096,"#
        + "\n" + #""initial": "initial", "steps": ["# + "\n" + #"  {"call": "ticks"},"#
        + "\n" + #"  {"call": "pageMap", "args": [1, 2]}"# + "\n]}",
      "$.steps[1].args", 4, "pageMap takes 6 arguments"
    ),
    (
      #"{"format": "exo-replay", "version": 1, "bounds": "kernel", "firstPage": 4096,"#
        + "\n" + #""initial": "initial", "steps": [{"call": "pageFrob"}]}"#,
      "$.steps[0].call", 2, "no system call named"
    ),
    (
      #"{"format": "exo-replay", "version": 2, "bounds": "kernel", "firstPage": 1, "initial": "initial"}"#,
      "$.version", 1, "not supported"
    ),
    (
      "{\n\"format\": \"exo-replay\", \"version\": 1,\n\"bounds\": {\"environments\": 2},\n"
        + "\"firstPage\": 1, \"initial\": \"initial\"}",
      "$.bounds", 3, "missing field \"pages\""
    ),
    (
      #"{"format": "exo-replay", "version": 1, "bounds": "kernel", "firstPage": 4096,"#
        + "\n" + #""initial": "initial", "steps": [{"call": "exit", "args": ["many"]}]}"#,
      "$.steps[0].args[0]", 2, "is not a word"
    ),
    (
      #"{"format": "exo-replay", "version": 1, "bounds": "kernel", "firstPage": 4096,"#
        + "\n" + #""initial": {"capabilities": [{"slot": 300}]}}"#,
      "$.initial.capabilities[0].slot", 2, "outside 0..<256"
    ),
  ])
  func malformedFileNamesFieldAndLine(
    _ text: String, _ path: String, _ line: Int, _ message: String
  ) {
    #expect {
      _ = try ReplayFile.decode(json: Data(text.utf8))
    } throws: { error in
      guard let error = error as? ReplayError else { return false }
      return error.path == path && error.line == line && error.message.contains(message)
    }
  }

  @Test func syntaxErrorIsReported() {
    #expect(throws: ReplayError.self) {
      _ = try ReplayFile.decode(json: Data("{\"format\": ".utf8))
    }
  }
}
