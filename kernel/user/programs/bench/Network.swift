import ExoABI
import ExoUser
import LibOS
import LibOSKernel
import UserArch

/// The network paths. Frames come from `diffLoopback` (the kernel runs
/// with `loopback=1` under `exo bench`): a frame built in one of
/// environment 0's pages arrives through the NIC's path (`Frames.arrived`,
/// the spec's `frameArrival`), at a fixed instruction count, where a
/// peer's frames would arrive at host times.
///
///     environment 4  capability 40                         the frame owner
///     pages 26...29  capability 41  (child's slots 0...3)  its handler stack
///     page  30       capability 43  (child's slot 8)       its receive buffer
///     page  31       capability 45  slot 14, child's 9     the time its upcall began
///     page  32       capability 47  window slot 13         the frames that arrive
///     window slots 200...203                               the echo server's link (libOS)
enum NetworkWorkload {
  static let owner = EnvironmentID(rawValue: 4)
  static let ownerCapability = cap(40)
  static let ownerStackMemory = cap(41)
  static let ownerStackGrant = cap(42)
  static let ownerStackIndex: UInt64 = 26
  static let bufferMemory = cap(43)
  static let bufferGrant = cap(44)
  static let bufferIndex: UInt64 = 30
  static let ownerBufferSlot: UInt64 = 8
  static let sharedMemory = cap(45)
  static let sharedGrant = cap(46)
  static let sharedIndex: UInt64 = 31
  static let sharedSlot: UInt64 = 14
  static let ownerSharedSlot: UInt64 = 9
  static let frameMemory = cap(47)
  static let frameIndex: UInt64 = 32
  static let frameSlot: UInt64 = 13
  static let echoSlots = 200..<204
  /// The owner's filter: EtherType 0x88B5 (IEEE local experimental).
  static let etherType: UInt32 = 0x88B5
  static let frameLength: UInt64 = 60

  /// The shared page's words: 0 the time the owner's upcall began, 1 the
  /// owner's filter slot + 1 once installed (0 before, `.max` on failure),
  /// 2 how many times the owner's loop has yielded.
  static func shared(_ slot: UInt64) -> UnsafeMutablePointer<UInt64> {
    UserMemory.pointer(windowAddress(slot), to: UInt64.self)
  }

  static func loopback(_ length: UInt64) -> SyscallResult {
    Kernel.raw(DiffCall.loopback.rawValue, frameSlot, length)
  }

  /// Frame arrival to the owner's upcall. Environment 4 owns a filter for
  /// EtherType 0x88B5 with its buffer in its window; environment 0 runs.
  /// Timed, per iteration, from environment 0:
  ///
  /// 1. `diffLoopback` of a 60-byte frame of that EtherType: the kernel's
  ///    arrival path — the spec's `frameArrival` runs every filter over
  ///    the frame, copies it into the owner's buffer after the delivery
  ///    header and, the owner not running, writes the `frameArrived`
  ///    upcall's frame on its handler stack;
  /// 2. `yieldTo(4)`: the owner enters its upcall entry and its handler (a
  ///    Swift closure), whose first act is to read the time.
  ///
  /// A frame from the NIC takes the same path from `Frames.arrived` on; the
  /// owner then runs at its next turn instead of at a `yieldTo`. Not timed:
  /// the handler releases the buffer and yields back, and environment 0
  /// yields to it until the handler has returned and the owner's loop has
  /// yielded back. (A timer tick that ends a slice inside an iteration
  /// makes that sample longer; the median is the figure.)
  static func arrival(_ n: Int) {
    let shared = shared(sharedSlot)
    Resources.map(
      "exo.framearrival", index: frameIndex, count: 1, capability: frameMemory, slot: frameSlot)
    Resources.map(
      "exo.framearrival", index: sharedIndex, count: 1, capability: sharedMemory, slot: sharedSlot)
    let frame = UserMemory.pointer(windowAddress(frameSlot), to: UInt8.self)
    for i in 0..<Int(frameLength) { frame[i] = UInt8(truncatingIfNeeded: i) }
    frame[12] = UInt8(etherType >> 8)
    frame[13] = UInt8(etherType & 0xff)
    Workloads.startChild(
      "exo.framearrival", owner, capability: ownerCapability, stackMemory: ownerStackMemory,
      stackGrant: ownerStackGrant, stackIndex: ownerStackIndex, upcall: Upcalls.exceptionEntry,
      callEntry: 0, main: frameOwnerMain)
    // The owner's buffer, and the shared page in its window too.
    func check(_ what: StaticString, _ r: SyscallResult) {
      if r.status != 0 { benchFail("exo.framearrival", what, r.status) }
    }
    check(
      "pageAllocate",
      Kernel.pageAllocate(page(bufferIndex), count: 1, capability: bufferMemory))
    for (memory, grant, index, slot) in [
      (bufferMemory, bufferGrant, bufferIndex, ownerBufferSlot),
      (sharedMemory, sharedGrant, sharedIndex, ownerSharedSlot),
    ] {
      check(
        "capabilityDerive",
        Kernel.capabilityDerive(
          memory, child: grant, rights: [.read, .write, .grant], base: page(index).rawValue,
          count: 1))
      check("capabilityGrant", Kernel.capabilityGrant(grant, to: owner))
      check(
        "pageMap",
        Kernel.pageMap(
          owner, via: ownerCapability, memory: grant, page: page(index), slot: slot,
          rights: [.read, .write]))
    }
    // The owner installs its filter on its first turns.
    for _ in 0..<100 where shared[1] == 0 { _ = Kernel.yieldTo(owner) }
    guard shared[1] != 0 && shared[1] != .max else {
      benchFail("exo.framearrival", "the owner could not install its filter", shared[1])
    }
    let filter = shared[1] - 1
    // Bad arguments change nothing and say what is wrong.
    let window = KernelInfo[header: .windowSlots]
    for (slot, length, error) in [
      (frameSlot, UInt64(13), ExoError.invalidArgument),
      (frameSlot, UInt64(PacketFilter.maximumFrameLength + 1), .invalidArgument),
      (window, frameLength, .outOfRange), (window - 1, frameLength, .slotEmpty),
    ] where Kernel.raw(DiffCall.loopback.rawValue, slot, length).status != error.rawValue {
      benchFail("exo.framearrival", "diffLoopback accepted a bad argument", slot)
    }
    for i in 0..<n {
      shared[0] = 0
      Profile.begin()
      let t0 = exo_rdtsc()
      let r = loopback(frameLength)
      // One turn is enough unless a timer tick ended a slice inside it.
      var turns = 0
      repeat {
        _ = Kernel.yieldTo(owner)
        turns += 1
      } while shared[0] == 0 && turns < 100
      Profile.end()
      let t1 = shared[0]
      if r.status != 0 { benchFail("exo.framearrival", "diffLoopback", r.status) }
      if r.value != filter { benchFail("exo.framearrival", "the frame missed the filter", r.value) }
      if t1 == 0 { benchFail("exo.framearrival", "the owner's upcall did not run", 0) }
      Measure.samples[i] = t1 &- t0
      // The handler returns and the owner's loop yields back.
      let rounds = shared[2]
      for _ in 0..<100 where shared[2] == rounds { _ = Kernel.yieldTo(owner) }
      if shared[2] == rounds {
        benchFail("exo.framearrival", "the owner's handler did not return", 0)
      }
    }
    Measure.report("exo.framearrival", n)
    let d = Kernel.environmentDestroy(owner, via: ownerCapability)
    if d.status != 0 { benchFail("exo.framearrival", "environmentDestroy", d.status) }
    var steps = 0
    while Kernel.environmentReclaim(owner).value == 1 && steps < 10_000 { steps += 1 }
  }

  /// A UDP echo round trip inside the guest, arrival to transmit, on the
  /// libOS: environment 0 runs a `NetworkStack` at 10.0.2.15 with a socket
  /// on port 7 over a `KernelFrameLink` (its ARP, ICMP and port-7 filters
  /// installed). A peer's stack built the datagram (32 bytes of data from
  /// 10.0.2.2:40000); each stack knows the other's MAC. Timed, per
  /// iteration:
  ///
  /// 1. `diffLoopback` of the datagram's frame: the port-7 filter claims
  ///    it and the kernel copies it into that filter's buffer (its owner is
  ///    running: no upcall, it polls);
  /// 2. the libOS serves the link: it finds the buffer pending, copies the
  ///    frame out and releases the buffer (`filterRelease`), and the stack
  ///    checks Ethernet, IPv4 and UDP and queues the datagram;
  /// 3. the echo: the datagram is taken from the socket and sent back to
  ///    its source (the stack builds the frame, the link stores it in its
  ///    transmit page and calls `frameTransmit`, whose transmit rule reads
  ///    the frame; the bench guest has no NIC, so the driver counts it as
  ///    lost).
  static func udpEcho(_ n: Int) {
    func fail(_ what: StaticString, _ code: UInt64 = 0) -> Never {
      benchFail("exo.udpecho", what, code)
    }
    let os = LibOS(kernel: SystemKernel())
    let (a, b, c, d) = PeerNetwork.exoAddress
    let (pa, pb, pc, pd) = PeerNetwork.peerAddress
    let ip = IPv4Address(a, b, c, d)
    let peerIP = IPv4Address(pa, pb, pc, pd)
    let port = PeerNetwork.echoPort
    var stack: NetworkStack
    var peer: NetworkStack
    do throws(NetworkError) {
      stack = try NetworkStack(mac: MACAddress(bytes: PeerNetwork.exoMAC), ip: ip)
      try stack.bind(port: port)
      peer = try NetworkStack(mac: MACAddress(bytes: PeerNetwork.peerMAC), ip: peerIP)
      try peer.bind(port: 40_000)
    } catch {
      fail("the stacks")
    }
    var link: KernelFrameLink<SystemKernel>
    do throws(ExoError) {
      let filters: [PacketFilter]
      do throws(PacketFilterError) { filters = try stack.filters() } catch { fail("filters") }
      link = try KernelFrameLink(os, filters: filters, slots: echoSlots)
    } catch {
      fail("the link", error.rawValue)
    }
    // The peer asks ARP for 10.0.2.15, learns the answer, and its datagram
    // goes out; the server learns the peer from the request.
    let data = [UInt8](repeating: 0x61, count: 32)
    var request: [UInt8] = []
    let start = KernelInfo[header: .ticks]
    do throws(NetworkError) {
      let asking = try peer.send(data, from: 40_000, to: ip, port: port, now: start)
      guard let arp = asking.first else { fail("no ARP request") }
      guard let reply = stack.receive(arp, now: start).first else { fail("no ARP reply") }
      guard let datagram = peer.receive(reply, now: start).first else { fail("no datagram") }
      request = datagram
    } catch {
      fail("peer send")
    }
    let frame = UserMemory.pointer(windowAddress(frameSlot), to: UInt8.self)
    for (i, byte) in request.enumerated() { frame[i] = byte }
    for i in 0..<n {
      Profile.begin()
      let t0 = exo_rdtsc()
      let r = loopback(UInt64(request.count))
      let now = KernelInfo[header: .ticks]
      stack.serve(&link, now: now)
      var echoed = 0
      while let datagram = try? stack.dequeue(port: port) {
        do throws(NetworkError) {
          for f in try stack.send(
            datagram.data, from: port, to: datagram.source, port: datagram.sourcePort, now: now)
          {
            link.transmit(f)
          }
          echoed += 1
        } catch {
          fail("echo")
        }
      }
      let t1 = exo_rdtsc()
      Profile.end()
      Measure.samples[i] = t1 &- t0
      if r.status != 0 { fail("diffLoopback", r.status) }
      if echoed != 1 { fail("the datagram was not echoed", UInt64(echoed)) }
      if link.transmitted != i + 1 || link.refused != 0 {
        fail("frameTransmit refused the echo", link.lastRefusal?.rawValue ?? 0)
      }
    }
    Measure.report("exo.udpecho", n)
    link.remove()
  }
}

/// The frame owner's code: installs a filter for EtherType 0x88B5 with its
/// buffer in its slot 8, then yields to environment 0 whenever it runs. Its
/// upcall handler reads the time first, then releases the buffer and hands
/// the CPU back.
let frameOwnerMain: @convention(c) () -> Void = {
  let manager = EnvironmentID(rawValue: 0)
  let shared = NetworkWorkload.shared(NetworkWorkload.ownerSharedSlot)
  Upcalls.upcallHandler = { reason, filter, _ in
    guard reason == .frameArrived else { return }
    shared[0] = exo_rdtsc()
    _ = Kernel.call(FilterReleaseArguments(filter: filter))
    _ = Kernel.yieldTo(manager)
  }
  // Wait for the buffer, then install into the first free filter slot.
  while KernelInfo[binding: 4, slot: NetworkWorkload.ownerBufferSlot, .page] == UInt64.max {
    _ = Kernel.yieldTo(manager)
  }
  let test = PacketTest(offset: 12, width: 2, equals: NetworkWorkload.etherType)
  let (first, second) = test.encoded
  var installed: UInt64 = .max
  for f in 0..<UInt64(KernelInfo[header: .filters])
  where installed == .max && KernelInfo[filter: f, .state] == FilterState.free.rawValue {
    let t = Kernel.call(FilterTestArguments(filter: f, index: 0, first: first, second: second))
    let i = Kernel.call(
      FilterInstallArguments(filter: f, count: 1, slot: NetworkWorkload.ownerBufferSlot))
    if t.status == 0 && i.status == 0 { installed = f + 1 }
  }
  shared[1] = installed
  while true {
    shared[2] &+= 1
    _ = Kernel.yieldTo(manager)
  }
}
