import Foundation

/// One command of an incremental build. It is skipped when its outputs
/// exist and its stamp (a hash of the command line and of every input
/// file's contents) matches the stamp of its last successful run.
struct BuildStep: Sendable {
  var name: String
  var tool: String
  var arguments: [String]
  var inputs: [String]
  var outputs: [String]

  /// FNV-1a over the command and the inputs' paths and contents.
  func fingerprint() -> String {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    func mix<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
      for byte in bytes {
        hash ^= UInt64(byte)
        hash &*= 0x100_0000_01B3
      }
      hash ^= 0xFF
      hash &*= 0x100_0000_01B3
    }
    mix(tool.utf8)
    for argument in arguments { mix(argument.utf8) }
    for input in inputs {
      mix(input.utf8)
      mix(FileManager.default.contents(atPath: input) ?? Data("<missing>".utf8))
    }
    return String(hash, radix: 16)
  }

  func stampPath(in folder: URL) -> String {
    let safe = name.map { $0.isLetter || $0.isNumber ? $0 : "-" }
    return folder.appendingPathComponent("stamps/\(String(safe)).stamp").path
  }

  func isUpToDate(stampFolder: URL) -> Bool {
    guard outputs.allSatisfy({ FileManager.default.fileExists(atPath: $0) }),
      let old = FileManager.default.contents(atPath: stampPath(in: stampFolder))
    else { return false }
    return String(decoding: old, as: UTF8.self) == fingerprint()
  }

  /// Runs the command; records the stamp on success. The stamp is the
  /// fingerprint of the inputs as they were when the command started: a
  /// source edited while it runs leaves the step out of date.
  func run(stampFolder: URL) throws(HarnessError) {
    let started = fingerprint()
    let result: CommandResult
    do {
      result = try ProcessRunner.run(tool, arguments)
    } catch {
      throw .buildFailed(step: name, output: "cannot start \(tool): \(error)")
    }
    guard result.status == 0 else {
      throw .buildFailed(step: name, output: result.output)
    }
    let stamp = stampPath(in: stampFolder)
    try? FileManager.default.createDirectory(
      atPath: (stamp as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    _ = FileManager.default.createFile(atPath: stamp, contents: Data(started.utf8))
  }
}
