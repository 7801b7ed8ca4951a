/// How the guest tells the host how it ended: a byte written to QEMU's
/// `isa-debug-exit` device, which makes QEMU exit with status
/// `(value << 1) | 1`. A reset (triple fault) under `-no-reboot` exits with
/// status 0, so no status produced here is 0.
public enum DebugExit: UInt8, CaseIterable, Sendable {
  /// The first user program exited with status 0.
  case success = 0x10
  /// The first user program exited with a non-zero status or was killed by
  /// a fault.
  case userFailure = 0x11
  /// The kernel panicked; a report precedes this on the console.
  case kernelPanic = 0x20

  /// The I/O port of the `isa-debug-exit` device.
  public static let port: UInt16 = 0xF4

  /// The exit status QEMU reports for this value.
  public var qemuStatus: Int32 { Int32((UInt32(rawValue) << 1) | 1) }

  /// The value whose QEMU exit status is `status`, if any.
  public init?(qemuStatus status: Int32) {
    for candidate in DebugExit.allCases where candidate.qemuStatus == status {
      self = candidate
      return
    }
    return nil
  }
}
