import Foundation

/// A change of the spec carried through every link of the trust chain: a
/// copy of the project (`.build/spec-change/NAME`) with the patch made to its
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

  /// The copy of the project.
  public var copy: URL { project.root.appendingPathComponent(".build/spec-change/\(name)") }

  /// What the project's copy needs to build its tools (its own `.build` is
  /// kept between runs, so a second run builds only what the patch changed).
  static let entries = ["Package.swift", "Sources", "specs", "proofs", "kernel", "Tests"]

  /// Makes the copy with the patch made.
  public func prepare() throws(HarnessError) {
    let files = FileManager.default
    try? files.createDirectory(at: copy, withIntermediateDirectories: true)
    for entry in Self.entries {
      let target = copy.appendingPathComponent(entry)
      try? files.removeItem(at: target)
      do {
        try files.copyItem(at: project.root.appendingPathComponent(entry), to: target)
      } catch {
        throw .buildFailed(step: "copy \(entry) to \(copy.path)", output: "\(error)")
      }
    }
    let file = copy.appendingPathComponent("specs/\(patch.file)")
    guard let text = try? String(contentsOf: file, encoding: .utf8) else {
      throw .patchFailed(file: "specs/\(patch.file)", reason: "no such file of the spec")
    }
    let patched = try patch.apply(to: text)
    do { try patched.write(to: file, atomically: true, encoding: .utf8) } catch {
      throw .buildFailed(step: "write \(file.path)", output: "\(error)")
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
