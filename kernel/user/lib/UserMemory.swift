/// Typed pointers to fixed user addresses (the window, the info area): the
/// one place user code turns an address into a pointer.
public enum UserMemory {
  /// `address` as a pointer to `T`; address 0 is a program bug and traps.
  public static func pointer<T>(_ address: UInt64, to: T.Type = T.self) -> UnsafeMutablePointer<T> {
    guard let p = UnsafeMutablePointer<T>(bitPattern: UInt(address)) else {
      fatalError("UserMemory.pointer: address 0")
    }
    return p
  }
}
