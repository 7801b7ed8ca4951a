/// The four words a protected control transfer carries (`call`, `send`,
/// `reply`): in the callee's `rsi`, `rdx`, `rcx`, `r8` and, for a reply, in
/// the caller's `rdx`, `rsi`, `r10`, `r8`.
public struct Message: Equatable, Hashable, Sendable {
  public var m0, m1, m2, m3: UInt64
  public init(_ m0: UInt64 = 0, _ m1: UInt64 = 0, _ m2: UInt64 = 0, _ m3: UInt64 = 0) {
    (self.m0, self.m1, self.m2, self.m3) = (m0, m1, m2, m3)
  }
}
