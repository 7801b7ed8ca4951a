import ExoABI

/// Virtual memory: the program's window slots, mapped, unmapped,
/// protected, allocated on demand, and copied on write after a fork.
extension LibOS {
  /// Allocates a zero page and maps it at `slot` with `rights`.
  public func allocate(slot: Int, rights: Rights = [.read, .write], private: Bool = false)
    throws(ExoError)
  {
    guard slot >= 0, slot < bounds.windowSlots else { throw .outOfRange }
    revocationPoint()
    guard slots[slot].page == none else { throw .slotInUse }
    let (page, root) = try allocatePage(high: `private`)
    do {
      try check(
        kernel.sys(
          PageMapArguments(
            target: me, envCap: none, memoryCap: root, page: page, slot: UInt64(slot),
            rights: rights.rawValue)))
    } catch {
      _ = kernel.sys(CapabilityDeleteArguments(capability: root))
      throw error
    }
    var record = SlotRecord()
    record.page = page
    record.capability = root
    record.rights = rights
    record.demand = slots[slot].demand
    record.isPrivate = `private`
    clock += 1
    record.lastUse = clock
    slots[slot] = record
  }

  /// Maps page `page`, covered by capability `capability` (held by this
  /// environment), at `slot`.
  public func map(slot: Int, page: UInt64, capability: UInt64, rights: Rights) throws(ExoError) {
    guard slot >= 0, slot < bounds.windowSlots else { throw .outOfRange }
    try check(
      kernel.sys(
        PageMapArguments(
          target: me, envCap: none, memoryCap: capability, page: page, slot: UInt64(slot),
          rights: rights.rawValue)))
    var record = SlotRecord()
    record.page = page
    record.capability = capability
    record.rights = rights
    record.demand = slots[slot].demand
    slots[slot] = record
  }

  /// Unmaps `slot` and gives its page back when nothing else uses it.
  public func unmap(slot: Int) throws(ExoError) {
    guard slot >= 0, slot < bounds.windowSlots else { throw .outOfRange }
    revocationPoint()
    guard slots[slot].page != none else { throw .slotEmpty }
    try check(kernel.sys(PageUnmapArguments(target: me, envCap: none, slot: UInt64(slot))))
    let c = slots[slot].capability
    let demand = slots[slot].demand
    slots[slot] = SlotRecord()
    slots[slot].demand = demand
    if plantedBug == .unmapKeepsPage { return }
    release(capability: c)
  }

  /// Changes what the program may do with `slot`. A copy-on-write page
  /// stays read-only in the binding until it is written.
  public func protect(slot: Int, rights: Rights) throws(ExoError) {
    guard slot >= 0, slot < bounds.windowSlots else { throw .outOfRange }
    revocationPoint()
    guard slots[slot].page != none else { throw .slotEmpty }
    var record = slots[slot]
    record.rights = rights
    // A page this environment may only read (shared by a fork parent
    // read-only) becomes writable by being copied on the first write.
    let held = Rights(rawValue: capability(record.capability, .rights))
    if rights.contains(.write) && !held.contains(.write) { record.copyOnWrite = true }
    try check(
      kernel.sys(
        PageProtectArguments(
          target: me, envCap: none, slot: UInt64(slot), rights: record.boundRights.rawValue)))
    if plantedBug == .protectForgetsRecord { return }
    slots[slot] = record
  }

  /// Marks `range` as demand-allocated: the first touch of an unmapped slot
  /// maps a zero page read-write.
  public func demand(_ range: Range<Int>) {
    for s in range where s >= 0 && s < userSlots { slots[s].demand = true }
  }

  // MARK: Access

  /// Reads the word at `address`; faults are handled on the way.
  public func load(_ address: UInt64) -> UInt64 {
    touch(address)
    return kernel.load(address)
  }

  /// Writes the word at `address`; faults are handled on the way.
  public func store(_ address: UInt64, _ value: UInt64) {
    touch(address)
    kernel.store(address, value)
    if let s = slot(of: address) { slots[s].dirty = true }
  }

  /// Word `index` of window slot `slot`.
  public func load(slot: Int, word index: Int) -> UInt64 {
    load(address(slot: slot) + UInt64(index) * 8)
  }
  public func store(slot: Int, word index: Int, _ value: UInt64) {
    store(address(slot: slot) + UInt64(index) * 8, value)
  }

  func touch(_ address: UInt64) {
    preemptionPoint()
    revocationPoint()
    clock += 1
    if let s = slot(of: address) { slots[s].lastUse = clock }
  }

  // MARK: Faults

  /// The libOS's exception handler: resolves demand and copy-on-write page
  /// faults, then asks ``faultHook``. False: not handled (the environment
  /// ends).
  public func handle(_ fault: Fault) -> Bool {
    if fault.vector == 14, let s = slot(of: fault.address), s < userSlots {
      // A revocation may take the page while the fault is being resolved
      // (the resolution then fails): look again, a few times.
      for _ in 0..<4 {
        // A page the kernel took (given back or repossessed, here or from
        // a fork relative that shared it) before the libOS noticed.
        if slots[s].page != none, binding(me, s, .page) != slots[s].page,
          plantedBug != .reconcileSkipped
        {
          forget(slot: s, lost: slots[s].dirty || slots[s].copyOnWrite)
        }
        let record = slots[s]
        let resolved: Bool
        if record.page != none, record.copyOnWrite, fault.isWrite, record.rights.contains(.write) {
          resolved = (try? copyOnWrite(slot: s)) != nil
        } else if record.page == none, record.demand {
          resolved = (try? allocate(slot: s)) != nil
        } else {
          break
        }
        if resolved {
          faultsHandled += 1
          return true
        }
        guard slots[s].page == none || binding(me, s, .page) != slots[s].page else { break }
      }
    }
    if fault.vector == 14, slot(of: fault.address) == scratchSlot, replaceScratch() {
      return true
    }
    if let hook = faultHook, hook(fault) { return true }
    print(
      "libos: environment \(me): unhandled exception \(fault.vector) at 0x\(hex(fault.address))")
    return false
  }

  /// Allocates a page, maps it at the scratch slot, runs `fill` to write
  /// it, unmaps it and returns it with its root capability. If a
  /// revocation takes the page during `fill`, the fault handler maps a
  /// fresh one at the scratch slot, and `fill` runs again on that.
  /// `high`: the page's root capability goes in a high slot (a libOS page,
  /// see ``allocatePage(high:)``).
  func copyThroughScratch(high: Bool = false, _ fill: () throws(ExoError) -> Void)
    throws(ExoError) -> (page: UInt64, capability: UInt64)
  {
    let scratch = UInt64(scratchSlot)
    var (page, root) = try allocatePage(high: high)
    // A revocation abort may repossess the new page before it is mapped
    // (its root is then gone, and the map refused): take another.
    for attempt in 1...4 {
      let mapped = kernel.sys(
        PageMapArguments(
          target: me, envCap: none, memoryCap: root, page: page, slot: scratch,
          rights: Rights([.read, .write]).rawValue))
      guard let error = mapped.error else { break }
      guard attempt < 4, !holds(root: root, page: page) else {
        release(capability: root)
        throw error
      }
      (page, root) = try allocatePage(high: high)
    }
    for _ in 0..<8 {
      try fill()
      let bound = binding(me, scratchSlot, .page)
      if bound == page || bound == none { break }
      (page, root) = (bound, binding(me, scratchSlot, .capability))
    }
    guard binding(me, scratchSlot, .page) == page else { throw .slotEmpty }
    try check(kernel.sys(PageUnmapArguments(target: me, envCap: none, slot: scratch)))
    return (page, root)
  }

  /// A fault at the scratch slot after a revocation took the page being
  /// filled there: maps a fresh one (``copyThroughScratch(_:)`` fills it
  /// again).
  func replaceScratch() -> Bool {
    guard binding(me, scratchSlot, .page) == none else { return false }
    let rw: Rights = [.read, .write]
    // As in copyThroughScratch: a page repossessed before it is mapped is
    // replaced by another.
    for _ in 0..<4 {
      guard let (page, root) = try? allocatePage() else { return false }
      if kernel.sys(
        PageMapArguments(
          target: me, envCap: none, memoryCap: root, page: page, slot: UInt64(scratchSlot),
          rights: rw.rawValue)
      ).error == nil {
        return true
      }
      guard !holds(root: root, page: page) else {
        release(capability: root)
        return false
      }
    }
    return false
  }

  /// Whether capability slot `root` still holds this environment's root
  /// memory capability for `page` (a revocation abort deletes it when it
  /// repossesses the page).
  func holds(root: UInt64, page: UInt64) -> Bool {
    capability(root, .kind) == CapabilityKind.memory.rawValue && capability(root, .owner) == me
      && capability(root, .parent) == none && capability(root, .base) == page
  }

  /// Gives `slot`, shared copy-on-write, a private writable page with the
  /// same contents. When this environment is the page's last user, it only
  /// makes the binding writable again.
  func copyOnWrite(slot s: Int) throws(ExoError) {
    let record = slots[s]
    let c = record.capability
    let sole =
      capability(c, .owner) == me && capability(c, .parent) == none
      && capability(c, .children) == 0 && page(record.page, .mappings) == 1
    if sole || (plantedBug == .copyOnWriteSkipsCopy && record.rights.contains(.write)) {
      try check(
        kernel.sys(
          PageProtectArguments(
            target: me, envCap: none, slot: UInt64(s), rights: record.rights.rawValue)))
      slots[s].copyOnWrite = false
      return
    }
    let (page, root) = try copyThroughScratch { () throws(ExoError) in
      kernel.copyPage(from: address(slot: s), to: address(slot: scratchSlot))
    }
    if binding(me, s, .page) != record.page {
      // The shared page was taken (revocation) before or during the copy;
      // the fault handler has forgotten it and mapped a zero page there.
      // The copy is of nothing: give its page back.
      release(capability: root)
      return
    }
    try check(kernel.sys(PageUnmapArguments(target: me, envCap: none, slot: UInt64(s))))
    release(capability: c)
    try check(
      kernel.sys(
        PageMapArguments(
          target: me, envCap: none, memoryCap: root, page: page, slot: UInt64(s),
          rights: record.rights.rawValue)))
    var copied = record
    copied.page = page
    copied.capability = root
    copied.copyOnWrite = false
    copied.dirty = true
    slots[s] = copied
  }
}

/// `value` in hexadecimal (embedded `print` has no format specifiers).
public func hex(_ value: UInt64) -> String {
  var bytes: [UInt8] = []
  var v = value
  repeat {
    let digit = UInt8(v & 15)
    bytes.append(digit < 10 ? 0x30 + digit : 0x57 + digit)
    v >>= 4
  } while v != 0
  return String(decoding: bytes.reversed(), as: UTF8.self)
}
