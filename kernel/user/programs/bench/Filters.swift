import ExoABI
import ExoUser
import UserArch

/// The packet-filter workload: the cost of installing a filter when every
/// other filter slot is taken, so that the kernel's overlap check compares
/// the new filter with the most filters it ever can.
enum FilterWorkload {
  /// Writes the filter of UDP datagrams to `port` into filter slot `f`
  /// (it becomes the caller's, building): IPv4 (12:2), protocol UDP (23:1),
  /// destination port (36:2). Filters of two ports share two tests and
  /// disagree on the third.
  static func write(_ f: UInt64, port: UInt32) {
    test(f, 0, PacketTest(offset: 12, width: 2, equals: 0x0800))
    test(f, 1, PacketTest(offset: 23, width: 1, equals: 0x11))
    test(f, 2, PacketTest(offset: 36, width: 2, equals: port))
  }

  static func test(_ f: UInt64, _ i: UInt64, _ test: PacketTest) {
    let (first, second) = test.encoded
    let r = Kernel.call(FilterTestArguments(filter: f, index: i, first: first, second: second))
    if r.status != 0 { benchFail("exo.filterinstall", "filterTest", r.status) }
  }

  static func install(_ f: UInt64) -> SyscallResult {
    Kernel.call(FilterInstallArguments(filter: f, count: 3, slot: Resources.filterSlot))
  }

  static func remove(_ f: UInt64) {
    let r = Kernel.call(FilterRemoveArguments(filter: f))
    if r.status != 0 { benchFail("exo.filterinstall", "filterRemove", r.status) }
  }

  /// Installs UDP filters for ports 1000 up in every filter slot but the
  /// last, then times `filterInstall` of port 2000's filter in the last
  /// slot (written untimed before, removed untimed after), `n` times.
  static func run(_ n: Int) {
    let slots = UInt64(Bounds.kernel.filters)
    let last = slots - 1
    for f in 0..<last {
      write(f, port: 1000 + UInt32(f))
      let r = install(f)
      if r.status != 0 { benchFail("exo.filterinstall", "filterInstall", r.status) }
    }
    for i in 0..<n {
      write(last, port: 2000)
      Profile.begin()
      let t0 = exo_rdtsc()
      let r = install(last)
      let t1 = exo_rdtsc()
      Profile.end()
      if r.status != 0 { benchFail("exo.filterinstall", "filterInstall", r.status) }
      Measure.samples[i] = t1 &- t0
      remove(last)
    }
    // One more: an overlapping filter (port 1000 again) is refused.
    write(last, port: 1000)
    let refused = install(last)
    if refused.status != ExoError.overlap.rawValue {
      benchFail("exo.filterinstall", "an overlapping filterInstall", refused.status)
    }
    remove(last)
    for f in 0..<last { remove(f) }
    Measure.report("exo.filterinstall", n)
  }
}
