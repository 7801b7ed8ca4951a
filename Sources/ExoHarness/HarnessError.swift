/// Errors of the build and boot harness. Each says what is wrong in one line.
public enum HarnessError: Error, CustomStringConvertible, Equatable {
  case toolMissing(String, hint: String)
  case projectNotFound(String)
  case buildFailed(step: String, output: String)
  case imageMissing(String)
  case qemuMissing(String)
  case qemuFailed(String)
  case patchFailed(file: String, reason: String)

  public var description: String {
    switch self {
    case .toolMissing(let tool, let hint): "\(tool) not found: \(hint)"
    case .projectNotFound(let start):
      "no exokernel project (Package.swift with kernel/) at or above \(start)"
    case .buildFailed(let step, let output): "build step '\(step)' failed:\n\(output)"
    case .imageMissing(let path): "kernel image not found: \(path) (run `swift run exo build`)"
    case .qemuMissing(let name):
      "QEMU not found: \(name) is not on PATH (run `bash ci/setup` to install qemu-system-x86)"
    case .qemuFailed(let message): "QEMU failed: \(message)"
    case .patchFailed(let file, let reason): "cannot patch \(file): \(reason)"
    }
  }
}
