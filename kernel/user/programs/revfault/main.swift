import ExoABI
import ExoUser

/// A libOS that faults in its revocation handler (and has no exception
/// handler): the kernel stops it, and the abort still takes the pages at the
/// deadline.
@main
struct RevFault {
  static func main() { Scenario.run() }
}

let childHasExceptionHandler = false

func childUpcall(_ reason: UpcallReason, _ a: UInt64, _ b: UInt64) {
  guard reason == .revocationRequest else { return }
  print("child: upcall revocationRequest: writing to an unmapped page")
  UserMemory.pointer(UserLayout.windowBase + 100 * 4096, to: UInt64.self).pointee = 1
}

func managerAfterRequest() {}
