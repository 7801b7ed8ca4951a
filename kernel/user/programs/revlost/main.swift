import ExoABI
import ExoUser

/// Capability and CPU revocation are visible: the manager grants the child
/// a capability and revokes it, then frees the child's slice; the child
/// learns each loss from an upcall and the exported tables.
@main
struct RevLost {
  static func main() {
    Scenario.setUp()
    let root = CapabilitySlot(rawValue: 40)
    let granted = CapabilitySlot(rawValue: 41)
    Scenario.require("pageAllocate", Kernel.pageAllocate(Scenario.page(200), capability: root))
    Scenario.require(
      "capabilityDerive",
      Kernel.capabilityDerive(
        root, child: granted, rights: [.read, .grant], base: Scenario.page(200).rawValue, count: 1))
    Scenario.require("capabilityGrant", Kernel.capabilityGrant(granted, to: Scenario.child))
    print("manager: capability 41 granted to environment 1; revoking it")
    let r = Kernel.capabilityRevoke(root)
    print("manager: capabilityRevoke(40) -> \(Scenario.describe(r))")
    for _ in 0..<3 where KernelInfo.state(1) == .runnable { _ = Kernel.yieldTo(Scenario.child) }
    print("manager: freeing slice 1 of environment 1")
    let f = Kernel.sliceFree(1)
    print("manager: sliceFree(1) -> \(Scenario.describe(f))")
    for _ in 0..<3 where KernelInfo.state(1) == .runnable { _ = Kernel.yieldTo(Scenario.child) }
    Scenario.teardown()
    Kernel.exit(0)
  }
}

let childHasExceptionHandler = true

func childUpcall(_ reason: UpcallReason, _ a: UInt64, _ b: UInt64) {
  switch reason {
  case .capabilityLost:
    let kind = KernelInfo[capability: a, .kind]
    print("child: upcall capabilityLost(slot \(a), kind \(b)); the table now says kind \(kind)")
  case .sliceLost:
    let owner = KernelInfo[slice: a] == none ? "none" : "\(KernelInfo[slice: a])"
    print("child: upcall sliceLost(position \(a)); the table now says owner \(owner)")
  default: break
  }
}

func managerAfterRequest() {}
