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

/// The two-guest network of `exo boot --peer linux`: the addresses that the
/// exokernel's network programs (such as `netecho`) and the Linux peer's
/// checks share. MACs are in wire order (byte 0 first).
public enum PeerNetwork {
  public static let exoMAC: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (
    0x52, 0x54, 0x00, 0x45, 0x58, 0x01
  )
  public static let peerMAC: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (
    0x52, 0x54, 0x00, 0x45, 0x58, 0x02
  )
  /// IPv4 addresses, on one /24.
  public static let exoAddress: (UInt8, UInt8, UInt8, UInt8) = (10, 0, 2, 15)
  public static let peerAddress: (UInt8, UInt8, UInt8, UInt8) = (10, 0, 2, 2)
  public static let prefixLength = 24
  /// The UDP port the exokernel's echo program answers on.
  public static let echoPort: UInt16 = 7
  /// A UDP port no environment claims: frames to it are dropped and counted.
  public static let unclaimedPort: UInt16 = 9
  /// The first program's argument (`arg=N` on the kernel command line,
  /// its `rdi`) that `exo boot --peer linux` gives it: a network program
  /// serves the peer rather than testing itself alone.
  public static let onNetworkArgument: UInt64 = 1
  /// What the peer sends to the echo port once its checks are done: the
  /// echo server then makes its own checks and ends.
  public static let doneMessage = "exo peer done"
}
