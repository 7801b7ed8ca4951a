import ExoABI

/// A child environment this libOS created.
public struct Child: Equatable, Sendable {
  /// The environment.
  public var environment: UInt64
  /// The environment capability the parent holds for it (`control`, `call`).
  public var capability: UInt64
  /// The slice position given to it, or `none`.
  public var slice: UInt64
}

/// Fork in user space with copy-on-write. The kernel starts every new
/// environment at the program's entry with a fresh copy of the program's
/// data; what a fork child inherits is the window. The parent:
///
/// 1. creates the child (stopped);
/// 2. shares every mapped program slot: derives a read-only capability for
///    the page, grants it to the child, maps it read-only there, and makes
///    its own binding read-only, both marked copy-on-write;
/// 3. writes a fork record (function, argument, each slot's rights and
///    flags) into a page mapped at the child's `forkRecordSlot`;
/// 4. gives the child a slice and starts it.
///
/// The child's ``LibOS/boot()`` reads the record and rebuilds its tables
/// from its bindings; a write in either copies the page (``LibOS/handle(_:)``).
extension LibOS {
  static var forkMagic: UInt64 { 0x4B52_4F46_534F_4C42 }  // "BLOSFORK"

  /// Forks: a child whose window is this environment's as of now,
  /// copy-on-write, and which runs `function` (the program's choice) with
  /// `argument`. The child is stopped until fully set up; with
  /// `start: false` it stays stopped.
  @discardableResult
  public func fork(function: UInt64, argument: UInt64 = 0, start: Bool = true) throws(ExoError)
    -> Child
  {
    revocationPoint()
    // Another environment may take the slot or the capability slot between
    // the look and the call: look again.
    var created: (UInt64, UInt64)? = nil
    for _ in 0..<bounds.capabilities where created == nil {
      guard let e = freeEnvironment(), let c = freeCapabilitySlot() else { throw .outOfRange }
      let result = kernel.sys(EnvironmentCreateArguments(environment: e, slot: c))
      if result.error == nil {
        created = (e, c)
      } else if result.error != .slotInUse {
        throw result.error ?? .outOfRange
      }
    }
    guard let (e, envCap) = created else { throw .outOfRange }
    var child = Child(environment: e, capability: envCap, slice: none)
    do throws(ExoError) {
      for s in 0..<userSlots where slots[s].page != none && !slots[s].isPrivate {
        try share(slot: s, with: child)
      }
      try writeForkRecord(for: child, function: function, argument: argument)
      child.slice = giveSlice(to: child)
      if start {
        let entries = kernel.entryPoints
        try check(
          kernel.sys(
            EnvironmentStartArguments(
              target: e, envCap: envCap, rip: entries.program, rsp: UserLayout.stackTop)))
      }
    } catch {
      // Undo: the kernel takes back whatever the child holds.
      _ = kernel.sys(EnvironmentDestroyArguments(target: e, envCap: envCap))
      while kernel.sys(EnvironmentReclaimArguments(target: e)).value == 1 {}
      collect()
      throw error
    }
    children.append(child)
    return child
  }

  /// Starts a child forked with `start: false`.
  public func start(_ child: Child) throws(ExoError) {
    try check(
      kernel.sys(
        EnvironmentStartArguments(
          target: child.environment, envCap: child.capability, rip: kernel.entryPoints.program,
          rsp: UserLayout.stackTop)))
  }

  func freeEnvironment() -> UInt64? {
    for e in 0..<bounds.environments where state(UInt64(e)) == .free { return UInt64(e) }
    return nil
  }

  /// Gives `child` the first free slice position, if any.
  func giveSlice(to child: Child) -> UInt64 {
    for p in 0..<bounds.slices where sliceOwner(p) == none {
      if kernel.sys(
        SliceAllocateArguments(
          position: UInt64(p), target: child.environment, envCap: child.capability)
      ).error == nil {
        return UInt64(p)
      }
    }
    return none
  }

  /// Shares `slot` with `child` copy-on-write (or, for a read-only slot,
  /// read-only). Falls back to an eager copy when the capability cannot be
  /// derived further (maximum depth).
  func share(slot s: Int, with child: Child) throws(ExoError) {
    let record = slots[s]
    let read: Rights = [.read]
    let derived: UInt64
    do throws(ExoError) {
      derived = try withFreeCapabilitySlot { c in
        kernel.sys(
          CapabilityDeriveArguments(
            capability: record.capability, child: c, rights: Rights([.read, .grant]).rawValue,
            base: record.page, count: 1))
      }
    } catch {
      guard error == .invalidArgument || error == .insufficientRights else { throw error }
      try copyEagerly(slot: s, to: child)  // at the maximum depth
      return
    }
    do throws(ExoError) {
      try check(
        kernel.sys(CapabilityGrantArguments(capability: derived, target: child.environment)))
    } catch {
      _ = kernel.sys(CapabilityDeleteArguments(capability: derived))
      throw error
    }
    try check(
      kernel.sys(
        PageMapArguments(
          target: child.environment, envCap: child.capability, memoryCap: derived,
          page: record.page, slot: UInt64(s), rights: read.rawValue)))
    if record.rights.contains(.write) && !record.copyOnWrite
      && plantedBug != .forkLeavesParentWritable
    {
      try check(
        kernel.sys(
          PageProtectArguments(target: me, envCap: none, slot: UInt64(s), rights: read.rawValue)))
      slots[s].copyOnWrite = true
    }
  }

  /// Gives `child` its own copy of `slot` now.
  func copyEagerly(slot s: Int, to child: Child) throws(ExoError) {
    let (page, root) = try copyThroughScratch { () throws(ExoError) in
      kernel.copyPage(from: address(slot: s), to: address(slot: scratchSlot))
    }
    try check(
      retryingRevocation {
        kernel.sys(CapabilityGrantArguments(capability: root, target: child.environment))
      })
    // Marked copy-on-write in the record: the first write makes it writable.
    let rights = slots[s].rights.subtracting(.write)
    try check(
      kernel.sys(
        PageMapArguments(
          target: child.environment, envCap: child.capability, memoryCap: root, page: page,
          slot: UInt64(s), rights: rights.rawValue)))
  }

  /// The fork record: magic, function, argument, parent, then one byte per
  /// window slot (rights, bit 6 copy-on-write, bit 7 demand), eight to a
  /// word, then one bit per slot shared with the child, 64 to a word.
  ///
  /// The parent keeps the record's page (its root capability, in
  /// ``retired`` until the child has let go of it) and grants the child a
  /// derived read-only capability: a revocation aimed at a child that has
  /// not booted yet cannot take its record from under it.
  func writeForkRecord(for child: Child, function: UInt64, argument: UInt64) throws(ExoError) {
    let (page, root) = try copyThroughScratch(high: true) { () throws(ExoError) in
      let base = address(slot: scratchSlot)
      kernel.store(base, Self.forkMagic)
      kernel.store(base + 8, function)
      kernel.store(base + 16, argument)
      kernel.store(base + 24, me)
      // One pass: a word of bytes every 8 slots, a word of bits every 64.
      let mapped = base + 32 + UInt64((userSlots + 7) / 8) * 8
      let count = userSlots
      slots.withUnsafeBufferPointer { records in
        var bits: UInt64 = 0
        for first in stride(from: 0, to: count, by: 8) {
          var word: UInt64 = 0
          for s in first..<min(first + 8, count) {
            let rights = records[s].rights
            let page = records[s].page
            var byte = rights.rawValue & 0x3F
            if page != none && rights.contains(.write) { byte |= 0x40 }  // copy-on-write in both
            if records[s].demand { byte |= 0x80 }
            word |= byte &<< UInt64(truncatingIfNeeded: (s &- first) &* 8)
            if page != none && !records[s].isPrivate {
              bits |= 1 &<< UInt64(truncatingIfNeeded: s & 63)
            }
          }
          kernel.store(base + 32 + UInt64(first / 8) * 8, word)
          // Which slots were shared: one bit each, after the bytes.
          if (first + 8) % 64 == 0 || first + 8 >= count {
            kernel.store(mapped + UInt64(first / 64) * 8, bits)
            bits = 0
          }
        }
      }
    }
    retired.append(root)  // deleted by collect() once the child unmapped it
    let derived = try withFreeCapabilitySlot { c in
      kernel.sys(
        CapabilityDeriveArguments(
          capability: root, child: c, rights: Rights([.read, .grant]).rawValue, base: page, count: 1
        ))
    }
    do throws(ExoError) {
      try check(
        kernel.sys(CapabilityGrantArguments(capability: derived, target: child.environment)))
    } catch {
      _ = kernel.sys(CapabilityDeleteArguments(capability: derived))
      throw error
    }
    try check(
      kernel.sys(
        PageMapArguments(
          target: child.environment, envCap: child.capability, memoryCap: derived, page: page,
          slot: UInt64(forkRecordSlot), rights: Rights([.read]).rawValue)))
  }

  /// In a fork child: rebuilds the slot records from the bindings and the
  /// fork record, then gives the record's page back. Nil without a record.
  func adoptForkRecord() throws(ExoError) -> ForkStart? {
    let recordPage = binding(me, forkRecordSlot, .page)
    guard recordPage != none else { return nil }
    let base = address(slot: forkRecordSlot)
    guard kernel.load(base) == Self.forkMagic else { return nil }
    let start = ForkStart(
      function: kernel.load(base + 8), argument: kernel.load(base + 16),
      parent: kernel.load(base + 24))
    let mapped = base + 32 + UInt64((userSlots + 7) / 8) * 8
    // The bound slots among the user slots: the kernel's count of this
    // window's bound slots less those above the user slots. Past the last
    // one no binding is read.
    var boundLeft = environment(me, .bindings)
    for s in userSlots..<bounds.windowSlots where binding(me, s, .page) != none {
      boundLeft &-= 1
    }
    var lost: [Int] = []
    let count = userSlots
    slots.withUnsafeMutableBufferPointer { records in
      var bits: UInt64 = 0
      for first in stride(from: 0, to: count, by: 8) {
        if first % 64 == 0 { bits = kernel.load(mapped + UInt64(first / 64) * 8) }
        let bytes = kernel.load(base + 32 + UInt64(first / 8) * 8)
        let end = min(first + 8, count)
        let sharedHere = (bits >> UInt64(first % 64)) & 0xFF
        if bytes == 0 && sharedHere == 0 && boundLeft == 0 {
          // Nothing recorded, shared or bound: empty records.
          for s in first..<end { records[s] = SlotRecord() }
          continue
        }
        for s in first..<end {
          let byte = (bytes &>> UInt64(truncatingIfNeeded: (s &- first) &* 8)) & 0xFF
          let shared = (bits &>> UInt64(truncatingIfNeeded: s & 63)) & 1 != 0
          var record = SlotRecord()
          record.demand = byte & 0x80 != 0
          let page = boundLeft == 0 ? none : binding(me, s, .page)
          if page == none && shared {
            // Shared by the parent, then taken by a revocation before this
            // environment booted: lost, as a forgotten slot is.
            records[s] = SlotRecord()
            lost.append(s)
            continue
          }
          if page != none {
            boundLeft &-= 1
            record.page = page
            record.capability = binding(me, s, .capability)
            record.rights = Rights(rawValue: byte & 0x3F)
            record.copyOnWrite = byte & 0x40 != 0
            record.dirty = true
          }
          records[s] = record
        }
      }
    }
    for s in lost { forget(slot: s, lost: true) }
    let recordCapability = binding(me, forkRecordSlot, .capability)
    try check(
      kernel.sys(PageUnmapArguments(target: me, envCap: none, slot: UInt64(forkRecordSlot))))
    release(capability: recordCapability)
    return start
  }
}
