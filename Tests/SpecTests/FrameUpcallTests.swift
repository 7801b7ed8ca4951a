import ExoABI
import ExoSpec
import Testing

/// The `frameArrived` upcall of `frameArrival` (docs/ABI.md "Upcalls"): the
/// owner of the filter that gets a frame is told, unless it is running.
@Suite struct FrameUpcallTests {
  /// A state with filter 2 (UDP port 7, environment 0's) active, and
  /// `running` as the current environment.
  func state(running: UInt64) -> ConcreteState {
    var s = FilterCallTests.prepared()
    FilterCallTests.write(
      &s, 2, [FilterCallTests.ipv4, FilterCallTests.udp, FilterCallTests.port(7)])
    #expect(s.step(.call(.filterInstall), [2, 3, 0]) == .success(0))
    s.current = running
    return s
  }

  /// The upcalls `frame` raises on `state`.
  func upcalls(_ state: ConcreteState, _ frame: [UInt8]) -> [Raised] {
    let recorder = UpcallRecorder()
    var s = SpecState<RecordingDomain>(
      domain: RecordingDomain(recorder: recorder), bounds: state.bounds,
      firstPage: state.firstPage, words: state.words)
    _ = s.frameArrival(length: UInt64(frame.count)) { i in
      i < UInt64(frame.count) ? UInt64(frame[Int(i)]) : 0
    }
    return recorder.raised
  }

  @Test func ownerNotRunningIsTold() {
    let frame = FilterCallTests.udpFrame(port: 7)
    #expect(
      upcalls(state(running: 1), frame)
        == [Raised(environment: 0, reason: .frameArrived, a: 2, b: 1)])
    // Dropped (pending) or unclaimed frames raise nothing.
    var pending = state(running: 1)
    pending.filters.pending[2] = 1
    #expect(upcalls(pending, frame).isEmpty)
    #expect(upcalls(state(running: 1), FilterCallTests.udpFrame(port: 9)).isEmpty)
  }

  @Test func runningOwnerPolls() {
    #expect(upcalls(state(running: 0), FilterCallTests.udpFrame(port: 7)).isEmpty)
  }
}

struct Raised: Equatable {
  var environment: UInt64
  var reason: UpcallReason
  var a, b: UInt64
}

final class UpcallRecorder {
  var raised: [Raised] = []
}

/// ``ConcreteDomain`` whose upcall hook records what it is asked to raise.
struct RecordingDomain: SpecDomain {
  typealias Column = [UInt64]
  let recorder: UpcallRecorder
  let base = ConcreteDomain()

  func upcall(_ e: UInt64, _ reason: UpcallReason, _ a: UInt64, _ b: UInt64) {
    recorder.raised.append(Raised(environment: e, reason: reason, a: a, b: b))
  }

  func bool(_ value: Bool) -> Bool { value }
  func word(_ value: UInt64) -> UInt64 { value }
  func not(_ a: Bool) -> Bool { !a }
  func and(_ a: Bool, _ b: Bool) -> Bool { a && b }
  func or(_ a: Bool, _ b: Bool) -> Bool { a || b }
  func eq(_ a: UInt64, _ b: UInt64) -> Bool { a == b }
  func ult(_ a: UInt64, _ b: UInt64) -> Bool { a < b }
  func add(_ a: UInt64, _ b: UInt64) -> UInt64 { a &+ b }
  func sub(_ a: UInt64, _ b: UInt64) -> UInt64 { a &- b }
  func mul(_ a: UInt64, _ k: UInt64) -> UInt64 { a &* k }
  func bitAnd(_ a: UInt64, _ b: UInt64) -> UInt64 { a & b }
  func shiftRight(_ a: UInt64, _ k: UInt64) -> UInt64 { a >> k }
  func remainder(_ a: UInt64, _ n: UInt64) -> UInt64 { a % n }
  func ite(_ c: Bool, _ a: UInt64, _ b: UInt64) -> UInt64 { c ? a : b }
  func ite(_ c: Bool, _ a: Bool, _ b: Bool) -> Bool { c ? a : b }
  func branch(_ c: Bool, then: () -> Void, else otherwise: () -> Void) {
    base.branch(c, then: then, else: otherwise)
  }
  func assign(_ variable: inout UInt64, _ value: UInt64) { variable = value }
  func read(_ table: [UInt64], _ index: UInt64, default fallback: UInt64) -> UInt64 {
    base.read(table, index, default: fallback)
  }
  func write(_ table: inout [UInt64], _ index: UInt64, _ value: UInt64) {
    base.write(&table, index, value)
  }
  func first(_ count: Int, where predicate: (Int) -> Bool) -> (found: Bool, index: UInt64) {
    base.first(count, where: predicate)
  }
  func forEach(below limit: UInt64, bound: Int, _ body: (Int) -> Void) {
    base.forEach(below: limit, bound: bound, body)
  }
  func check(_ ok: inout Bool, _ error: inout UInt64, _ condition: () -> Bool, _ code: UInt64) {
    base.check(&ok, &error, condition, code)
  }
}
