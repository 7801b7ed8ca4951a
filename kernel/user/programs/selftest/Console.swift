import ExoABI
import ExoUser

/// consoleRead's checks (docs/ABI.md), with no console input waiting under
/// `exo boot`, and the difftest calls, which outside difftest mode do not
/// exist.
func consoleTests() {
  // The lowest page of the initial stack, far below what the selftest uses.
  let stackBottom = UserLayout.stackTop - UserLayout.stackPages * pageSize
  expectSuccess(
    "consoleRead: zero bytes", Kernel.call(ConsoleReadArguments(address: stackBottom, length: 0)),
    value: 0)
  expectSuccess(
    "consoleRead: nothing waiting reads nothing",
    Kernel.call(ConsoleReadArguments(address: stackBottom, length: 16)),
    value: 0)
  expect("consoleRead: more than maximumRead", .invalidArgument) {
    Kernel.call(ConsoleReadArguments(address: stackBottom, length: ConsoleLimits.maximumRead + 1))
  }
  expect("consoleRead: into the program image", .badAddress) {
    Kernel.call(ConsoleReadArguments(address: UserLayout.imageBase, length: 8))
  }
  expect("consoleRead: into the read-only tables", .badAddress) {
    Kernel.call(ConsoleReadArguments(address: UserLayout.infoBase, length: 8))
  }
  expect("consoleRead: into the kernel", .badAddress) {
    Kernel.call(ConsoleReadArguments(address: 0x10_0000, length: 8))
  }
  expect("consoleRead: across the top of the stack", .badAddress) {
    Kernel.call(ConsoleReadArguments(address: UserLayout.stackTop - 4, length: 8))
  }
  expect("consoleRead: a wrapping range", .badAddress) {
    Kernel.call(ConsoleReadArguments(address: .max - 2, length: 8))
  }
  expect("consoleRead: an unbound window slot", .badAddress) {
    Kernel.call(ConsoleReadArguments(address: UserLayout.windowBase + 400 * pageSize, length: 8))
  }
  for call in DiffCall.allCases {
    expect("difftest calls are noSuchCall outside difftest mode", .noSuchCall) {
      Kernel.raw(call.rawValue, UserLayout.imageBase, 8)
    }
  }
}
