import ExoABI
import LibOS
import LibOSKernel

/// A transfer must not disturb the callee's interrupted x87/SSE state: a
/// server computes with doubles in its main loop while a client calls it
/// thousands of times (each call interrupts the loop wherever it was, and
/// the handler computes with doubles too). The loop keeps b = 3a; a
/// clobbered register breaks it.
@main
struct FPUCheck {
  static func main() {
    LibOS.start(kernel: SystemKernel(), name: "fpucheck") { os, start throws(ExoError) in
      if start != nil {
        var calls = 0
        os.serve { _, m in
          calls += 1
          var x = Double(m.m0) * 1.5
          for _ in 0..<50 { x = x * 1.0001 + 0.25 }
          return Message(UInt64(x))
        }
        var bad = 0
        for round in 0..<400 {
          var a = Double(round) + 0.5
          var b = a * 3.0
          for _ in 0..<2000 {
            a = a * 1.0000001 + 1.0
            b = b * 1.0000001 + 3.0
          }
          if abs(b - 3 * a) > 1e-3 * abs(b) { bad += 1 }
        }
        os.print("fpucheck: server computed with \(bad) bad rounds over \(calls) calls")
        return bad == 0 ? 0 : 1
      }
      let child = try os.fork(function: 1)
      var n: UInt64 = 0
      while os.state(child.environment) == .runnable || os.state(child.environment) == .waiting {
        _ = try? os.rpc(child, Message(n), attempts: 3)
        n += 1
      }
      let status = try os.reap(child)
      os.print("fpucheck: child exited with \(status) after \(n) calls")
      return status
    }
  }
}
