import ExoABI
import Foundation

/// Why a replay file could not be read: the field path (e.g.
/// `steps[3].args`) and, where it can be found in the text, its line.
public struct ReplayError: Error, Equatable, CustomStringConvertible {
  /// The path of the offending field, `$` for the whole file.
  public var path: String
  /// The 1-based line of that field in the text, if known.
  public var line: Int?
  public var message: String

  public var description: String {
    let place = line.map { "line \($0), " } ?? ""
    return "\(place)at \(path): \(message)"
  }
}

extension ReplayFile {
  /// Reads a replay file from JSON text; errors name the field path and line.
  public static func decode(json data: Data) throws(ReplayError) -> ReplayFile {
    do {
      return try JSONDecoder().decode(ReplayFile.self, from: data)
    } catch let error as DecodingError {
      throw ReplayError(decoding: error, text: data)
    } catch {
      throw ReplayError(path: "$", line: nil, message: "\(error)")
    }
  }

  /// Reads the replay file at `path`.
  public static func load(path: String) throws(ReplayError) -> ReplayFile {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ReplayError(path: "$", line: nil, message: "cannot read \(path)")
    }
    return try decode(json: data)
  }

  /// The file as pretty-printed JSON.
  public func encodedJSON() throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .withoutEscapingSlashes]
    return try encoder.encode(self)
  }
}

extension ReplayError {
  init(decoding error: DecodingError, text: Data) {
    var path: [any CodingKey]
    let message: String
    switch error {
    case .keyNotFound(let key, let c):
      path = c.codingPath
      message = "missing field \"\(key.stringValue)\"" + Self.detail(c, unless: "No value")
    case .valueNotFound(let type, let c):
      path = c.codingPath
      message = "null where \(type) is expected" + Self.detail(c, unless: "")
    case .typeMismatch(let type, let c):
      path = c.codingPath
      message = "expected \(Self.describe(type))" + Self.detail(c, unless: "Expected to decode")
    case .dataCorrupted(let c):
      path = c.codingPath
      var text = c.debugDescription
      if let underlying = c.underlyingError { text += " (\(underlying))" }
      message = text
    @unknown default:
      self.init(path: "$", line: nil, message: "\(error)")
      return
    }
    // Superdecoders add a "super" key; it names no field in the text.
    path.removeAll { $0.stringValue == "super" }
    self.init(
      path: Self.text(of: path), line: JSONLocator.line(of: path, in: [UInt8](text)),
      message: message)
  }

  static func detail(_ c: DecodingError.Context, unless prefix: String) -> String {
    c.debugDescription.isEmpty || (!prefix.isEmpty && c.debugDescription.hasPrefix(prefix))
      ? "" : " (\(c.debugDescription))"
  }

  static func describe(_ type: Any.Type) -> String {
    switch type {
    case is String.Type: "a string"
    case is Int.Type, is UInt64.Type: "a number"
    case is [Any].Type: "a list"
    default: "\(type)"
    }
  }

  /// `steps[3].args[1]`.
  static func text(of path: [any CodingKey]) -> String {
    var out = "$"
    for key in path {
      if let i = key.intValue { out += "[\(i)]" } else { out += ".\(key.stringValue)" }
    }
    return out
  }
}

/// Finds the line of the value at a coding path in JSON text, by walking the
/// text (no full parse); nil if the text does not reach that far.
enum JSONLocator {
  static func line(of path: [any CodingKey], in text: [UInt8]) -> Int? {
    var scanner = Scanner(text: text)
    guard let offset = scanner.locate(path[...]) else { return nil }
    return 1 + text[..<min(offset, text.count)].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
  }

  struct Scanner {
    let text: [UInt8]
    var at = 0

    mutating func skipSpace() {
      while at < text.count, [0x20, 0x0A, 0x0D, 0x09].contains(text[at]) { at += 1 }
    }

    /// Moves to the value at `path` below the value at `at`; its offset.
    mutating func locate(_ path: ArraySlice<any CodingKey>) -> Int? {
      skipSpace()
      guard at < text.count else { return nil }
      guard let key = path.first else { return at }
      let start = at
      if text[at] == UInt8(ascii: "{"), key.intValue == nil {
        at += 1
        while true {
          skipSpace()
          guard at < text.count, text[at] == UInt8(ascii: "\"") else { return start }
          let name = string()
          skipSpace()
          guard at < text.count, text[at] == UInt8(ascii: ":") else { return start }
          at += 1
          if name == key.stringValue { return locate(path.dropFirst()) ?? start }
          skipValue()
          skipSpace()
          guard at < text.count, text[at] == UInt8(ascii: ",") else { return start }
          at += 1
        }
      }
      if text[at] == UInt8(ascii: "["), let index = key.intValue {
        at += 1
        var i = 0
        while true {
          skipSpace()
          guard at < text.count, text[at] != UInt8(ascii: "]") else { return start }
          if i == index { return locate(path.dropFirst()) ?? start }
          skipValue()
          skipSpace()
          guard at < text.count, text[at] == UInt8(ascii: ",") else { return start }
          at += 1
          i += 1
        }
      }
      return start
    }

    /// Reads a string at `at` (which is `"`), returning its raw contents.
    mutating func string() -> String {
      at += 1
      let start = at
      while at < text.count, text[at] != UInt8(ascii: "\"") {
        at += text[at] == UInt8(ascii: "\\") ? 2 : 1
      }
      let end = min(at, text.count)
      at += 1
      return String(decoding: text[start..<end], as: UTF8.self)
    }

    mutating func skipValue() {
      skipSpace()
      guard at < text.count else { return }
      switch text[at] {
      case UInt8(ascii: "\""): _ = string()
      case UInt8(ascii: "{"), UInt8(ascii: "["):
        var depth = 0
        repeat {
          switch text[at] {
          case UInt8(ascii: "\""):
            _ = string()
            continue
          case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
          case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
          default: break
          }
          at += 1
        } while depth > 0 && at < text.count
      default:
        while at < text.count, !",}] \n\r\t".utf8.contains(text[at]) { at += 1 }
      }
    }
  }
}
