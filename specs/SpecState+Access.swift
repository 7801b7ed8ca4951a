import ExoABI

/// Reads of single fields, total over any index: outside its table a field
/// reads as the empty record's (free environment, free page, empty
/// capability, empty binding, unowned slice), so a `none` index is safe.
extension SpecState {
  @inline(__always) var none: W { domain.word(ExoABI.none) }
  @inline(__always) var zero: W { domain.word(0) }
  @inline(__always) func word(_ value: UInt64) -> W { domain.word(value) }
  @inline(__always) func word(_ value: Int) -> W {
    domain.word(UInt64(truncatingIfNeeded: value))
  }
  @inline(__always) func word(_ value: EnvironmentState) -> W { domain.word(value.rawValue) }
  @inline(__always) func word(_ value: CapabilityKind) -> W { domain.word(value.rawValue) }
  @inline(__always) func word(_ value: Rights) -> W { domain.word(value.rawValue) }

  // MARK: Environments

  @inline(__always) func stateOf(_ e: W) -> W {
    domain.read(environments.state, e, default: zero)
  }
  @inline(__always) func parentOf(environment e: W) -> W {
    domain.read(environments.parent, e, default: none)
  }
  @inline(__always) func handlerOf(_ e: W) -> W {
    domain.read(environments.handler, e, default: zero)
  }
  @inline(__always) func handlerStackOf(_ e: W) -> W {
    domain.read(environments.handlerStack, e, default: zero)
  }
  @inline(__always) func callEntryOf(_ e: W) -> W {
    domain.read(environments.callEntry, e, default: zero)
  }
  @inline(__always) func callerOf(_ e: W) -> W {
    domain.read(environments.caller, e, default: none)
  }

  // MARK: Slices and pages

  @inline(__always) func sliceOwner(_ p: W) -> W { domain.read(slices, p, default: none) }

  /// The page table index of page number `page` (out of the table when the
  /// page is not one the kernel hands out).
  @inline(__always) func pageIndex(_ page: W) -> W { domain.sub(page, word(firstPage)) }
  /// The owner of page number `page`.
  @inline(__always) func ownerOf(page: W) -> W {
    domain.read(pages.owner, pageIndex(page), default: none)
  }
  @inline(__always) func mappingsOf(page: W) -> W {
    domain.read(pages.mappings, pageIndex(page), default: zero)
  }

  // MARK: Capabilities

  @inline(__always) func kindOf(_ k: W) -> W { domain.read(capabilities.kind, k, default: zero) }
  @inline(__always) func ownerOf(capability k: W) -> W {
    domain.read(capabilities.owner, k, default: none)
  }
  @inline(__always) func parentOf(capability k: W) -> W {
    domain.read(capabilities.parent, k, default: none)
  }
  @inline(__always) func depthOf(_ k: W) -> W { domain.read(capabilities.depth, k, default: zero) }
  @inline(__always) func rightsOf(capability k: W) -> W {
    domain.read(capabilities.rights, k, default: zero)
  }
  @inline(__always) func baseOf(_ k: W) -> W { domain.read(capabilities.base, k, default: zero) }
  @inline(__always) func countOf(_ k: W) -> W { domain.read(capabilities.count, k, default: zero) }
  @inline(__always) func childrenOf(_ k: W) -> W {
    domain.read(capabilities.children, k, default: zero)
  }
  @inline(__always) func bindingsOf(_ k: W) -> W {
    domain.read(capabilities.bindings, k, default: zero)
  }

  // MARK: Bindings

  /// The index in ``BindingTable`` of window slot `s` of environment `e`, or
  /// `none` when either is out of range.
  @inline(__always) func binding(_ e: W, _ s: W) -> W {
    let d = domain
    let valid = d.and(
      d.ult(e, word(bounds.environments)), d.ult(s, word(bounds.windowSlots)))
    return d.ite(valid, d.add(d.mul(e, UInt64(truncatingIfNeeded: bounds.windowSlots)), s), none)
  }
  @inline(__always) func pageOf(binding b: W) -> W {
    domain.read(bindings.page, b, default: none)
  }
  @inline(__always) func capabilityOf(binding b: W) -> W {
    domain.read(bindings.capability, b, default: none)
  }
  @inline(__always) func rightsOf(binding b: W) -> W {
    domain.read(bindings.rights, b, default: zero)
  }
}
