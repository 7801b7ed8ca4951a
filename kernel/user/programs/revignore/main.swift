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
  ignoringChildUpcall(reason, a, b)
}

func managerAfterRequest() {}
