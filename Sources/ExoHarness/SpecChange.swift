import Foundation

/// A change of the spec carried through every link of the trust chain: a
/// copy of the project (`.build/spec-change/copy`) with the patch made to its
/// `specs/`, whose own `exoverify` must find the bug; and the kernel built
/// from the patched spec, which must now behave differently when booted.
public struct SpecChange {
  public var project: Project
  public var name: String
  public var patch: SpecPatch
  /// Called with a line for each stage.
  public var progress: (String) -> Void

  public init(
    project: Project, name: String, patch: SpecPatch, progress: @escaping (String) -> Void
  ) {
    self.project = project
    self.name = name
    self.patch = patch
    self.progress = progress
  }

  /// The copy of the project, one for every change: it is synchronized
  /// file by file (a file is written only when its contents differ), and
  /// its own `.build` is kept, so a run builds only what changed since the
  /// last one.
  public var copy: URL { project.root.appendingPathComponent(".build/spec-change/copy") }

  /// What the project's copy needs to build its tools.
  static let entries = ["Package.swift", "Sources", "specs", "proofs", "kernel", "Tests"]

  /// Makes the copy with the patch made.
  public func prepare() throws(HarnessError) {
    var wanted: [String: Data] = [:]
    let files = FileManager.default
    for entry in Self.entries {
      let source = project.root.appendingPathComponent(entry)
      var isFolder: ObjCBool = false
      guard files.fileExists(atPath: source.path, isDirectory: &isFolder) else { continue }
      let paths =
        isFolder.boolValue
        ? ((try? files.subpathsOfDirectory(atPath: source.path)) ?? []).map { "\(entry)/\($0)" }
        : [entry]
      for path in paths {
        let url = project.root.appendingPathComponent(path)
        var folder: ObjCBool = false
        if files.fileExists(atPath: url.path, isDirectory: &folder), !folder.boolValue,
          let data = files.contents(atPath: url.path)
        {
          wanted[path] = data
        }
      }
    }
    let key = "specs/\(patch.file)"
    guard let original = wanted[key] else {
      throw .patchFailed(file: key, reason: "no such file of the spec")
    }
    wanted[key] = Data(try patch.apply(to: String(decoding: original, as: UTF8.self)).utf8)
    for (path, data) in wanted {
      let target = copy.appendingPathComponent(path)
      if files.contents(atPath: target.path) == data { continue }
      try? files.createDirectory(
        at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
      guard files.createFile(atPath: target.path, contents: data) else {
        throw .buildFailed(step: "write \(target.path)", output: "cannot write the file")
      }
    }
    // Files the project no longer has.
    for entry in Self.entries {
      let folder = copy.appendingPathComponent(entry)
      for path in (try? files.subpathsOfDirectory(atPath: folder.path)) ?? [] {
        let relative = "\(entry)/\(path)"
        var isFolder: ObjCBool = false
        if files.fileExists(
          atPath: folder.appendingPathComponent(path).path, isDirectory: &isFolder),
          !isFolder.boolValue, wanted[relative] == nil
        {
          try? files.removeItem(at: folder.appendingPathComponent(path))
        }
      }
    }
  }

  /// Builds the copy's `exoverify` and runs it on the obligations whose
  /// name contains `only`; returns its exit status and output.
  public func verify(only: String, jobs: Int) throws(HarnessError) -> CommandResult {
    guard let swift = ProcessRunner.which("swift") else {
      throw .toolMissing("swift", hint: "the Swift toolchain must be on PATH")
    }
    progress("building the copy's exoverify (swift build --product exoverify)")
    let build: CommandResult
    do {
      build = try ProcessRunner.run(swift, ["build", "--product", "exoverify"], in: copy)
    } catch { throw .buildFailed(step: "swift build in \(copy.path)", output: "\(error)") }
    guard build.status == 0 else {
      throw .buildFailed(step: "swift build --product exoverify", output: build.output)
    }
    progress("running the copy's exoverify --only \(only)")
    let tool = copy.appendingPathComponent(".build/debug/exoverify").path
    do {
      return try ProcessRunner.run(
        tool,
        [
          "--only", only, "--no-cache", "--jobs", "\(jobs)", "--counterexamples",
          copy.appendingPathComponent("counterexamples").path,
        ], in: copy)
    } catch { throw .buildFailed(step: "run \(tool)", output: "\(error)") }
  }
}
