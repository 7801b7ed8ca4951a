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
    }
  }

  /// The transition whose code the patch changes (the obligations of
  /// `exoverify --only` that must fail).
  public var transition: String {
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
    }
  }

  /// The change to the spec.
  public var patch: SpecPatch {
    switch self {
    case .mapSkipsRightsCheck:
      SpecPatch(
        file: "SpecState+Memory.swift", find: "d.within(rights, rightsOf(capability: m))",
        replace: "d.bool(true)")
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
    }
  }
  /// The image's file name in the build folder.
  public var imageName: String { "kernel-mutant-\(rawValue).elf" }
}
