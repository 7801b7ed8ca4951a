import Arch

/// The local APIC timer, periodic, on vector `Timer.vector`. The legacy PIC
/// is masked so that its lines cannot alias CPU exception vectors.
///
/// QEMU's APIC timer counts at 1 GHz divided by the divide setting, so under
/// `-icount shift=0` one count is one guest instruction.
enum Timer {
  static let vector: UInt64 = 32
  static let spuriousVector: UInt64 = 255
  /// Counts per tick: 1 ms at QEMU's 1 GHz APIC clock. The
  /// invariant-checking kernel checks every table after each tick (about
  /// 0.3 M instructions), so its ticks are 10 ms: with 1 ms ticks a loaded
  /// host could take a tick on every return to ring 3 and starve user code.
  #if INVARIANTS
    static let period: UInt32 = 10_000_000
  #else
    static let period: UInt32 = 1_000_000
  #endif

  nonisolated(unsafe) static var ticks: UInt64 = 0
  nonisolated(unsafe) private static var base: UInt64 = 0

  private enum Register {
    static let eoi: UInt64 = 0xB0
    static let spurious: UInt64 = 0xF0
    static let lvtTimer: UInt64 = 0x320
    static let initialCount: UInt64 = 0x380
    static let divide: UInt64 = 0x3E0
  }

  static func start() {
    arch_outb(0x21, 0xFF)  // mask both 8259 PICs
    arch_outb(0xA1, 0xFF)
    base = arch_rdmsr(MSR.apicBase) & 0xF_FFFF_F000
    arch_wrmsr(MSR.apicBase, arch_rdmsr(MSR.apicBase) | (1 << 11))  // global enable
    arch_mmio_write32(base + Register.spurious, UInt32(0x100 | spuriousVector))
    arch_mmio_write32(base + Register.divide, 0xB)  // divide by 1
    arch_mmio_write32(base + Register.lvtTimer, UInt32(vector) | (1 << 17))  // periodic
    arch_mmio_write32(base + Register.initialCount, period)
  }

  /// Stops the timer (an initial count of 0 stops it): no more interrupts.
  static func stop() {
    arch_mmio_write32(base + Register.lvtTimer, UInt32(vector) | (1 << 16))  // masked
    arch_mmio_write32(base + Register.initialCount, 0)
  }

  /// Counts a timer interrupt and signals end of interrupt to the APIC.
  static func acknowledge() {
    ticks &+= 1
    arch_mmio_write32(base + Register.eoi, 0)
  }
}
