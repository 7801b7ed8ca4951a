import Foundation

/// Paths of the project checkout: found by walking up from a folder to the
/// one that holds both `Package.swift` and `kernel/`.
public struct Project: Sendable {
  public var root: URL

  public init(root: URL) { self.root = root }

  /// The project that contains `start` (default: the current directory).
  public static func locate(from start: URL? = nil) throws(HarnessError) -> Project {
    let first = start ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    var folder = first.standardizedFileURL
    while true {
      let manifest = folder.appendingPathComponent("Package.swift").path
      let kernel = folder.appendingPathComponent("kernel/kernel.ld").path
      if FileManager.default.fileExists(atPath: manifest)
        && FileManager.default.fileExists(atPath: kernel)
      {
        return Project(root: folder)
      }
      let parent = folder.deletingLastPathComponent()
      if parent.path == folder.path { throw .projectNotFound(first.path) }
      folder = parent
    }
  }

  /// Where `exo build` puts everything (inside `.build`, which git ignores).
  public var buildFolder: URL { root.appendingPathComponent(".build/exo") }
  /// The kernel image.
  public var kernelImage: URL { buildFolder.appendingPathComponent("kernel.elf") }
  /// The kernel image whose boot self-test faults on purpose.
  public var faultTestImage: URL { buildFolder.appendingPathComponent("kernel-faulttest.elf") }

  func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

  /// The files with `suffix` directly in `relative`, sorted.
  func files(in relative: String, suffix: String) -> [String] {
    let folder = path(relative)
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    return names.filter { $0.hasSuffix(suffix) }.sorted().map { "\(folder)/\($0)" }
  }

  /// The spec's transition code, which the kernel runs: the Swift files at
  /// the top level of `specs/` (its `Host` folder holds the host's
  /// interpretations: arrays, Z3 terms, replay files).
  public var specSources: [String] { files(in: "specs", suffix: ".swift") }

  /// The invariants (the top level of `proofs/`; `proofs/Host` holds what
  /// only the checker needs), which the invariant-checking kernel
  /// evaluates.
  public var proofSources: [String] { files(in: "proofs", suffix: ".swift") }

  /// The Swift sources of program `name`: those of its folder, then those
  /// of each folder of `kernel/user/shared` named on a line of the folder's
  /// `shared` file (if it has one).
  func programSources(_ name: String) -> [String] {
    var sources = files(in: "kernel/user/programs/\(name)", suffix: ".swift")
    let list = path("kernel/user/programs/\(name)/shared")
    if let text = try? String(contentsOfFile: list, encoding: .utf8) {
      for line in text.split(separator: "\n") {
        let folder = line.trimmingCharacters(in: .whitespaces)
        if !folder.isEmpty {
          sources += files(in: "kernel/user/shared/\(folder)", suffix: ".swift")
        }
      }
    }
    return sources
  }

  /// The user programs: the folders of `kernel/user/programs`.
  public var programNames: [String] {
    let folder = path("kernel/user/programs")
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    return names.filter { !files(in: "kernel/user/programs/\($0)", suffix: ".swift").isEmpty }
      .sorted()
  }
}
