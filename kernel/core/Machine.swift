import Arch
import ExoABI

/// Ends the run of the virtual machine through QEMU's isa-debug-exit device.
/// If the device is absent, halts forever with interrupts off.
func exitMachine(_ reason: DebugExit) -> Never {
  arch_outb(DebugExit.port, reason.rawValue)
  arch_halt_forever()
}

/// Raw access to physical memory through the kernel's identity map (the
/// first 4 GiB). The only place the kernel turns an integer into a pointer
/// for memory it owns; callers guarantee the address is mapped and theirs.
enum PhysicalMemory {
  /// The end of the identity map set up by boot.S.
  static let identityMapEnd: UInt64 = 4 << 30

  static func load64(_ address: UInt64) -> UInt64 {
    UnsafeRawPointer(arch_pointer(address)).loadUnaligned(as: UInt64.self)
  }

  static func store64(_ address: UInt64, _ value: UInt64) {
    arch_pointer(address).storeBytes(of: value, as: UInt64.self)
  }

  static func load32(_ address: UInt64) -> UInt32 {
    UnsafeRawPointer(arch_pointer(address)).loadUnaligned(as: UInt32.self)
  }

  static func store32(_ address: UInt64, _ value: UInt32) {
    arch_pointer(address).storeBytes(of: value, as: UInt32.self)
  }

  static func store16(_ address: UInt64, _ value: UInt16) {
    arch_pointer(address).storeBytes(of: value, as: UInt16.self)
  }

  static func bytes(_ address: UInt64) -> UnsafeMutablePointer<UInt8> {
    arch_pointer(address).assumingMemoryBound(to: UInt8.self)
  }

  /// Zeroes the page at `address` (`arch_zero`: 16-byte stores).
  static func zeroPage(_ address: UInt64) {
    arch_zero(arch_pointer(address), pageSize)
  }

  /// Copies `count` bytes (one `memmove`).
  static func copy(to destination: UInt64, from source: UnsafePointer<UInt8>, count: Int) {
    arch_pointer(destination).copyMemory(from: source, byteCount: count)
  }
}
