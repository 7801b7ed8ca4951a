import ExoABI
import ExoUser

/// The in-QEMU selftest: exercises every call of docs/ABI.md, its success
/// path and its denials (each denial must leave every table unchanged),
/// user-level exceptions, time slices, protected control transfer,
/// revocation, teardown and attacks. Ends with `N passed, M failed`.
@main
struct Selftest {
  static func main() {
    print("selftest: every call, its denials, exceptions and attacks")
    area("info") { infoTests() }
    area("console") { consoleTests() }
    area("handler") { installEnvZeroHandler() }
    area("environments") { environmentTests() }
    area("memory") { memoryTests() }
    area("capabilities") { capabilityTests() }
    area("slices") { sliceTests() }
    area("transfers") { transferTests() }
    area("exceptions") { exceptionTests() }
    area("attacks") { attackTests() }
    print("\(Tally.passed) passed, \(Tally.failed) failed")
    Kernel.exit(Tally.failed == 0 ? 0 : 1)
  }
}
