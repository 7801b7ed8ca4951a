import ExoABI

/// Children: waiting for them, killing them, and giving back everything
/// they held.
extension LibOS {
  /// Yields until `child` has exited (or was destroyed). A runnable child
  /// gets the rest of each turn (it may own no slice).
  public func wait(for child: Child) {
    while true {
      switch state(child.environment) {
      case .dying, .free: return
      case .runnable: _ = kernel.sys(YieldToArguments(target: child.environment))
      default: yield()
      }
    }
  }

  /// Stops `child` for good (environmentDestroy).
  public func kill(_ child: Child) throws(ExoError) {
    try check(
      kernel.sys(EnvironmentDestroyArguments(target: child.environment, envCap: child.capability)))
  }

  /// Tears down `child` (dying) step by step until its slot is free, then
  /// gives back the pages it shared with this environment. Returns its exit
  /// status.
  @discardableResult
  public func reap(_ child: Child) throws(ExoError) -> UInt64 {
    let status = environment(child.environment, .exitStatus)
    while try value(kernel.sys(EnvironmentReclaimArguments(target: child.environment))) == 1 {}
    children.removeAll { $0 == child }
    collect()
    return status
  }

  /// Waits for every child to exit and reaps it. Returns how many exited
  /// with a status other than 0 (or were destroyed).
  @discardableResult
  public func reapAll() throws(ExoError) -> Int {
    var failed = 0
    while let child = children.first {
      wait(for: child)
      if try reap(child) != 0 { failed += 1 }
    }
    return failed
  }
}
