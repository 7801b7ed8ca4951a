import ExoABI
import ExoUser

/// What the benchmark allocates once, before timing anything. Page indices
/// are relative to `KernelInfo.firstPage`.
///
///     pages 0...3    capability 1   window slots 0...3     environment 0's handler stack
///     pages 4...7    capability 2   window slots 40...43   the samples
///     page  8        capability 3   window slot 10         the page the exception workload faults on
///     page  9        capability 4   window slot 11         allocated and freed by the page workload
///     pages 16...19  capability 11  (child's slots 0...3)  the server's handler stack
///     environment 1  capability 10                         the control-transfer server
///     environment 2  capability 20                         created and torn down repeatedly
///     pages 20...23  capability 31  (child's slots 0...3)  the revocation child's handler stack
///     page  24       capability 33  (child's slot 8)       the run the revocation child returns
///     environment 3  capability 30                         the revocation child
///     page  25       capability 34  window slot 12         the packet filters' receive buffer
enum Resources {
  static let handlerStackCapability = cap(1)
  static let sampleCapability = cap(2)
  static let sampleSlot: UInt64 = 40
  static let samplePages: UInt64 = 4
  static let faultCapability = cap(3)
  static let faultPageIndex: UInt64 = 8
  static let faultSlot: UInt64 = 10
  static let cyclePageIndex: UInt64 = 9
  static let cycleCapability = cap(4)
  static let cycleSlot: UInt64 = 11
  static let server = EnvironmentID(rawValue: 1)
  static let serverCapability = cap(10)
  static let serverMemory = cap(11)
  static let serverGrant = cap(12)
  static let serverPageIndex: UInt64 = 16
  static let created = EnvironmentID(rawValue: 2)
  static let createdCapability = cap(20)
  static let revokee = EnvironmentID(rawValue: 3)
  static let revokeeCapability = cap(30)
  static let revokeeStackMemory = cap(31)
  static let revokeeStackGrant = cap(32)
  static let revokeeStackIndex: UInt64 = 20
  static let revokeeRun = cap(33)
  static let revokeeRunIndex: UInt64 = 24
  static let revokeeRunSlot: UInt64 = 8
  static let filterCapability = cap(34)
  static let filterPageIndex: UInt64 = 25
  static let filterSlot: UInt64 = 12

  /// Allocates and maps a run of pages for environment 0.
  static func map(
    _ name: StaticString, index: UInt64, count: UInt64, capability: CapabilitySlot, slot: UInt64
  ) {
    let r = Kernel.pageAllocate(page(index), count: count, capability: capability)
    if r.status != 0 { benchFail(name, "pageAllocate", r.status) }
    for i in 0..<count {
      let m = Kernel.pageMap(
        me, memory: capability, page: page(index + i), slot: slot + i, rights: [.read, .write])
      if m.status != 0 { benchFail(name, "pageMap", m.status) }
    }
  }

  static func prepare() {
    map("setup", index: 0, count: 4, capability: handlerStackCapability, slot: 0)
    map("setup", index: 4, count: samplePages, capability: sampleCapability, slot: sampleSlot)
    map("setup", index: faultPageIndex, count: 1, capability: faultCapability, slot: faultSlot)
    map("setup", index: filterPageIndex, count: 1, capability: filterCapability, slot: filterSlot)
    Upcalls.exceptionHandler = { frame in
      // The dispatch workload's ud2: skip its two bytes.
      if frame[.vector] == 6 {
        frame[.rip] = frame[.rip] &+ 2
        return
      }
      // Repair the fault the way the exception workload expects: make the
      // page writable again. Anything else is a bug in the benchmark.
      let slot = (frame[.address] &- UserLayout.windowBase) / pageSize
      guard frame[.vector] == 14 && slot == faultSlot else {
        print("BENCH-FAIL exception: unexpected vector \(frame[.vector]) at \(frame[.address])")
        Kernel.exit(1)
      }
      _ = Kernel.pageProtect(me, slot: slot, rights: [.read, .write])
    }
    let r = Kernel.environmentSetEntries(
      me, handler: Upcalls.exceptionEntry, handlerStack: windowAddress(4), upcall: 0, callEntry: 0)
    if r.status != 0 { benchFail("setup", "environmentSetEntries", r.status) }
  }
}

/// Environment 0, the benchmark itself.
var me: EnvironmentID { EnvironmentID(rawValue: 0) }
func cap(_ c: UInt64) -> CapabilitySlot { CapabilitySlot(rawValue: UInt32(truncatingIfNeeded: c)) }
/// Page index `i` of the pages users allocate.
func page(_ i: UInt64) -> PageNumber { PageNumber(rawValue: KernelInfo.firstPage &+ i) }
/// The address of window slot `s`.
func windowAddress(_ s: UInt64) -> UInt64 { UserLayout.windowBase + s * pageSize }
