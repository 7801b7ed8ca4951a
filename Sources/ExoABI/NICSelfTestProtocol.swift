/// What the kernel's NIC self-test (`nicselftest=1` on its command line)
/// and the harness that judges it (`exo boot --peer linux --nic-selftest`)
/// agree on. The self-test waits until `framesToWaitFor` frames from the
/// peer have arrived, then transmits `burst` broadcast frames of
/// EtherType `etherType` (IEEE 802 "local experimental"), each
/// `frameLength` bytes, and reports what it counted.
public enum NICSelfTestProtocol {
  public static let framesToWaitFor: UInt64 = 3
  public static let burst = 8
  public static let etherType: UInt16 = 0x88B5
  public static let frameLength = 60
}
