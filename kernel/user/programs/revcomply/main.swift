import ExoABI
import ExoUser

/// A libOS that complies with a revocation request: it chooses its first two
/// runs and returns them; nothing is repossessed.
@main
struct RevComply {
  static func main() { Scenario.run() }
}

let childHasExceptionHandler = true

func childUpcall(_ reason: UpcallReason, _ a: UInt64, _ b: UInt64) {
  guard reason == .revocationRequest else { return }
  print("child: upcall revocationRequest(count \(a), deadline tick \(b))")
  for run in Scenario.runs.prefix(2) {
    let r = Kernel.revocationReturn(run)
    print("child: revocationReturn(\(run.rawValue)) -> \(Scenario.describe(r)) pages owed")
  }
}

func managerAfterRequest() {}
