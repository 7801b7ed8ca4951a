import ExoABI

/// The physical-page manager: pages are picked by name from the exported
/// page table (optionally of one colour), capability slots from the
/// exported capability table. Another environment may take the same page or
/// slot between the look and the call; the kernel then says `slotInUse` and
/// the search goes on.
extension LibOS {
  /// A free capability slot, by the exported table, from `start` on.
  func freeCapabilitySlot(from start: Int = 0) -> UInt64? {
    for c in start..<bounds.capabilities
    where capability(UInt64(c), .kind) == CapabilityKind.empty.rawValue {
      return UInt64(c)
    }
    return nil
  }

  /// Runs `attempt` with a free capability slot; when another environment
  /// took the slot between the look and the call (`slotInUse` and the slot
  /// is no longer empty), tries again with another. Returns the slot used.
  func withFreeCapabilitySlot(_ attempt: (UInt64) -> SyscallResult) throws(ExoError) -> UInt64 {
    for _ in 0..<bounds.capabilities {
      guard let c = freeCapabilitySlot() else { throw .outOfRange }
      let result = attempt(c)
      guard let error = result.error else { return c }
      // Taken meanwhile (it may even be free again by now: a revocation
      // can free it while the call returns).
      if error == .slotInUse { continue }
      throw error
    }
    throw .outOfRange
  }

  /// Whether physical page `page` may be picked under the colouring option.
  func hasColour(_ page: UInt64) -> Bool {
    guard let (colours, colour) = pageColour, colours > 0 else { return true }
    return page % colours == colour
  }

  /// The highest free capability slot, by the exported table, below `end`.
  func highestFreeCapabilitySlot(below end: Int) -> UInt64? {
    for c in stride(from: min(end, bounds.capabilities) - 1, through: 0, by: -1)
    where capability(UInt64(c), .kind) == CapabilityKind.empty.rawValue {
      return UInt64(c)
    }
    return nil
  }

  /// Allocates one free page: returns it and the root capability that now
  /// covers it (held by this environment, rights read, write, execute,
  /// grant). Throws `outOfRange` when no free page (of the colour) is left.
  ///
  /// `high`: the capability goes in the highest free slot rather than the
  /// lowest. The libOS keeps its own pages there: an abort takes the lowest
  /// root capabilities first, so it takes the program's pages before the
  /// libOS's handler and thread stacks. While this environment's
  /// revocation request is pending the kernel refuses allocation (`busy`):
  /// the request is answered first (see ``retryingRevocation(_:)``).
  public func allocatePage(high: Bool = false) throws(ExoError) -> (
    page: UInt64, capability: UInt64
  ) {
    var capabilityStart = 0
    var capabilityEnd = bounds.capabilities
    for step in 0..<bounds.pages {
      let index = (pageCursor + step) % bounds.pages
      let page = firstPage + UInt64(index)
      guard hasColour(page), self.page(page, .owner) == none else { continue }
      let free =
        high
        ? highestFreeCapabilitySlot(below: capabilityEnd)
        : freeCapabilitySlot(from: capabilityStart)
      guard let slot = free else { throw .outOfRange }
      let result = retryingRevocation {
        kernel.sys(PageAllocateArguments(page: page, count: 1, slot: slot))
      }
      if result.error == nil {
        pageCursor = (index + 1) % bounds.pages
        return (page, slot)
      }
      // Taken meanwhile: the slot (look further) or the page (next page).
      guard result.error == .slotInUse else { throw result.error ?? .outOfRange }
      if capability(slot, .kind) != CapabilityKind.empty.rawValue {
        if high { capabilityEnd = Int(slot) } else { capabilityStart = Int(slot) + 1 }
      }
    }
    throw .outOfRange
  }

  /// Gives capability `c` back if nothing uses it any more (no bindings, no
  /// children): a root gives its pages back to the kernel. Otherwise it is
  /// kept in ``retired`` for ``collect()``.
  func release(capability c: UInt64) {
    guard c != none, capability(c, .owner) == me else { return }
    if capability(c, .children) == 0, capability(c, .bindings) == 0,
      kernel.sys(CapabilityDeleteArguments(capability: c)).error == nil
    {
      return
    }
    if !retired.contains(c) { retired.append(c) }
  }

  /// Deletes every retired capability that nothing uses any more (after a
  /// fork child copied its pages away or was reaped). Returns how many.
  @discardableResult
  public func collect() -> Int {
    var kept: [UInt64] = []
    var deleted = 0
    for c in retired {
      if capability(c, .owner) != me || capability(c, .kind) == CapabilityKind.empty.rawValue {
        continue  // gone already (revoked by an ancestor)
      }
      // A root is refused (`busy`) while a request is pending: answer it
      // (which may give this very capability back).
      if capability(c, .children) == 0, capability(c, .bindings) == 0,
        retryingRevocation({
          capability(c, .owner) == me && capability(c, .kind) != CapabilityKind.empty.rawValue
            ? kernel.sys(CapabilityDeleteArguments(capability: c)) : .failure(.invalidCapability)
        }).error == nil
      {
        deleted += 1
      } else {
        kept.append(c)
      }
    }
    retired = kept
    return deleted
  }
}
