import ExoABI

extension LibOS {
  /// A program's whole life in an environment: boots the libOS on `kernel`,
  /// runs `body` with the fork start (nil in the first environment) and
  /// exits with the status it returns. An error ends the environment with
  /// status 1 after a line naming `name` and the error.
  ///
  /// The same program runs on the kernel (`SystemKernel`) and on the spec
  /// (`SimulatedKernel`); on the host all environments share one process,
  /// so a program keeps its state in locals, never in globals.
  public static func start(
    kernel: K, name: String, _ body: (LibOS<K>, ForkStart?) throws(ExoError) -> UInt64
  ) {
    let os = LibOS(kernel: kernel)
    do throws(ExoError) {
      let start = try os.boot()
      os.exit(try body(os, start))
    } catch {
      os.print("\(name): environment \(os.me) failed: error \(error.rawValue)")
      os.exit(1)
    }
  }
}
