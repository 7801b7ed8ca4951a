import ExoABI
import ExoUser

/// A libOS that returns pages it does not own (a capability of the
/// manager's, an empty slot, a slot out of range, a derived capability),
/// then one run only (too few); the manager also makes a second request
/// while the first is pending. The abort takes the rest.
@main
struct RevBogus {
  static func main() { Scenario.run() }
}

let childHasExceptionHandler = true

func childUpcall(_ reason: UpcallReason, _ a: UInt64, _ b: UInt64) {
  guard reason == .revocationRequest else { return }
  print("child: upcall revocationRequest(count \(a), deadline tick \(b))")
  let derived = CapabilitySlot(rawValue: 23)
  _ = Kernel.capabilityDerive(
    Scenario.runs[0], child: derived, rights: [.read, .grant],
    base: Scenario.page(Scenario.firstIndex).rawValue, count: 1)
  for slot: UInt32 in [10, 200, 999, 23, 21] {
    let r = Kernel.revocationReturn(CapabilitySlot(rawValue: slot))
    print("child: revocationReturn(\(slot)) -> \(Scenario.describe(r))")
  }
}

func managerAfterRequest() {
  let r = Kernel.revocationRequest(Scenario.child, via: Scenario.childCap, count: 1, ticks: 1)
  print("manager: second revocationRequest while pending -> \(Scenario.describe(r))")
}
