import ExoABI
import ExoUser

/// A libOS that ignores a revocation request: at the deadline the kernel
/// aborts, takes runs by force and records them in the repossession vector.
@main
struct RevIgnore {
  static func main() { Scenario.run() }
}

let childHasExceptionHandler = true

func childUpcall(_ reason: UpcallReason, _ a: UInt64, _ b: UInt64) {
  switch reason {
  case .revocationRequest:
    print("child: upcall revocationRequest(count \(a), deadline tick \(b)): ignored")
  case .repossession:
    print("child: upcall repossession(\(a) pages taken, \(b) asked): vector [\(childVector())]")
  default: break
  }
}

func managerAfterRequest() {}
