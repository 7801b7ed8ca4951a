import ExoABI
import LibOS
import LibOSKernel

/// Two environments exchange a counter by RPC: the parent calls, the child
/// (a fork of it) serves each call by adding one.
@main
struct PingPong {
  nonisolated(unsafe) static var done = false

  static func main() {
    let os = LibOS(kernel: SystemKernel())
    let start: ForkStart?
    do { start = try os.boot() } catch {
      print("pingpong: boot failed: \(error.rawValue)")
      os.exit(1)
      return
    }
    if start != nil {
      os.serve { caller, message in
        if message.m1 == 1 {
          done = true
          return Message()
        }
        os.print("pingpong: environment \(os.me) got \(message.m0) from \(caller)")
        return Message(message.m0 + 1)
      }
      while !done { os.yield() }
      os.exit(0)
      return
    }
    do {
      let child = try os.fork(function: 1)
      var counter: UInt64 = 0
      for _ in 0..<10 {
        let reply = try os.rpc(child, Message(counter))
        guard reply.m0 == counter + 1 else {
          os.print("pingpong: sent \(counter), got \(reply.m0)")
          os.exit(1)
          return
        }
        counter = reply.m0 + 1
        os.print("pingpong: environment \(os.me) got \(reply.m0) back")
      }
      _ = try os.rpc(child, Message(0, 1))
      try os.reapAll()
      os.print("pingpong: counter reached \(counter)")
    } catch {
      os.print("pingpong: failed: \(error.rawValue)")
      os.exit(1)
    }
    os.exit(0)
  }
}
