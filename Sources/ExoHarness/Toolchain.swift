import Foundation

/// The Swift toolchain that builds the kernel and user images: `swiftc` and,
/// beside it in the same `bin` folder, `clang` and `ld.lld`.
public struct Toolchain: Sendable {
  public var swiftc: String
  public var clang: String
  public var lld: String

  /// Finds `swiftc` (the `SWIFTC` environment variable, else `PATH`) and the
  /// tools next to it.
  public static func locate() throws(HarnessError) -> Toolchain {
    let environment = ProcessInfo.processInfo.environment
    guard let swiftc = ProcessRunner.which(environment["SWIFTC"] ?? "swiftc") else {
      throw .toolMissing("swiftc", hint: "install the Swift toolchain or set SWIFTC")
    }
    // swiftc is usually a symlink to the driver, which must be run under the
    // name swiftc; its tools sit in the same folder as the link.
    let bin = URL(fileURLWithPath: swiftc).deletingLastPathComponent()
    func tool(_ name: String) throws(HarnessError) -> String {
      let path = bin.appendingPathComponent(name).path
      guard FileManager.default.isExecutableFile(atPath: path) else {
        throw .toolMissing(name, hint: "expected beside swiftc in \(bin.path)")
      }
      return path
    }
    return Toolchain(swiftc: swiftc, clang: try tool("clang"), lld: try tool("ld.lld"))
  }
}
