import Arch

/// The kernel console: the 16550 UART at COM1, polled.
///
/// No allocation: text goes out as `StaticString`s, numbers digit by digit,
/// so the console works from any context, including a panic.
enum Console {
  private static let port: UInt16 = 0x3F8

  /// Programs the UART for 115200 baud, 8N1, FIFO on, interrupts off.
  static func initialize() {
    arch_outb(port + 1, 0x00)  // interrupts off
    arch_outb(port + 3, 0x80)  // DLAB on: set the divisor
    arch_outb(port + 0, 0x01)  // divisor 1: 115200 baud
    arch_outb(port + 1, 0x00)
    arch_outb(port + 3, 0x03)  // 8 bits, no parity, one stop bit
    arch_outb(port + 2, 0xC7)  // FIFO on, cleared, 14-byte threshold
  }

  /// The next received byte, if one is waiting.
  static func receive() -> UInt8? {
    arch_inb(port + 5) & 0x01 != 0 ? arch_inb(port) : nil
  }

  /// Writes one byte, waiting for the transmitter.
  static func put(_ byte: UInt8) {
    while arch_inb(port + 5) & 0x20 == 0 {}
    arch_outb(port, byte)
  }
}

/// A line being written to the console, built by chaining:
/// `Log("pages: ").decimal(n).end()`.
struct Log {
  @discardableResult
  init(_ text: StaticString) { text.withUTF8Buffer { for b in $0 { Console.put(b) } } }

  @discardableResult
  func text(_ text: StaticString) -> Log {
    text.withUTF8Buffer { for b in $0 { Console.put(b) } }
    return self
  }

  /// Writes `length` bytes that the caller has already validated.
  @discardableResult
  func bytes(_ start: UnsafePointer<UInt8>, count: Int) -> Log {
    for i in 0..<count { Console.put(start[i]) }
    return self
  }

  @discardableResult
  func decimal(_ value: UInt64) -> Log {
    var divisor: UInt64 = 1
    while value / divisor >= 10 { divisor *= 10 }
    while divisor > 0 {
      Console.put(UInt8(truncatingIfNeeded: 0x30 + (value / divisor) % 10))
      divisor /= 10
    }
    return self
  }

  /// Writes `0x` and sixteen hex digits.
  @discardableResult
  func hex(_ value: UInt64) -> Log {
    Console.put(0x30)
    Console.put(0x78)
    for i in stride(from: 60, through: 0, by: -4) {
      let d = UInt8(truncatingIfNeeded: (value >> UInt64(i)) & 0xF)
      Console.put(d < 10 ? 0x30 + d : 0x57 + d)
    }
    return self
  }

  /// Ends the line.
  func end() { Console.put(0x0A) }
}
