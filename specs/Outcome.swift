import ExoABI

/// What a transition returns: the words a `syscall` leaves in `rax` (status:
/// 0 or an `ExoError` code) and `rdx` (value; 0 on error).
public struct Outcome<D: SpecDomain> {
  public var status: D.W
  public var value: D.W

  public init(status: D.W, value: D.W) {
    self.status = status
    self.value = value
  }
}

/// The checks of a transition so far: whether all passed, and if not, the
/// error of the first that failed (docs/ABI.md: "the first check that fails
/// decides the error").
public struct Verdict<D: SpecDomain> {
  public let domain: D
  /// Every check so far passed.
  public private(set) var ok: D.B
  /// The first failed check's error code (meaningless while `ok`).
  public private(set) var error: D.W

  public init(_ domain: D) {
    self.domain = domain
    ok = domain.bool(true)
    error = domain.word(0)
  }

  /// Fails with `code` unless `condition` holds (checked only while all
  /// previous checks passed).
  @inline(__always)
  public mutating func require(_ condition: @autoclosure () -> D.B, else code: ExoError) {
    domain.check(&ok, &error, condition, code.rawValue)
  }
}
