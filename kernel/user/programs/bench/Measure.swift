import ExoABI
import ExoUser
import UserArch

/// Per-iteration instruction counts of one workload and the line that
/// reports them. The samples live in window slots `Resources.sampleSlot`...
/// (no heap), sorted in place.
///
/// The line `exo bench` parses:
///
///     BENCH <name> <median> <min> <max> <iterations>
///
/// each count with the cost of an empty `rdtsc` pair (`Measure.overhead`)
/// taken off. The median is the figure `exo bench` compares: a timer tick
/// that lands in a few iterations moves the maximum, not the median.
enum Measure {
  static let capacity = Int(Resources.samplePages * pageSize / 8)

  static var samples: UnsafeMutablePointer<UInt64> {
    UserMemory.pointer(UserLayout.windowBase + Resources.sampleSlot * pageSize, to: UInt64.self)
  }

  nonisolated(unsafe) static var overhead: UInt64 = 0

  /// Sorts `samples[0..<n]` (insertion sort: n is at most a few thousand
  /// and this runs outside every timed region).
  static func sort(_ n: Int) {
    let s = samples
    var i = 1
    while i < n {
      let v = s[i]
      var j = i
      while j > 0 && s[j - 1] > v {
        s[j] = s[j - 1]
        j -= 1
      }
      s[j] = v
      i += 1
    }
  }

  /// The median of the empty pair: subtracted from every other figure.
  static func measureOverhead() {
    let n = 1000
    for i in 0..<n {
      let t0 = exo_rdtsc()
      let t1 = exo_rdtsc()
      samples[i] = t1 &- t0
    }
    sort(n)
    overhead = samples[n / 2]
    print("BENCH-OVERHEAD \(overhead)")
  }

  /// Reports `samples[0..<n]` under `name`.
  static func report(_ name: StaticString, _ n: Int) {
    Profile.next()
    sort(n)
    let s = samples
    print(
      "BENCH \(name) \(s[n / 2] &- overhead) \(s[0] &- overhead) \(s[n - 1] &- overhead) \(n)")
  }

  /// Runs `body` `n` times, timing each run.
  @inline(__always)
  static func run(_ name: StaticString, _ n: Int, _ body: (Int) -> Void) {
    precondition(n <= capacity)
    let s = samples
    for i in 0..<n {
      Profile.begin()
      let t0 = exo_rdtsc()
      body(i)
      let t1 = exo_rdtsc()
      Profile.end()
      s[i] = t1 &- t0
    }
    report(name, n)
  }
}

/// A workload that could not run: `exo bench` reports the row as failed
/// with this reason.
func benchFail(_ name: StaticString, _ what: StaticString, _ status: UInt64) -> Never {
  print(
    "BENCH-FAIL \(name) \(what): \(status == 0 ? "success" : ExoError(rawValue: status).name)")
  Kernel.exit(1)
}

/// The markers `exo bench --profile` finds in QEMU's execution trace
/// (profile.S): `begin` and `end` around each timed iteration, outside the
/// `rdtsc` pair, and `next` when a workload reports. Under `--profile` the
/// kernel passes `arg=1` and each workload runs `Profile.iterations` times.
enum Profile {
  @_silgen_name("exo_profile_begin") static func begin()
  @_silgen_name("exo_profile_end") static func end()
  @_silgen_name("exo_profile_next") static func next()

  /// Iterations per workload when profiling: the trace of every
  /// instruction is large, and a few iterations show where they go.
  static let profileIterations = 8

  /// `n`, or `profileIterations` when the program runs for the profiler.
  static func iterations(_ n: Int) -> Int {
    ProgramArgument.value == 1 ? min(n, profileIterations) : n
  }
}
