import Arch
import ExoABI

/// Segment selectors of the GDT in boot.S.
enum Selector {
  static let kernelCode: UInt16 = 0x08
  static let kernelData: UInt16 = 0x10
  static let userData = UInt16(UserSelectors.data)
  static let userCode = UInt16(UserSelectors.code)
  static let tss: UInt16 = 0x28
}

/// Model-specific registers the kernel programs.
enum MSR {
  static let apicBase: UInt32 = 0x1B
  static let star: UInt32 = 0xC000_0081
  static let lstar: UInt32 = 0xC000_0082
  static let sfmask: UInt32 = 0xC000_0084
}

/// The TSS (only RSP0 and IST1 matter in long mode), the IDT and the
/// SYSCALL MSRs.
///
///     TSS:  4 rsp0   36 ist1   102 I/O map base
///     IDT gate (16 bytes):
///       0 offset 15..0  2 selector  4 ist  5 type/DPL/P  6 offset 31..16
///       8 offset 63..32  12 reserved
enum Descriptors {
  /// The IST slot used for faults that must not run on a possibly broken
  /// kernel stack: #DF, NMI and #MC.
  static let faultStack: UInt8 = 1

  static func install() {
    let tss = arch_tss()
    PhysicalMemory.store64(tss + 4, exo_kernel_stack_top)
    PhysicalMemory.store64(tss + 36, arch_fault_stack_top())
    PhysicalMemory.store16(tss + 102, 104)

    // 16-byte available 64-bit TSS descriptor in GDT slots 5 and 6.
    let limit: UInt64 = 103
    let low =
      (limit & 0xFFFF) | ((tss & 0xFF_FFFF) << 16) | (0x89 << 40) | (((tss >> 24) & 0xFF) << 56)
    PhysicalMemory.store64(arch_gdt() + 5 * 8, low)
    PhysicalMemory.store64(arch_gdt() + 6 * 8, tss >> 32)
    arch_ltr(Selector.tss)

    let idt = arch_idt()
    for vector in 0..<256 {
      let handler = arch_isr_address(Int32(vector))
      guard handler != 0 else { continue }
      let gate = idt + UInt64(vector) * 16
      let ist: UInt64 = (vector == 2 || vector == 8 || vector == 18) ? UInt64(faultStack) : 0
      let low =
        (handler & 0xFFFF) | (UInt64(Selector.kernelCode) << 16) | (ist << 32) | (0x8E << 40)
        | (((handler >> 16) & 0xFFFF) << 48)
      PhysicalMemory.store64(gate, low)
      PhysicalMemory.store64(gate + 8, handler >> 32)
    }
    arch_lidt(arch_pointer(idt), 4095)

    // SYSCALL enters at exo_syscall_entry with CS 0x08; SYSRET's base is
    // 0x10 (user code 0x20, user data 0x18). SFMASK clears IF, TF, DF, AC.
    arch_wrmsr(MSR.star, (UInt64(Selector.kernelCode) << 32) | (UInt64(0x10) << 48))
    arch_wrmsr(MSR.lstar, arch_syscall_entry())
    arch_wrmsr(MSR.sfmask, 0x4_0700)
    // The calls entry.S runs on its short path.
    exo_syscall_in_place_calls = Syscall.inPlaceCalls
    exo_syscall_retried_calls = Syscall.retriedCalls
  }
}
