import Foundation

/// The symbol table of an ELF64 little-endian image (the kernel's and the
/// user programs'): enough to check what an image links, and to map
/// addresses to functions, without a tool.
public enum ELFSymbols {
  /// One symbol: its name, address, size (0 for an assembly label) and
  /// type (`STT_*`: 0 none, 1 object, 2 function, 3 section, 4 file).
  public struct Symbol: Sendable, Equatable {
    public var name: String
    public var address: UInt64
    public var size: UInt64
    public var type: UInt8

    public init(name: String, address: UInt64, size: UInt64, type: UInt8) {
      self.name = name
      self.address = address
      self.size = size
      self.type = type
    }
  }

  /// The names of every symbol of every symbol table (`SHT_SYMTAB`) of the
  /// image at `url`.
  public static func names(of url: URL) throws(HarnessError) -> [String] {
    try symbols(of: url).map(\.name)
  }

  /// Every named symbol of every symbol table of the image at `url`.
  public static func symbols(of url: URL) throws(HarnessError) -> [Symbol] {
    guard let data = try? Data(contentsOf: url) else { throw .imageMissing(url.path) }
    let bytes = [UInt8](data)
    func word(_ offset: Int, _ size: Int) -> Int? {
      guard offset >= 0, offset + size <= bytes.count else { return nil }
      var value = 0
      for i in (0..<size).reversed() { value = value << 8 | Int(bytes[offset + i]) }
      return value
    }
    func malformed(_ what: String) -> HarnessError {
      .buildFailed(step: "read \(url.lastPathComponent)", output: "not an ELF64 image: \(what)")
    }
    guard bytes.count >= 64, bytes[0..<4] == [0x7f, 0x45, 0x4c, 0x46], bytes[4] == 2, bytes[5] == 1
    else { throw malformed("bad header") }
    guard let sectionsAt = word(0x28, 8), let entrySize = word(0x3A, 2),
      let sectionCount = word(0x3C, 2), entrySize >= 64
    else { throw malformed("bad section header fields") }
    func section(_ i: Int) -> (type: Int, offset: Int, size: Int, link: Int)? {
      let at = sectionsAt + i * entrySize
      guard let type = word(at + 4, 4), let offset = word(at + 0x18, 8),
        let size = word(at + 0x20, 8), let link = word(at + 0x28, 4)
      else { return nil }
      return (type, offset, size, link)
    }
    var symbols: [Symbol] = []
    for i in 0..<sectionCount {
      guard let table = section(i), table.type == 2 else { continue }  // SHT_SYMTAB
      guard let strings = section(table.link) else { throw malformed("bad string table") }
      var at = table.offset
      while at + 24 <= table.offset + table.size {
        guard let nameAt = word(at, 4), let info = word(at + 4, 1), let value = word(at + 8, 8),
          let size = word(at + 16, 8)
        else { throw malformed("truncated symbol table") }
        var end = strings.offset + nameAt
        while end < bytes.count && end < strings.offset + strings.size && bytes[end] != 0 {
          end += 1
        }
        let start = strings.offset + nameAt
        if start < end {
          symbols.append(
            Symbol(
              name: String(decoding: bytes[start..<end], as: UTF8.self),
              address: UInt64(bitPattern: Int64(value)), size: UInt64(bitPattern: Int64(size)),
              type: UInt8(info & 0xF)))
        }
        at += 24
      }
    }
    return symbols
  }
}
