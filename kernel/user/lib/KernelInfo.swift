import ExoABI

/// The kernel's tables, read-only, as `InfoLayout` lays them out at
/// `UserLayout.infoBase`: what a libOS reads to learn which pages are free,
/// who holds which capability, and what it has mapped.
public enum KernelInfo {
  public static let layout = InfoLayout(bounds: .kernel)

  @inline(__always)
  static func word(_ offset: Int) -> UInt64 {
    UnsafePointer<UInt64>(bitPattern: UInt(UserLayout.infoBase) + UInt(offset))?.pointee ?? 0
  }

  public static subscript(header field: InfoHeader) -> UInt64 { word(layout.offset(field)) }
  public static subscript(environment e: UInt64, field: EnvironmentField) -> UInt64 {
    word(layout.offset(environment: Int(e), field))
  }
  public static subscript(slice p: UInt64) -> UInt64 { word(layout.offset(slice: Int(p))) }
  /// A field of the page with physical page number `page`.
  public static subscript(page page: UInt64, field: PageField) -> UInt64 {
    word(layout.offset(page: Int(page - firstPage), field))
  }
  public static subscript(capability c: UInt64, field: CapabilityField) -> UInt64 {
    word(layout.offset(capability: Int(c), field))
  }
  public static subscript(binding e: UInt64, slot s: UInt64, field: BindingField) -> UInt64 {
    word(layout.offset(binding: Int(e), slot: Int(s), field))
  }

  public static subscript(revocation e: UInt64, field: RevocationField) -> UInt64 {
    word(layout.offset(revocation: Int(e), field))
  }
  /// Entry `i` of environment `e`'s repossession vector.
  public static subscript(repossession e: UInt64, entry i: UInt64) -> UInt64 {
    word(layout.offset(repossession: Int(e), entry: Int(i)))
  }

  /// Field `field` of packet-filter slot `f`.
  public static subscript(filter f: UInt64, field: FilterField) -> UInt64 {
    word(layout.offset(filter: Int(f), field))
  }

  /// The environment running this code.
  public static var me: EnvironmentID { EnvironmentID(rawValue: UInt32(self[header: .current])) }
  /// Physical page number of the first page users can allocate.
  public static var firstPage: UInt64 { word(layout.offset(.firstPage)) }

  public static func state(_ e: UInt64) -> EnvironmentState {
    EnvironmentState(rawValue: self[environment: e, .state]) ?? .free
  }
}
