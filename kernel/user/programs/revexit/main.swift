import ExoABI
import ExoUser

/// A libOS that exits from its revocation handler with the request pending:
/// the request is cancelled, and reclaim takes its pages.
@main
struct RevExit {
  static func main() { Scenario.run() }
}

let childHasExceptionHandler = true

func childUpcall(_ reason: UpcallReason, _ a: UInt64, _ b: UInt64) {
  guard reason == .revocationRequest else { return }
  print("child: upcall revocationRequest: exiting with it pending")
  Kernel.exit(5)
}

func managerAfterRequest() {}
