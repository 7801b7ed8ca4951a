import Foundation

/// A cpio archive in the "newc" format the Linux kernel unpacks as an
/// initramfs: for each entry a 110-byte ASCII header (magic `070701` and
/// thirteen 8-digit hexadecimal fields), the NUL-terminated name, padding to
/// 4 bytes, the data, padding to 4 bytes; a `TRAILER!!!` entry ends it.
/// Writing the format here needs no `cpio` on the host and no root for the
/// device node.
public struct NewcArchive {
  public enum Kind: Sendable {
    case directory
    case file(Data)
    case characterDevice(major: UInt32, minor: UInt32)
  }

  private var data = Data()
  private var inode: UInt32 = 1

  public init() {}

  /// Adds an entry; `mode` holds the permission bits (e.g. 0o755).
  public mutating func add(_ name: String, _ kind: Kind, mode: UInt32) {
    let type: UInt32
    var body = Data()
    var device: (UInt32, UInt32) = (0, 0)
    switch kind {
    case .directory: type = 0o040000
    case .file(let contents):
      type = 0o100000
      body = contents
    case .characterDevice(let major, let minor):
      type = 0o020000
      device = (major, minor)
    }
    entry(name, mode: type | mode, body: body, device: device, links: kind.isDirectory ? 2 : 1)
  }

  /// The archive with its trailer.
  public func finished() -> Data {
    var copy = self
    copy.entry("TRAILER!!!", mode: 0, body: Data(), device: (0, 0), links: 1, inode: 0)
    return copy.data
  }

  private mutating func entry(
    _ name: String, mode: UInt32, body: Data, device: (UInt32, UInt32), links: UInt32,
    inode fixed: UInt32? = nil
  ) {
    let nameBytes = Data(name.utf8) + [0]
    let fields: [UInt32] = [
      fixed ?? inode, mode, 0, 0, links, 0, UInt32(body.count), 0, 0, device.0, device.1,
      UInt32(nameBytes.count), 0,
    ]
    if fixed == nil { inode += 1 }
    var header = "070701"
    for field in fields {
      let hex = String(field, radix: 16, uppercase: true)
      header += String(repeating: "0", count: 8 - hex.count) + hex
    }
    data += Data(header.utf8)
    data += nameBytes
    pad()
    data += body
    pad()
  }

  private mutating func pad() {
    while data.count % 4 != 0 { data.append(0) }
  }
}

extension NewcArchive.Kind {
  var isDirectory: Bool {
    if case .directory = self { return true }
    return false
  }
}
