import ExoABI
import ExoUser

/// Memory pressure: the manager takes every free page, then asks for pages
/// the child holds; the kernel asks the child for them, the child ignores
/// it, and the abort takes the run at the pressure deadline.
@main
struct RevPressure {
  static func main() { Scenario.run(pressure: true) }
}

let childHasExceptionHandler = true

func childUpcall(_ reason: UpcallReason, _ a: UInt64, _ b: UInt64) {
  ignoringChildUpcall(reason, a, b)
}

func managerAfterRequest() {}
