/// Planted kernel bugs for testing the differential tester: each names a
/// `MUTANT_<name>` compilation condition in `kernel/core`, which
/// `exo build`'s `KernelBuild.run(mutants:)` links into
/// `.build/exo/kernel-mutant-<name>.elf` on demand. The differential tester
/// must find every one (`exo difftest --kernel-mutant NAME`).
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

  /// The compilation condition in `kernel/core`.
  public var condition: String { "MUTANT_\(rawValue)" }
  /// The image's file name in the build folder.
  public var imageName: String { "kernel-mutant-\(rawValue).elf" }
}
