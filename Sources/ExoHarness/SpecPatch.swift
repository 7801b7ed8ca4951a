/// A small change to the spec's transition code (`specs/`), applied to a
/// copy of the spec for one kernel image. Since the kernel runs the spec, a
/// planted bug in a transition is a patch of the spec: the kernel built
/// from the patched copy has the bug, and the checker, run on the same
/// patched spec, must report it.
///
/// A planted bug in the kernel's own machine code (page tables, registers,
/// entry paths: what the spec does not decide) is the same kind of patch of
/// a file of `kernel/core` or `kernel/arch` (``folder``).
public struct SpecPatch: Hashable, Sendable {
  /// The file that changes, e.g. `SpecState+Memory.swift`.
  public var file: String
  /// Its folder: `specs` (the default), `kernel/core` or `kernel/arch`.
  public var folder: String
  /// The text replaced; it must occur exactly once in the file.
  public var find: String
  /// What replaces it.
  public var replace: String

  public init(file: String, folder: String = "specs", find: String, replace: String) {
    self.file = file
    self.folder = folder
    self.find = find
    self.replace = replace
  }

  /// The file's path in the repository, e.g. `specs/SpecState+Memory.swift`.
  public var path: String { "\(folder)/\(file)" }
  /// Whether the patch changes the spec (else the kernel's machine code).
  public var isSpec: Bool { folder == "specs" }

  /// `text` (the contents of ``file``) with the change made.
  public func apply(to text: String) throws(HarnessError) -> String {
    let pieces = text.components(separatedBy: find)
    guard pieces.count == 2 else {
      throw .patchFailed(
        file: path,
        reason: pieces.count < 2
          ? "the text to replace is not there (has the spec changed?): \(find)"
          : "the text to replace occurs \(pieces.count - 1) times: \(find)")
    }
    return pieces.joined(separator: replace)
  }

  /// Only in `kernel-planted.elf`: `pageMap` does not count the new
  /// mapping; the invariant-checking kernel must stop it with
  /// `mappingsCountExact`.
  public static let plantedMapping = SpecPatch(
    file: "SpecState+Memory.swift",
    find:
      "      d.write(&s.pages.mappings, s.pageIndex(page), d.add(s.mappingsOf(page: page), s.word(1)))\n",
    replace: "")

  /// Only in `kernel-planted-revocation.elf`: an abort step records the
  /// run's first page for every page of the run; the invariant-checking
  /// kernel must stop it with `repossessedOnce`.
  public static let plantedRevocation = SpecPatch(
    file: "SpecState+Revocation.swift",
    find: "d.write(&repossessions, d.add(row, entry), page)",
    replace: "d.write(&repossessions, d.add(row, entry), base)")
}
