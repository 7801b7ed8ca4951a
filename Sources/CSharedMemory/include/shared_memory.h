// Words shared with a guest whose RAM the host maps (the differential
// tester's rings): loads with acquire and stores with release ordering, so
// that a counter is read before the bytes it covers and written after them.
#ifndef EXO_SHARED_MEMORY_H
#define EXO_SHARED_MEMORY_H

#include <stdint.h>

static inline uint64_t exo_load_acquire(const void *_Nonnull address) {
  return __atomic_load_n((const volatile uint64_t *)address, __ATOMIC_ACQUIRE);
}

static inline void exo_store_release(void *_Nonnull address, uint64_t value) {
  __atomic_store_n((volatile uint64_t *)address, value, __ATOMIC_RELEASE);
}

#endif
