import ExoABI
import Foundation

/// Linux as the exokernel's network peer: the benchmark's Debian kernel and
/// busybox, plus the kernel package's `e1000` module, in an initramfs of
/// its own with the static UDP client `bench/linux/udpcheck.c`. Its `/init`
/// loads the module, configures `eth0` with `PeerNetwork.peerAddress`, runs
/// the checks that `exopeer.checks=NAME` on its command line names (each
/// prints `peer: ...` lines, `peer: check PASS|FAIL NAME: DETAIL` for a
/// check, that the harness judges), prints `peer: checks done` and powers
/// the machine off.
///
/// - `nicselftest`: the NIC self-test's peer (sends ARP requests until the
///   kernel's burst has arrived; prints `peer: received N frames`).
/// - `netecho`: once a single ping is answered (the exokernel's program
///   may still be starting), `ping -c 10` of it (0 % loss), 5 UDP datagrams
///   echoed on `PeerNetwork.echoPort`, and no answer on
///   `PeerNetwork.unclaimedPort`.
extension LinuxPeer {
  /// The peer's machine: `pc` has PCI, where Debian's `e1000` module
  /// finds its device without help.
  public static let networkMachine = "pc"
  public static let networkMemory = "256M"
  /// The NIC driver module, relative to `lib/modules/VERSION/`. Debian's
  /// 6.1 kernel ships it uncompressed; a `.ko.xz` is decompressed with xz.
  static let nicModule = "kernel/drivers/net/ethernet/intel/e1000/e1000.ko"
  static let udpCheckSource = "bench/linux/udpcheck.c"
  /// An address on the segment that nobody has: the peer's ARP requests
  /// for it are the frames it sends while it waits.
  static let probeAddress = "10.0.2.1"

  /// The peer's kernel command line for the checks named `checks`.
  public static func networkCommandLine(checks: String) -> String {
    commandLine + " exopeer.checks=\(checks)"
  }

  static var networkInitScript: String {
    """
    #!/bin/busybox sh
    # The exokernel's network peer: load the NIC driver, bring eth0 up,
    # run the checks named by exopeer.checks= on the command line, power off.
    /bin/busybox mkdir -p /proc /sys /tmp
    /bin/busybox mount -t proc proc /proc
    /bin/busybox mount -t sysfs sysfs /sys
    /bin/busybox --install -s /bin
    export PATH=/bin
    insmod /lib/e1000.ko || echo "peer: insmod e1000.ko failed"
    i=0
    while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do usleep 100000; i=$((i+1)); done
    # No IPv6: its router and neighbour solicitations would be frames no
    # filter claims, and the exokernel's unclaimed-frame count must grow
    # only by the frames the checks send.
    for f in /proc/sys/net/ipv6/conf/*/disable_ipv6; do [ -e "$f" ] && echo 1 > "$f"; done
    [ -e /proc/sys/net/ipv6/conf/all/disable_ipv6 ] && echo "peer: IPv6 disabled"
    ip link set lo up
    if ip link set eth0 up && ip addr add \(GuestNetwork.peerAddress)/\(PeerNetwork.prefixLength) dev eth0; then
      echo "peer: eth0 up, MAC $(cat /sys/class/net/eth0/address)"
    else
      echo "peer: eth0 could not be configured"
    fi
    stats=/sys/class/net/eth0/statistics
    case " $(cat /proc/cmdline) " in
    *" exopeer.checks=nicselftest "*)
      # Send ARP requests until the kernel's burst has arrived (or 300
      # tries); every frame eth0 receives is the kernel's.
      rx0=$(cat $stats/rx_packets)
      n=0
      while [ $(( $(cat $stats/rx_packets) - rx0 )) -lt \(NICSelfTestProtocol.burst) ] && [ $n -lt 300 ]; do
        arping -c 1 -w 1 -I eth0 \(probeAddress) >/dev/null 2>&1
        n=$((n+1))
      done
      sleep 1
      echo "peer: received $(( $(cat $stats/rx_packets) - rx0 )) frames, transmitted $(cat $stats/tx_packets) frames"
      ;;
    *" exopeer.checks=netrecv "*)
      # ARP requests for the exokernel's address, which its program only
      # receives (through a packet filter): none is answered.
      if arping -c 5 -w 8 -I eth0 \(GuestNetwork.exoAddress) > /tmp/arping 2>&1; then
        echo "peer: check FAIL arp-unanswered: $(grep -i 'received' /tmp/arping)"
      else
        echo "peer: check PASS arp-unanswered: 5 requests sent, none answered"
      fi
      ;;
    *" exopeer.checks=netecho "*)
      # The exokernel answers ICMP echo and echoes UDP on its echo port;
      # nothing answers on the unclaimed port. The exokernel's program may
      # still be starting when eth0 comes up: single pings (up to 60 s)
      # wait until it answers, then the counted ping runs.
      n=0
      until ping -c 1 -W 1 \(GuestNetwork.exoAddress) >/dev/null 2>&1 || [ $n -ge 60 ]; do n=$((n+1)); done
      echo "peer: the exokernel answered after $n unanswered pings"
      if ping -c 10 -W 5 \(GuestNetwork.exoAddress) > /tmp/ping 2>&1 && grep -q " 0% packet loss" /tmp/ping; then
        echo "peer: check PASS ping: $(grep 'packet loss' /tmp/ping)"
      else
        echo "peer: check FAIL ping: $(grep 'packet loss' /tmp/ping || tail -n 1 /tmp/ping)"
      fi
      /udpcheck echo \(GuestNetwork.exoAddress) \(PeerNetwork.echoPort) 5
      /udpcheck silent \(GuestNetwork.exoAddress) \(PeerNetwork.unclaimedPort)
      # The server ends on this (it then checks that the datagram to the
      # unclaimed port was counted); give the NIC time to send it.
      /udpcheck send \(GuestNetwork.exoAddress) \(PeerNetwork.echoPort) "\(PeerNetwork.doneMessage)"
      sleep 1
      ;;
    *)
      echo "peer: check FAIL checks: the peer has no checks named '$(sed -n 's/.*exopeer.checks=\\([^ ]*\\).*/\\1/p' /proc/cmdline)'"
      ;;
    esac
    echo "peer: checks done"
    poweroff -f

    """
  }

  /// Fetches what is missing and builds the network peer's initramfs.
  public func prepareNetworkPeer() throws(BenchSetupError) -> Prepared {
    let unpacked = try unpackKernelAndBusybox()
    let module = try nicModuleFile(unpacked)
    let sourceURL = project.root.appendingPathComponent(LinuxPeer.udpCheckSource)
    guard let busyboxData = try? Data(contentsOf: unpacked.busybox),
      let moduleData = try? Data(contentsOf: module),
      let source = try? Data(contentsOf: sourceURL)
    else {
      throw .failed(
        "cannot read \(unpacked.busybox.path), \(module.path) or \(LinuxPeer.udpCheckSource)")
    }
    let script = LinuxPeer.networkInitScript
    let flags = ["-static", "-O2", "-Wall", "-Wextra"]
    var hash = FNV64()
    hash.add(busyboxData)
    hash.add(moduleData)
    hash.add(Data(script.utf8))
    hash.add(source)
    hash.add(Data(flags.joined(separator: " ").utf8))
    let image = folder.appendingPathComponent(
      "initramfs-net-\(String(hash.value, radix: 16)).cpio")
    if !FileManager.default.fileExists(atPath: image.path) {
      guard let gcc = ProcessRunner.which("gcc") else {
        throw .failed(
          "gcc not found: install gcc and libc6-dev (the peer's UDP client is a static C program)")
      }
      let binary = folder.appendingPathComponent("udpcheck-\(String(hash.value, radix: 16))")
      progress("gcc \(LinuxPeer.udpCheckSource)")
      try run(
        gcc, flags + ["-o", binary.path, sourceURL.path],
        what: "gcc -static \(LinuxPeer.udpCheckSource)")
      guard let program = try? Data(contentsOf: binary) else {
        throw .failed("gcc wrote no binary")
      }
      var archive = NewcArchive()
      archive.add(".", .directory, mode: 0o755)
      archive.add("bin", .directory, mode: 0o755)
      archive.add("bin/busybox", .file(busyboxData), mode: 0o755)
      archive.add("dev", .directory, mode: 0o755)
      archive.add("dev/console", .characterDevice(major: 5, minor: 1), mode: 0o600)
      archive.add("lib", .directory, mode: 0o755)
      archive.add("lib/e1000.ko", .file(moduleData), mode: 0o644)
      archive.add("init", .file(Data(script.utf8)), mode: 0o755)
      archive.add("udpcheck", .file(program), mode: 0o755)
      do {
        try archive.finished().write(to: image, options: .atomic)
      } catch {
        throw .failed("cannot write \(image.path): \(error)")
      }
      progress("initramfs \(image.lastPathComponent)")
    }
    return Prepared(kernel: unpacked.kernel, initrd: image, kernelPackage: unpacked.kernelPackage)
  }

  /// The unpacked (and if need be decompressed) NIC module.
  func nicModuleFile(_ unpacked: Unpacked) throws(BenchSetupError) -> URL {
    let modules = unpacked.kernelFolder.appendingPathComponent("lib/modules")
    func find() -> URL? {
      guard let version = findFile(in: modules, prefix: "") else { return nil }
      let plain = version.appendingPathComponent(LinuxPeer.nicModule)
      if FileManager.default.fileExists(atPath: plain.path) { return plain }
      let compressed = version.appendingPathComponent(LinuxPeer.nicModule + ".xz")
      guard FileManager.default.fileExists(atPath: compressed.path) else { return nil }
      return compressed
    }
    if find() == nil {
      progress("unpacking the NIC module from \(unpacked.kernelDeb.lastPathComponent)")
      try shell(
        "dpkg-deb --fsys-tarfile \(quote(unpacked.kernelDeb.path)) | tar -x -C \(quote(unpacked.kernelFolder.path)) --wildcards './lib/modules/*/\(LinuxPeer.nicModule)*'",
        what: "unpacking \(LinuxPeer.nicModule)")
    }
    guard let found = find() else {
      throw .failed("no \(LinuxPeer.nicModule) in \(unpacked.kernelDeb.lastPathComponent)")
    }
    guard found.pathExtension == "xz" else { return found }
    try run("xz", ["-d", "-k", "-f", found.path], what: "xz -d \(found.lastPathComponent)")
    return found.deletingPathExtension()
  }
}
