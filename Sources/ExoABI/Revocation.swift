/// Where a revocation request stands (`RevocationField.phase`).
public enum RevocationPhase: UInt64, CaseIterable, Sendable {
  /// No request is pending.
  case none = 0
  /// Asked; the deadline has not been acted on.
  case requested = 1
  /// The deadline passed: the kernel is taking pages by force.
  case aborting = 2
}

/// A revocation record's words (one per environment, docs/ABI.md
/// "Revocation state").
public enum RevocationField: UInt64, CaseIterable, Sendable {
  /// A ``RevocationPhase`` raw value.
  case phase = 0
  /// Pages asked for.
  case requested
  /// The `ticks` value from which the request has expired.
  case deadline
  /// Pages given back with `revocationReturn` for this request.
  case returned
  /// Pages the environment owned when the request was made.
  case held
  /// The repossession vector's header: how many entries are valid.
  case repossessed

  public static let wordCount = 6
}

/// The `vector` of an upcall frame: why the kernel entered the
/// environment's `upcall` entry. Never a CPU exception vector.
public enum UpcallReason: UInt64, CaseIterable, Sendable {
  /// A revocation request: arguments (pages asked, deadline tick).
  case revocationRequest = 256
  /// An abort completed: arguments (pages repossessed, pages asked).
  case repossession = 257
  /// A capability this environment held was revoked: (slot, kind).
  case capabilityLost = 258
  /// A slice this environment owned was freed by another: (position, 0).
  case sliceLost = 259
  /// A frame was copied into the buffer of this environment's filter:
  /// (filter slot, frames delivered to it so far). Not raised in the
  /// environment that is running (it polls).
  case frameArrived = 260
}

/// Limits of the revocation protocol.
public enum RevocationLimits {
  /// The longest deadline a request may give, in ticks.
  public static let maximumDeadline: UInt64 = 1000
  /// The deadline of a request the kernel makes under memory pressure.
  public static let pressureDeadline: UInt64 = 4
  /// Abort steps the kernel runs per environment at each timer tick.
  public static let abortStepsPerTick = 4
}
