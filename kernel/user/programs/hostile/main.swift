import ExoABI
import ExoUser

/// Hostile system-call arguments: each must come back as the named error
/// and leave the kernel running.
@main
struct Hostile {
  static func main() {
    var failures: Int32 = 0
    var checked = 0
    func expect(_ label: StaticString, _ result: SyscallResult, _ error: ExoError) {
      checked += 1
      if result.error != error {
        print("FAIL \(label): status \(result.status)")
        failures += 1
      }
    }
    let kernelImage = VirtualAddress(rawValue: 0x10_0000)
    expect("kernel address", Kernel.consoleWrite(kernelImage, length: 8), .badAddress)
    expect(
      "non-canonical address",
      Kernel.consoleWrite(VirtualAddress(rawValue: 0x8000_0000_0000_0000), length: 1), .badAddress)
    expect(
      "unmapped user page",
      Kernel.consoleWrite(VirtualAddress(rawValue: UserLayout.start + 0x1000_0000), length: 1),
      .badAddress)
    expect(
      "range wrapping around",
      Kernel.consoleWrite(VirtualAddress(rawValue: UserLayout.imageBase), length: UInt64.max),
      .invalidArgument)
    expect(
      "range running off the stack top",
      Kernel.consoleWrite(VirtualAddress(rawValue: UserLayout.stackTop - 8), length: 16),
      .badAddress)
    expect("unknown call number", Kernel.raw(0xFFFF_FFFF), .noSuchCall)
    expect("call number zero", Kernel.raw(0), .noSuchCall)
    print("hostile: \(checked - Int(failures)) of \(checked) checks passed")
    Kernel.exit(failures == 0 ? 0 : 1)
  }
}
