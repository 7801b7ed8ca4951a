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
      if error == .slotInUse && capability(c, .kind) != CapabilityKind.empty.rawValue { continue }
      throw error
    }
    throw .outOfRange
  }

  /// Whether physical page `page` may be picked under the colouring option.
  func hasColour(_ page: UInt64) -> Bool {
    guard let (colours, colour) = pageColour, colours > 0 else { return true }
    return page % colours == colour
  }

  /// Allocates one free page: returns it and the root capability that now
  /// covers it (held by this environment, rights read, write, execute,
  /// grant). Throws `outOfRange` when no free page (of the colour) is left.
  public func allocatePage() throws(ExoError) -> (page: UInt64, capability: UInt64) {
    var capabilityStart = 0
    for step in 0..<bounds.pages {
      let index = (pageCursor + step) % bounds.pages
      let page = firstPage + UInt64(index)
      guard hasColour(page), self.page(page, .owner) == none else { continue }
      guard let slot = freeCapabilitySlot(from: capabilityStart) else { throw .outOfRange }
      let result = kernel.sys(.pageAllocate, page, 1, slot)
      if result.error == nil {
        pageCursor = (index + 1) % bounds.pages
        return (page, slot)
      }
      // Taken meanwhile: the slot (look further) or the page (next page).
      guard result.error == .slotInUse else { throw result.error ?? .outOfRange }
      if capability(slot, .kind) != CapabilityKind.empty.rawValue {
        capabilityStart = Int(slot) + 1
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
      kernel.sys(.capabilityDelete, c).error == nil
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
      if capability(c, .children) == 0, capability(c, .bindings) == 0,
        kernel.sys(.capabilityDelete, c).error == nil
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
