/// Planted kernel bugs for testing the differential tester. The kernel runs
/// the spec, so each is a one-line patch of the spec's transition code
/// (``patch``), which `exo build`'s `KernelBuild.run(mutants:)` compiles
/// into `.build/exo/kernel-mutant-<name>.elf` on demand. The differential
/// tester must find every one (`exo difftest --kernel-mutant NAME`).
public enum KernelMutant: String, CaseIterable, Sendable {
  case mapSkipsRightsCheck
  case protectSkipsRightsCheck
  case unmapLeaksMapping
  case deleteLeaksPage
  case grantIgnoresBindings
  case deriveDepthOffByOne
  case reclaimIgnoresParent
  case advanceSkipsCurrentSlice
  case createForgetsCapabilityCount
  case sliceFreeIgnoresOwner
  case yieldToAcceptsStopped
  case callSkipsBusyCheck
  case unmapKeepsEntry
  case entryAlwaysWritable
  case entryAlwaysExecutable
  case windowSkipsFlush
  case allocateSkipsZeroing
  case zeroingMissesLastWord
  case syscallLeaksKernelPointer
  case exitSkipsR12
  case startKeepsFPU
  case switchSkipsFPUSave
  case transferLeaksCallerRegister
  case exceptionFrameInZeroWindow
  case exceptionFrameNextSlot
  case upcallIgnoresWriteRight
  case upcallFrameFromRunning
  case mapChecksCallerCapability
  case setEntriesAcceptsDying
  case allocateRunPastEnd
  case installSkipsOverlapCheck
  case removeKeepsOwner
  case transmitReadsNextPage

  /// What the mutation does to the kernel.
  public var summary: String {
    switch self {
    case .mapSkipsRightsCheck:
      "pageMap does not check the binding's rights against the capability's"
    case .protectSkipsRightsCheck:
      "pageProtect does not check the new rights against the capability's"
    case .unmapLeaksMapping: "removing a binding does not count down the page's mappings"
    case .deleteLeaksPage: "deleting a root memory capability leaves its last page owned"
    case .grantIgnoresBindings: "capabilityGrant moves a capability that backs bindings"
    case .deriveDepthOffByOne: "capabilityDerive allows a child of a maximum-depth capability"
    case .reclaimIgnoresParent:
      "environmentReclaim lets anyone reclaim a child of a live parent"
    case .advanceSkipsCurrentSlice: "the scheduler never rescans the current slice"
    case .createForgetsCapabilityCount:
      "environmentCreate does not count the new capability for its holder"
    case .sliceFreeIgnoresOwner: "sliceFree frees slices of anyone"
    case .yieldToAcceptsStopped: "yieldTo gives the slice to a stopped environment"
    case .callSkipsBusyCheck: "call and send enter a callee that is already serving a call"
    case .unmapKeepsEntry: "removing a binding leaves its page-table entry present"
    case .entryAlwaysWritable: "every window entry is writable, whatever the binding's rights"
    case .entryAlwaysExecutable:
      "every window entry is executable, whatever the binding's rights (no NX bit)"
    case .windowSkipsFlush: "changing a window entry does not invalidate its TLB entry"
    case .allocateSkipsZeroing: "an allocated page is handed out with its old contents"
    case .zeroingMissesLastWord: "zeroing an allocated page leaves its last 16 bytes"
    case .syscallLeaksKernelPointer:
      "a call that runs in place returns a kernel stack address in r9"
    case .exitSkipsR12: "the kernel's exit path does not restore r12 (the kernel's value leaks)"
    case .startKeepsFPU:
      "environmentStart leaves the x87/SSE state the environment had before it stopped"
    case .switchSkipsFPUSave:
      "switching environments does not save the x87/SSE state of the one that ran"
    case .transferLeaksCallerRegister:
      "a protected control transfer enters the callee with the caller's r12"
    case .exceptionFrameInZeroWindow:
      "an exception frame goes into environment 0's page at the frame's slot, not the faulting environment's"
    case .exceptionFrameNextSlot:
      "an exception frame is written into the page bound at the next window slot"
    case .upcallIgnoresWriteRight:
      "an upcall frame is written where the handler stack's slot is bound without write"
    case .upcallFrameFromRunning:
      "an upcall frame holds the running environment's registers, not the target's"
    case .mapChecksCallerCapability:
      "pageMap checks that the caller, not the target, holds the memory capability"
    case .setEntriesAcceptsDying: "environmentSetEntries acts on a dying environment"
    case .allocateRunPastEnd: "pageAllocate accepts a run that ends one page past the table"
    case .installSkipsOverlapCheck: "filterInstall installs a filter that overlaps an active one"
    case .removeKeepsOwner: "filterRemove frees the filter slot but leaves its owner"
    case .transmitReadsNextPage:
      "the kernel's memory read (pageByte) for the transmit rule reads the page after the bound one"
    }
  }

  /// The transition whose code the patch changes (the obligations of
  /// `exoverify --only` that must fail); nil for a bug in the kernel's
  /// machine code, which the spec does not decide.
  public var transition: String? {
    switch self {
    case .mapSkipsRightsCheck: "pageMap"
    case .protectSkipsRightsCheck: "pageProtect"
    case .unmapLeaksMapping: "pageUnmap"
    case .deleteLeaksPage: "capabilityDelete"
    case .grantIgnoresBindings: "capabilityGrant"
    case .deriveDepthOffByOne: "capabilityDerive"
    case .reclaimIgnoresParent: "environmentReclaim"
    case .advanceSkipsCurrentSlice: "yield"
    case .createForgetsCapabilityCount: "environmentCreate"
    case .sliceFreeIgnoresOwner: "sliceFree"
    case .yieldToAcceptsStopped: "yieldTo"
    case .callSkipsBusyCheck: "call"
    case .mapChecksCallerCapability: "pageMap"
    case .setEntriesAcceptsDying: "environmentSetEntries"
    case .allocateRunPastEnd: "pageAllocate"
    case .installSkipsOverlapCheck: "filterInstall"
    case .removeKeepsOwner: "filterRemove"
    case .unmapKeepsEntry, .entryAlwaysWritable, .entryAlwaysExecutable, .windowSkipsFlush,
      .allocateSkipsZeroing,
      .zeroingMissesLastWord, .syscallLeaksKernelPointer, .exitSkipsR12, .startKeepsFPU,
      .switchSkipsFPUSave, .transferLeaksCallerRegister, .exceptionFrameInZeroWindow,
      .exceptionFrameNextSlot, .upcallIgnoresWriteRight, .upcallFrameFromRunning,
      .transmitReadsNextPage:
      nil
    }
  }

  /// The class of bug, for `--list-mutants`: `tables` (a transition of the
  /// spec), `pageTables` (entries and TLB), `pageContents` (zeroing, and the
  /// kernel's reads of user memory), `registers`
  /// (and x87/SSE state), `frames` (exception and upcall frames).
  public var kind: String {
    switch self {
    case .unmapKeepsEntry, .entryAlwaysWritable, .entryAlwaysExecutable, .windowSkipsFlush:
      "pageTables"
    case .allocateSkipsZeroing, .zeroingMissesLastWord, .transmitReadsNextPage: "pageContents"
    case .syscallLeaksKernelPointer, .exitSkipsR12, .startKeepsFPU, .switchSkipsFPUSave,
      .transferLeaksCallerRegister:
      "registers"
    case .exceptionFrameInZeroWindow, .exceptionFrameNextSlot, .upcallIgnoresWriteRight,
      .upcallFrameFromRunning:
      "frames"
    default: "tables"
    }
  }

  /// The change to the spec.
  public var patch: SpecPatch {
    switch self {
    case .mapSkipsRightsCheck:
      SpecPatch(
        file: "SpecState+Memory.swift", find: "d.within(rights, rightsOf(capability: m))",
        replace: "d.bool(true)")
    case .installSkipsOverlapCheck:
      SpecPatch(
        file: "SpecState+Filter.swift",
        find: "v.require(d.not(overlaps), else: .overlap)",
        replace: "_ = overlaps")
    case .removeKeepsOwner:
      SpecPatch(
        file: "SpecState+Filter.swift", find: "    d.write(&filters.owner, f, none)\n",
        replace: "")
    case .protectSkipsRightsCheck:
      SpecPatch(
        file: "SpecState+Memory.swift",
        find: "d.within(rights, rightsOf(capability: capabilityOf(binding: b)))",
        replace: "d.bool(true)")
    case .unmapLeaksMapping:
      SpecPatch(
        file: "SpecState+Shared.swift",
        find: "d.write(&pages.mappings, pageIndex(page), d.sub(mappingsOf(page: page), word(1)))",
        replace: "_ = page")
    case .deleteLeaksPage:
      SpecPatch(
        file: "SpecState+Shared.swift",
        find: "freeRun(base: baseOf(k), count: countOf(k), when: isRootMemory)",
        replace: "freeRun(base: baseOf(k), count: d.sub(countOf(k), word(1)), when: isRootMemory)")
    case .grantIgnoresBindings:
      SpecPatch(
        file: "SpecState+Capability.swift",
        find: "v.require(d.eq(bindingsOf(c), zero), else: .busy)", replace: "")
    case .deriveDepthOffByOne:
      SpecPatch(
        file: "SpecState+Capability.swift",
        find: "d.ult(depth, word(bounds.maximumDepth))",
        replace: "d.ule(depth, word(bounds.maximumDepth))")
    case .reclaimIgnoresParent:
      SpecPatch(
        file: "SpecState+Environment.swift",
        find: "v.require(d.or(d.eq(current, parent), d.not(parentLive)), else: .notPermitted)",
        replace: "_ = parentLive")
    case .advanceSkipsCurrentSlice:
      SpecPatch(
        file: "SpecState+Shared.swift", find: "let hit = d.first(bounds.slices) {",
        replace: "let hit = d.first(bounds.slices - 1) {")
    case .createForgetsCapabilityCount:
      SpecPatch(
        file: "SpecState+Environment.swift", find: "      d.environmentCreated(e)\n",
        replace: "      d.environmentCreated(e)\n      s.countCapability(of: me, by: .max)\n")
    case .sliceFreeIgnoresOwner:
      SpecPatch(
        file: "SpecState+Schedule.swift",
        find: "d.or(d.eq(owner, current), d.eq(parentOf(environment: owner), current))",
        replace: "d.bool(true)")
    case .yieldToAcceptsStopped:
      SpecPatch(
        file: "SpecState+Schedule.swift",
        find: "v.require(d.eq(stateOf(t), word(EnvironmentState.runnable)), else: .wrongState)",
        replace:
          "v.require(d.or(d.eq(stateOf(t), word(EnvironmentState.runnable)), d.eq(stateOf(t), word(EnvironmentState.stopped))), else: .wrongState)"
      )
    case .callSkipsBusyCheck:
      SpecPatch(
        file: "SpecState+Transfer.swift", find: "v.require(d.eq(callerOf(t), none), else: .busy)",
        replace: "")
    case .unmapKeepsEntry:
      SpecPatch(
        file: "AddressSpaces.swift", folder: "kernel/core",
        find: "    PhysicalMemory.store64(word(e, .windowTable) &+ s &* 8, value)\n",
        replace:
          "    if page != none { PhysicalMemory.store64(word(e, .windowTable) &+ s &* 8, value) }\n"
      )
    case .entryAlwaysWritable:
      SpecPatch(
        file: "AddressSpaces.swift", folder: "kernel/core",
        find: "if rights.contains(.write) { flags.insert(.writable) }",
        replace: "flags.insert(.writable)")
    case .entryAlwaysExecutable:
      SpecPatch(
        file: "AddressSpaces.swift", folder: "kernel/core",
        find: "if !rights.contains(.execute) { flags.insert(.noExecute) }",
        replace: "_ = rights")
    case .windowSkipsFlush:
      SpecPatch(
        file: "AddressSpaces.swift", folder: "kernel/core",
        find: "      arch_invlpg(UserLayout.windowBase &+ s &* pageSize)\n",
        replace: "      _ = s\n")
    case .allocateSkipsZeroing:
      SpecPatch(
        file: "KernelDomain.swift", folder: "kernel/core",
        find: "func pageAllocated(_ page: UInt64) { PhysicalMemory.zeroPage(page * pageSize) }",
        replace: "func pageAllocated(_ page: UInt64) { _ = page }")
    case .transmitReadsNextPage:
      SpecPatch(
        file: "KernelDomain.swift", folder: "kernel/core",
        find: "PhysicalMemory.bytes(page &* pageSize &+ offset)",
        replace: "PhysicalMemory.bytes((page &+ 1) &* pageSize &+ offset)")
    case .zeroingMissesLastWord:
      SpecPatch(
        file: "Machine.swift", folder: "kernel/core",
        find: "arch_zero(arch_pointer(address), pageSize)",
        replace: "arch_zero(arch_pointer(address), pageSize - 16)")
    case .syscallLeaksKernelPointer:
      SpecPatch(
        file: "entry.S", folder: "kernel/arch",
        find: "  pop %r9\n  pop %r8\n  pop %rsi\n",
        replace: "  pop %r9\n  pop %r8\n  pop %rsi\n  mov %rsp, %r9\n")
    case .exitSkipsR12:
      SpecPatch(
        file: "entry.S", folder: "kernel/arch",
        find: "  pop %r12\n",
        replace: "  add $8, %rsp\n")
    case .startKeepsFPU:
      SpecPatch(
        file: "KernelDomain.swift", folder: "kernel/core",
        find: "Scheduler.reset(e, rip: rip, rsp: rsp)\n    Scheduler.resetFPU(e)\n",
        replace: "Scheduler.reset(e, rip: rip, rsp: rsp)\n")
    case .switchSkipsFPUSave:
      SpecPatch(
        file: "Scheduler.swift", folder: "kernel/core",
        find:
          "      if fpuOwner != none { arch_fxsave(arch_env_fx(fpuOwner)) }\n      arch_fxrstor(arch_env_fx(e))\n",
        replace: "      arch_fxrstor(arch_env_fx(e))\n")
    case .transferLeaksCallerRegister:
      SpecPatch(
        file: "Transfer.swift", folder: "kernel/core",
        find: "    f.pointee.r9 = asynchronous ? 1 : 0\n",
        replace:
          "    f.pointee.r9 = asynchronous ? 1 : 0\n    f.pointee.r12 = Scheduler.frame(caller).pointee.r12\n"
      )
    case .exceptionFrameInZeroWindow:
      SpecPatch(
        file: "Trap.swift", folder: "kernel/core",
        find: "let b = e &* UInt64(truncatingIfNeeded: state.bounds.windowSlots) &+ slot",
        replace: "let b = 0 &* UInt64(truncatingIfNeeded: state.bounds.windowSlots) &+ slot")
    case .upcallIgnoresWriteRight:
      SpecPatch(
        file: "Trap.swift", folder: "kernel/core",
        find: "Rights(rawValue: Info[binding: e, slot: slot, .rights]).contains(.write)",
        replace: "Rights(rawValue: Info[binding: e, slot: slot, .rights]).isValid")
    case .upcallFrameFromRunning:
      SpecPatch(
        file: "Trap.swift", folder: "kernel/core",
        find:
          "arch_pointer(physical).assumingMemoryBound(to: UInt64.self), f, vector, error, address)",
        replace:
          "arch_pointer(physical).assumingMemoryBound(to: UInt64.self),\n"
          + "    vector >= 256 ? Scheduler.frame(Info.current) : f, vector, error, address)")
    case .exceptionFrameNextSlot:
      SpecPatch(
        file: "Trap.swift", folder: "kernel/core",
        find: "let slot = (frame &- UserLayout.windowBase) >> 12",
        replace: "let slot = ((frame &- UserLayout.windowBase) >> 12) &+ 1"
      )
    case .mapChecksCallerCapability:
      SpecPatch(
        file: "SpecState+Memory.swift", folder: "specs",
        find:
          "d.and(d.eq(kindOf(m), word(CapabilityKind.memory)), d.eq(ownerOf(capability: m), t)),",
        replace:
          "d.and(d.eq(kindOf(m), word(CapabilityKind.memory)), d.eq(ownerOf(capability: m), current)),"
      )
    case .setEntriesAcceptsDying:
      SpecPatch(
        file: "SpecState+Environment.swift", folder: "specs",
        find:
          "    authority(&v, t, c)\n    v.require(isLive(t), else: .wrongState)\n    v.require(\n      d.and(\n        d.or(d.eq(handler",
        replace:
          "    authority(&v, t, c)\n    v.require(d.ne(stateOf(t), word(EnvironmentState.free)), else: .wrongState)\n    v.require(\n      d.and(\n        d.or(d.eq(handler"
      )
    case .allocateRunPastEnd:
      SpecPatch(
        file: "SpecState+Memory.swift", folder: "specs",
        find: "d.ule(pageIndex(page), d.sub(pageCount, count))),",
        replace: "d.ule(pageIndex(page), d.sub(d.add(pageCount, word(1)), count))),")
    }
  }
  /// The image's file name in the build folder.
  public var imageName: String { "kernel-mutant-\(rawValue).elf" }
}
