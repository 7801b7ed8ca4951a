import ExoABI
import ExoSpec
import LibOS
import Testing

/// The stack's packet filters against the kernel's overlap check
/// (`filtersOverlap`, specs/PacketFilter+Overlap.swift): filters of
/// different ports, protocols or addresses never overlap, so environments
/// can own different ports of one address; the same port twice does.
@Suite("LibOS network filters")
struct NetworkFilterTests {
  static let ip = IPv4Address(10, 0, 2, 15)

  func overlap(_ a: PacketFilter, _ b: PacketFilter) -> Bool {
    ConcreteDomain().filtersOverlap({ a.word($0) }, { b.word($0) })
  }

  @Test("the filters are well formed and survive their encoding")
  func wellFormed() throws {
    let filters = [
      try NetworkStack.arpFilter(ip: Self.ip), try NetworkStack.icmpFilter(ip: Self.ip),
      try NetworkStack.udpFilter(ip: Self.ip, port: 7),
      try NetworkStack.udpFilter(ip: Self.ip, port: 65535),
    ]
    for f in filters {
      #expect(try PacketFilter(words: f.words) == f)
      #expect(f.tests.count <= PacketFilter.maximumTests)
    }
  }

  /// Ports 0 to 65535 in steps, against a table of ports including those
  /// that share a byte with others.
  @Test("filters of different ports never overlap; the same port does")
  func ports() throws {
    let table: [UInt16] = [0, 1, 7, 9, 0x107, 0x700, 0xFF, 0xFF00, 0xFFFF, 2000, 53]
    let sweep = Array(stride(from: 0, through: 65535, by: 257).map { UInt16($0) }) + table
    for p in table {
      let a = try NetworkStack.udpFilter(ip: Self.ip, port: p)
      for q in sweep {
        let b = try NetworkStack.udpFilter(ip: Self.ip, port: q)
        #expect(overlap(a, b) == (p == q), "ports \(p) and \(q)")
      }
    }
  }

  @Test("ARP, ICMP and UDP filters never overlap; other addresses never do")
  func protocolsAndAddresses() throws {
    let other = IPv4Address(10, 0, 2, 16)
    let mine = [
      try NetworkStack.arpFilter(ip: Self.ip), try NetworkStack.icmpFilter(ip: Self.ip),
      try NetworkStack.udpFilter(ip: Self.ip, port: 7),
    ]
    let theirs = [
      try NetworkStack.arpFilter(ip: other), try NetworkStack.icmpFilter(ip: other),
      try NetworkStack.udpFilter(ip: other, port: 7),
    ]
    for (i, a) in mine.enumerated() {
      for (j, b) in mine.enumerated() { #expect(overlap(a, b) == (i == j), "\(a) and \(b)") }
      for b in theirs { #expect(!overlap(a, b), "\(a) and \(b)") }
    }
  }

  /// The check can say "overlap": a filter of every IPv4 frame, or of
  /// every frame to the address, overlaps each UDP and ICMP filter.
  @Test("a broader filter overlaps the stack's")
  func broader() throws {
    let anyIPv4 = try PacketFilter([PacketTest(offset: 12, width: 2, equals: 0x0800)])
    let anyToUs = try PacketFilter([PacketTest(offset: 30, width: 4, equals: Self.ip.value)])
    let arpAny = try PacketFilter([PacketTest(offset: 12, width: 2, equals: 0x0806)])
    for f in [
      try NetworkStack.icmpFilter(ip: Self.ip), try NetworkStack.udpFilter(ip: Self.ip, port: 9),
    ] {
      #expect(overlap(anyIPv4, f))
      #expect(overlap(anyToUs, f))
      #expect(!overlap(arpAny, f))
    }
    #expect(overlap(arpAny, try NetworkStack.arpFilter(ip: Self.ip)))
  }

  @Test("a stack's filters: ARP, ICMP, then one per socket, pairwise disjoint")
  func stackFilters() throws {
    var stack = try NetworkStack(mac: MACAddress(0x5254_0012_3456), ip: Self.ip)
    for p: UInt16 in [7, 9, 263] { try stack.bind(port: p) }
    let filters = try stack.filters()
    #expect(
      filters == [
        try NetworkStack.arpFilter(ip: Self.ip), try NetworkStack.icmpFilter(ip: Self.ip),
        try NetworkStack.udpFilter(ip: Self.ip, port: 7),
        try NetworkStack.udpFilter(ip: Self.ip, port: 9),
        try NetworkStack.udpFilter(ip: Self.ip, port: 263),
      ])
    for (i, a) in filters.enumerated() {
      for b in filters[(i + 1)...] { #expect(!overlap(a, b)) }
    }
  }
}
