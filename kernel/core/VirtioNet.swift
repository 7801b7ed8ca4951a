import Arch
import ExoABI

/// The network interface: a virtio-net device on virtio-mmio, the transport
/// of QEMU's `microvm` machine, driven only as far as multiplexing needs.
///
/// QEMU names each virtio-mmio device on the kernel command line as
/// `virtio_mmio.device=SIZE@0xBASE:IRQ`; the kernel takes the first one
/// whose device ID is 1 (network). Without one the kernel boots as before:
/// nothing is allocated and every call here answers "no NIC".
///
/// What the driver does (virtio 1.2, sections 2.7, 4.2 and 5.1):
/// - negotiates no offloads: only `VIRTIO_NET_F_MAC` (to read the address)
///   and, on a version-2 (modern) transport, `VIRTIO_F_VERSION_1`;
/// - sets up one receive queue (0) and one transmit queue (1), split
///   virtqueues of `queueSize` descriptors, each descriptor with its own
///   `bufferSize`-byte buffer; every receive buffer is posted at boot and
///   posted again as soon as its frame is taken;
/// - every buffer starts with the virtio-net header (10 bytes on a legacy
///   transport, 12 with `VIRTIO_F_VERSION_1`), all zero on transmit (no
///   checksum or segmentation offload) and skipped on receive;
/// - is polled (at timer ticks and by callers): device interrupts stay
///   unwired.
///
/// It has no protocol knowledge: frames are bytes, at most
/// `maximumFrameLength` (an Ethernet frame without its check sequence).
/// Rings and buffers are pages the kernel reserves at boot, above the pages
/// environments allocate.
enum VirtioNet {
  static let queueSize: UInt16 = 32
  static let bufferSize: UInt64 = 2048
  static let maximumFrameLength = PacketFilter.maximumFrameLength
  /// The shortest frame `transmit` accepts: an Ethernet header.
  static let minimumFrameLength = PacketFilter.minimumFrameLength
  static let receiveQueue: UInt32 = 0
  static let transmitQueue: UInt32 = 1
  /// Receive frames taken at one tick at most (the rest wait for the next).
  static let tickBudget = Int(queueSize)

  /// Whether a device was found and brought up.
  nonisolated(unsafe) private(set) static var present = false
  /// The MMIO base of the device (0 without one).
  nonisolated(unsafe) private(set) static var base: UInt64 = 0
  /// The transport's version register: 1 legacy, 2 modern.
  nonisolated(unsafe) private(set) static var transportVersion: UInt32 = 0
  /// The station address, in wire order in the low 48 bits (byte 0 first).
  nonisolated(unsafe) private(set) static var macAddress: UInt64 = 0
  /// Bytes of virtio-net header in front of every frame.
  nonisolated(unsafe) private(set) static var headerLength: UInt64 = 10
  /// Whether timer ticks drain the receive queue (off while a boot-time
  /// diagnostic reads it itself).
  nonisolated(unsafe) static var pollingAtTicks = false
  nonisolated(unsafe) private(set) static var counters = NICCounters()

  nonisolated(unsafe) private static var rx = Virtqueue()
  nonisolated(unsafe) private static var tx = Virtqueue()
  /// Transmit descriptors the device still holds, one bit each.
  nonisolated(unsafe) private static var transmitBusy: UInt64 = 0

  /// Frames and bytes through the interface.
  struct NICCounters {
    /// Frames taken from the receive queue and handed on.
    var received: UInt64 = 0
    var receivedBytes: UInt64 = 0
    /// Frames the device delivered with a length that is not a frame (too
    /// short for the header or longer than `maximumFrameLength`), or longer
    /// than the caller's buffer: dropped.
    var receiveErrors: UInt64 = 0
    /// Frames drained at a tick that nobody claimed: dropped.
    var unclaimed: UInt64 = 0
    /// Frames handed to the device for transmission.
    var transmitted: UInt64 = 0
    var transmittedBytes: UInt64 = 0
    /// Transmissions refused: bad length, no NIC, or the queue full.
    var transmitRefused: UInt64 = 0
  }

  private enum Register {
    static let magic: UInt64 = 0x000
    static let version: UInt64 = 0x004
    static let deviceID: UInt64 = 0x008
    static let deviceFeatures: UInt64 = 0x010
    static let deviceFeaturesSelect: UInt64 = 0x014
    static let driverFeatures: UInt64 = 0x020
    static let driverFeaturesSelect: UInt64 = 0x024
    static let guestPageSize: UInt64 = 0x028  // legacy only
    static let queueSelect: UInt64 = 0x030
    static let queueSizeMaximum: UInt64 = 0x034
    static let queueSize: UInt64 = 0x038
    static let queueAlign: UInt64 = 0x03C  // legacy only
    static let queuePageNumber: UInt64 = 0x040  // legacy only
    static let queueReady: UInt64 = 0x044  // modern only
    static let queueNotify: UInt64 = 0x050
    static let status: UInt64 = 0x070
    static let queueDescriptors: UInt64 = 0x080  // modern: low, high at +4
    static let queueDriver: UInt64 = 0x090
    static let queueDevice: UInt64 = 0x0A0
    static let config: UInt64 = 0x100
  }

  private enum Status {
    static let acknowledge: UInt32 = 1
    static let driver: UInt32 = 2
    static let driverOK: UInt32 = 4
    static let featuresOK: UInt32 = 8
    static let failed: UInt32 = 128
  }

  static let magicValue: UInt32 = 0x7472_6976  // "virt"
  static let networkDeviceID: UInt32 = 1
  static let featureMAC: UInt64 = 1 << 5
  static let featureVersion1: UInt64 = 1 << 32
  /// Descriptor flag: the device writes the buffer.
  static let descriptorWrite: UInt16 = 2
  /// Used-ring flag: the device asks not to be notified.
  static let usedNoNotify: UInt16 = 1

  private static func read(_ register: UInt64) -> UInt32 { arch_mmio_read32(base + register) }
  private static func write(_ register: UInt64, _ value: UInt32) {
    arch_mmio_write32(base + register, value)
  }

  // MARK: Bring-up

  /// Finds the NIC named on the command line and brings it up, taking its
  /// pages from `allocator`. Logs what it found; a device it cannot use is
  /// left alone (and reported) and the kernel boots without a NIC.
  static func start(_ boot: BootInfo, _ allocator: inout PageAllocator) {
    guard let line = boot.commandLine else { return }
    var position = 0
    while let device = nextDevice(line, from: &position) {
      guard device.base & 0x1FF == 0,
        device.base >= 0xC000_0000, device.base + 0x200 <= PhysicalMemory.identityMapEnd
      else {
        Log("exo: nic: ignoring a virtio-mmio device at ").hex(device.base)
          .text(" (outside the device window)").end()
        continue
      }
      guard arch_mmio_read32(device.base + Register.magic) == magicValue,
        arch_mmio_read32(device.base + Register.deviceID) == networkDeviceID
      else { continue }
      base = device.base
      if let failure = bringUp(&allocator) {
        Log("exo: nic: virtio-net at ").hex(base).text(" not used: ").text(failure).end()
        write(Register.status, Status.failed)
        base = 0
        return
      }
      present = true
      pollingAtTicks = true
      let log = Log("exo: nic: virtio-net (virtio-mmio version ").decimal(UInt64(transportVersion))
        .text(") at ").hex(base).text(" irq ").decimal(device.irq).text(", MAC ")
      logMAC(log, macAddress).text(", ").decimal(UInt64(queueSize)).text(" receive and ")
        .decimal(UInt64(queueSize)).text(" transmit buffers").end()
      return
    }
  }

  /// The next `virtio_mmio.device=SIZE@0xBASE:IRQ` word of the command line
  /// from `position` on, moving `position` past it.
  private static func nextDevice(_ line: UnsafePointer<UInt8>, from position: inout Int) -> (
    base: UInt64, irq: UInt64
  )? {
    let key: StaticString = "virtio_mmio.device="
    while line[position] != 0 {
      while line[position] == UInt8(ascii: " ") { position += 1 }
      let start = position
      while line[position] != 0 && line[position] != UInt8(ascii: " ") { position += 1 }
      let length = position - start
      guard length > key.utf8CodeUnitCount else { continue }
      var matches = true
      for k in 0..<key.utf8CodeUnitCount where line[start + k] != key.utf8Start[k] {
        matches = false
        break
      }
      guard matches else { continue }
      // SIZE (decimal, optional K/M suffix) '@' 0x BASE ':' IRQ.
      var i = start + key.utf8CodeUnitCount
      while i < position && line[i] != UInt8(ascii: "@") { i += 1 }
      guard i + 3 < position, line[i + 1] == UInt8(ascii: "0"),
        line[i + 2] | 0x20 == UInt8(ascii: "x")
      else { continue }
      i += 3
      var address: UInt64 = 0
      var digits = 0
      while i < position, let d = hexDigit(line[i]), digits < 16 {
        address = address << 4 | d
        digits += 1
        i += 1
      }
      guard digits > 0 else { continue }
      var irq: UInt64 = 0
      if i < position && line[i] == UInt8(ascii: ":") {
        i += 1
        while i < position, line[i] >= 0x30, line[i] <= 0x39, irq < 1 << 32 {
          irq = irq * 10 + UInt64(line[i] - 0x30)
          i += 1
        }
      }
      return (address, irq)
    }
    return nil
  }

  private static func hexDigit(_ c: UInt8) -> UInt64? {
    switch c {
    case 0x30...0x39: UInt64(c - 0x30)
    case 0x61...0x66: UInt64(c - 0x61 + 10)
    case 0x41...0x46: UInt64(c - 0x41 + 10)
    default: nil
    }
  }

  /// The initialization sequence of virtio 1.2 section 3.1.1 (and its
  /// legacy variant); a reason on failure.
  private static func bringUp(_ allocator: inout PageAllocator) -> StaticString? {
    transportVersion = read(Register.version)
    guard transportVersion == 1 || transportVersion == 2 else {
      return "unknown virtio-mmio version"
    }
    let modern = transportVersion == 2
    write(Register.status, 0)  // reset
    write(Register.status, Status.acknowledge)
    write(Register.status, Status.acknowledge | Status.driver)
    write(Register.deviceFeaturesSelect, 0)
    var offered = UInt64(read(Register.deviceFeatures))
    write(Register.deviceFeaturesSelect, 1)
    offered |= UInt64(read(Register.deviceFeatures)) << 32
    var wanted = offered & featureMAC
    if modern {
      guard offered & featureVersion1 != 0 else { return "a modern transport without VERSION_1" }
      wanted |= featureVersion1
    }
    write(Register.driverFeaturesSelect, 0)
    write(Register.driverFeatures, UInt32(truncatingIfNeeded: wanted))
    write(Register.driverFeaturesSelect, 1)
    write(Register.driverFeatures, UInt32(truncatingIfNeeded: wanted >> 32))
    if modern {
      write(Register.status, Status.acknowledge | Status.driver | Status.featuresOK)
      guard read(Register.status) & Status.featuresOK != 0 else {
        return "the device refused the features"
      }
    } else {
      write(Register.guestPageSize, UInt32(pageSize))
    }
    headerLength = modern ? 12 : 10

    if wanted & featureMAC != 0 {
      let low = UInt64(read(Register.config))
      let high = UInt64(arch_mmio_read16(base + Register.config + 4))
      macAddress = low | high << 32
    }

    guard let receive = setUpQueue(receiveQueue, modern: modern, &allocator) else {
      return "the receive queue is missing or too small"
    }
    guard let transmit = setUpQueue(transmitQueue, modern: modern, &allocator) else {
      return "the transmit queue is missing or too small"
    }
    rx = receive
    tx = transmit
    transmitBusy = 0
    // Every receive buffer is the device's from the start.
    for id in 0..<rx.size {
      rx.setDescriptor(id, length: UInt32(bufferSize), flags: descriptorWrite)
      rx.offer(id)
    }
    let ready = Status.acknowledge | Status.driver | Status.driverOK
    write(Register.status, modern ? ready | Status.featuresOK : ready)
    notify(rx)
    return nil
  }

  /// Queue `index` with its rings and buffers in fresh pages, made known to
  /// the device; `nil` if the device has no such queue.
  private static func setUpQueue(
    _ index: UInt32, modern: Bool, _ allocator: inout PageAllocator
  ) -> Virtqueue? {
    write(Register.queueSelect, index)
    let maximum = read(Register.queueSizeMaximum)
    guard maximum >= UInt32(queueSize) else { return nil }
    if modern { guard read(Register.queueReady) == 0 else { return nil } }
    // Page 0: descriptors then the available ring; page 1: the used ring
    // (the legacy layout with QueueAlign = 4096, which modern accepts too).
    var queue = Virtqueue()
    queue.index = index
    queue.size = queueSize
    queue.descriptors = allocator.run(2)
    queue.available = queue.descriptors + 16 * UInt64(queueSize)
    queue.used = queue.descriptors + pageSize
    queue.buffers = allocator.run(UInt64(queueSize) * bufferSize / pageSize)
    for id in 0..<queueSize {
      queue.setDescriptor(id, length: 0, flags: 0)
    }
    write(Register.queueSize, UInt32(queueSize))
    if modern {
      write(Register.queueDescriptors, UInt32(truncatingIfNeeded: queue.descriptors))
      write(Register.queueDescriptors + 4, UInt32(truncatingIfNeeded: queue.descriptors >> 32))
      write(Register.queueDriver, UInt32(truncatingIfNeeded: queue.available))
      write(Register.queueDriver + 4, UInt32(truncatingIfNeeded: queue.available >> 32))
      write(Register.queueDevice, UInt32(truncatingIfNeeded: queue.used))
      write(Register.queueDevice + 4, UInt32(truncatingIfNeeded: queue.used >> 32))
      write(Register.queueReady, 1)
    } else {
      write(Register.queueAlign, UInt32(pageSize))
      write(Register.queuePageNumber, UInt32(truncatingIfNeeded: queue.descriptors / pageSize))
    }
    return queue
  }

  private static func notify(_ queue: Virtqueue) {
    arch_compiler_barrier()
    guard arch_mmio_read16(queue.used) & usedNoNotify == 0 else { return }
    write(Register.queueNotify, queue.index)
  }

  // MARK: The kernel-internal interface

  /// The next received buffer holding a frame: its descriptor and the
  /// frame's length. Buffers whose length is not that of a frame are
  /// counted in `receiveErrors` and given back.
  private static func takeFrame() -> (UInt16, Int)? {
    guard present else { return nil }
    while let (id, written) = rx.takeUsed() {
      let length = Int(written) - Int(headerLength)
      if length >= 0 && length <= maximumFrameLength { return (id, length) }
      counters.receiveErrors &+= 1
      release(id)
    }
    return nil
  }

  /// Gives receive buffer `id` back to the device.
  private static func release(_ id: UInt16) {
    rx.offer(id)
    notify(rx)
  }

  /// Takes the next received frame, if any, and lends its bytes to `body`
  /// (valid only during the call); the buffer goes back to the device
  /// afterwards. Whether a frame was taken.
  @discardableResult
  static func nextFrame(_ body: (UnsafePointer<UInt8>, Int) -> Void) -> Bool {
    guard let (id, length) = takeFrame() else { return false }
    counters.received &+= 1
    counters.receivedBytes &+= UInt64(length)
    body(UnsafePointer(PhysicalMemory.bytes(rx.buffer(id) + headerLength)), length)
    release(id)
    return true
  }

  /// Copies the next received frame into `destination` (room for
  /// `capacity` bytes); its length, or `nil` when no frame is waiting. A
  /// frame longer than `capacity` is counted in `receiveErrors` and
  /// skipped.
  static func receive(into destination: UnsafeMutablePointer<UInt8>, capacity: Int) -> Int? {
    while let (id, length) = takeFrame() {
      defer { release(id) }
      guard length <= capacity else {
        counters.receiveErrors &+= 1
        continue
      }
      destination.update(
        from: UnsafePointer(PhysicalMemory.bytes(rx.buffer(id) + headerLength)), count: length)
      counters.received &+= 1
      counters.receivedBytes &+= UInt64(length)
      return length
    }
    return nil
  }

  /// Hands `length` bytes at `frame` to the device for transmission (a
  /// copy: the caller's buffer is free on return). False, counted in
  /// `transmitRefused`, when there is no NIC, the length is not that of a
  /// frame, or every transmit buffer is still the device's.
  static func transmit(_ frame: UnsafePointer<UInt8>, length: Int) -> Bool {
    guard present, length >= minimumFrameLength, length <= maximumFrameLength else {
      counters.transmitRefused &+= 1
      return false
    }
    reclaimTransmitted()
    let all: UInt64 = queueSize == 64 ? ~0 : (1 << UInt64(queueSize)) - 1
    guard transmitBusy & all != all else {
      counters.transmitRefused &+= 1
      return false
    }
    let id = UInt16((~transmitBusy).trailingZeroBitCount)
    transmitBusy |= 1 << UInt64(id)
    let buffer = tx.buffer(id)
    PhysicalMemory.bytes(buffer).initialize(repeating: 0, count: Int(headerLength))
    PhysicalMemory.copy(to: buffer + headerLength, from: frame, count: length)
    tx.setDescriptor(id, length: UInt32(UInt64(length) + headerLength), flags: 0)
    tx.offer(id)
    notify(tx)
    counters.transmitted &+= 1
    counters.transmittedBytes &+= UInt64(length)
    return true
  }

  /// Frees the transmit buffers the device is done with.
  static func reclaimTransmitted() {
    while let (id, _) = tx.takeUsed() { transmitBusy &= ~(1 << UInt64(id)) }
  }

  /// The timer tick's share: frees sent buffers and drains up to
  /// `tickBudget` received frames to `frameArrived`.
  static func pollAtTick() {
    guard present, pollingAtTicks else { return }
    reclaimTransmitted()
    var taken = 0
    while taken < tickBudget && nextFrame({ frame, length in frameArrived(frame, length) }) {
      taken += 1
    }
  }

  /// Where a frame drained at a tick goes: to the packet filters
  /// (`Frames.arrived`, the spec's frameArrival). A frame no active filter
  /// claims is counted in `unclaimed` (and in the exported
  /// `unclaimedFrames`) and dropped.
  private static func frameArrived(_ frame: UnsafePointer<UInt8>, _ length: Int) {
    if Frames.arrived(frame, length: length) == none { counters.unclaimed &+= 1 }
  }

  /// Writes `address` as six colon-separated hex bytes.
  @discardableResult
  static func logMAC(_ log: Log, _ address: UInt64) -> Log {
    for i in 0..<6 {
      let byte = (address >> UInt64(8 * i)) & 0xFF
      if i > 0 { Console.put(UInt8(ascii: ":")) }
      let high = UInt8(truncatingIfNeeded: byte >> 4)
      let low = UInt8(truncatingIfNeeded: byte & 0xF)
      Console.put(high < 10 ? 0x30 + high : 0x57 + high)
      Console.put(low < 10 ? 0x30 + low : 0x57 + low)
    }
    return log
  }
}

/// One split virtqueue (virtio 1.2 section 2.7) in memory the kernel owns:
///
///     descriptors  16 bytes each: u64 address, u32 length, u16 flags, u16 next
///     available    u16 flags, u16 index, u16 ring[size], u16 used_event
///     used         u16 flags, u16 index, {u32 id, u32 length}[size], u16 avail_event
///
/// Descriptor `id` always points at buffer `id`; chains are never used.
struct Virtqueue {
  var index: UInt32 = 0
  var size: UInt16 = 0
  var descriptors: UInt64 = 0
  var available: UInt64 = 0
  var used: UInt64 = 0
  var buffers: UInt64 = 0
  /// The next available-ring index to write.
  var nextAvailable: UInt16 = 0
  /// The next used-ring index to read.
  var nextUsed: UInt16 = 0

  func buffer(_ id: UInt16) -> UInt64 { buffers + UInt64(id) * VirtioNet.bufferSize }

  func setDescriptor(_ id: UInt16, length: UInt32, flags: UInt16) {
    let d = descriptors + 16 * UInt64(id)
    PhysicalMemory.store64(d, buffer(id))
    PhysicalMemory.store32(d + 8, length)
    PhysicalMemory.store16(d + 12, flags)
    PhysicalMemory.store16(d + 14, 0)
  }

  /// Puts descriptor `id` on the available ring and publishes it.
  mutating func offer(_ id: UInt16) {
    PhysicalMemory.store16(available + 4 + 2 * UInt64(nextAvailable % size), id)
    nextAvailable &+= 1
    arch_compiler_barrier()
    arch_mmio_write16(available + 2, nextAvailable)
  }

  /// The next descriptor the device has finished with, and the bytes it
  /// wrote; `nil` if none (or if the device names a descriptor that does
  /// not exist).
  mutating func takeUsed() -> (UInt16, UInt32)? {
    guard arch_mmio_read16(used + 2) != nextUsed else { return nil }
    arch_compiler_barrier()
    let element = used + 4 + 8 * UInt64(nextUsed % size)
    let id = PhysicalMemory.load32(element)
    let length = PhysicalMemory.load32(element + 4)
    nextUsed &+= 1
    guard id < UInt32(size) else { return nil }
    return (UInt16(id), length)
  }
}
