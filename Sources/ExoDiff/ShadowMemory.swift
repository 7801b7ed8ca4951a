import ExoABI
import ExoSpec

/// User memory as the spec reads it in the differential tester (the
/// domain's `pageByte`, which `frameTransmit`'s transmit rule reads): the
/// bytes of a ``Shadow``, so that the spec reads what the probes stored,
/// which is what the kernel reads in physical memory.
///
/// A byte the shadow does not know (a frame may have been written over
/// it) is never guessed: the read is recorded in ``unknownRead`` and gives
/// zero, and whoever ran the step refuses it (the generator and
/// `Generator.admits` do not make such a step; the spec targets fail on
/// it). Give ``contents`` to the `ConcreteState` that runs the steps.
public final class ShadowMemory {
  /// The page contents the spec's state reads.
  public let contents = PageContents()
  /// What the probes stored, page by page.
  public var shadow = Shadow()
  /// The first byte read that the shadow does not know, since it was last
  /// cleared.
  public var unknownRead: (page: UInt64, offset: UInt64)?

  public init() {
    contents.byte = { [unowned self] page, offset in
      if let byte = shadow.byte(page, offset) { return UInt64(byte) }
      if unknownRead == nil { unknownRead = (page, offset) }
      return 0
    }
  }

  /// Runs `body` (a step on a state that reads ``contents``) and tells
  /// whether it read only bytes the shadow knows (``unknownRead`` is then
  /// nil).
  public func readingKnownBytes<R>(_ body: () throws -> R) rethrows -> (result: R, known: Bool) {
    unknownRead = nil
    let result = try body()
    return (result, unknownRead == nil)
  }

  /// The reason a spec target fails when step `step` read a byte the
  /// shadow does not know.
  func unknownReadReport(_ step: Transition, _ arguments: [UInt64]) -> String {
    let (page, offset) = unknownRead ?? (0, 0)
    return "\(step)(\(arguments.map(WordFormat.text).joined(separator: ", "))) read byte "
      + "\(offset) of page \(page), which the tester does not know (a frame may have been "
      + "written there since the probes last stored to it): the step is not one the "
      + "generator makes"
  }
}
