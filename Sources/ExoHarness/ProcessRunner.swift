import Foundation

/// The result of running a command to completion.
public struct CommandResult: Sendable {
  public var status: Int32
  public var output: String
}

/// Runs external commands; the harness's one place that spawns processes.
enum ProcessRunner {
  /// Runs `executable` with `arguments`, capturing stdout and stderr together.
  static func run(_ executable: String, _ arguments: [String], in directory: URL? = nil) throws
    -> CommandResult
  {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(
      status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
  }

  /// The first executable called `name` on `PATH`, or `nil`.
  static func which(_ name: String, path: String? = ProcessInfo.processInfo.environment["PATH"])
    -> String?
  {
    if name.contains("/") {
      return FileManager.default.isExecutableFile(atPath: name) ? name : nil
    }
    for directory in (path ?? "").split(separator: ":") {
      let candidate = "\(directory)/\(name)"
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
  }
}
