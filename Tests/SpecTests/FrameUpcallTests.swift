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
    var s = SpecState<Planted>(
      domain: Planted(.none, recording: recorder), bounds: state.bounds,
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
