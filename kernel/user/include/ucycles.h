// The time-stamp counter for user programs. Under QEMU's -icount shift=0
// it counts guest instructions exactly, which is what `exo bench` measures.
#ifndef EXO_UCYCLES_H
#define EXO_UCYCLES_H

#include <stdint.h>

// The "memory" clobber keeps the compiler from moving memory accesses
// across the read.
static inline uint64_t exo_rdtsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)::"memory");
  return ((uint64_t)hi << 32) | lo;
}

// An invalid opcode (two bytes): the exception benchmark's handler skips it.
static inline void exo_ud2(void) { __asm__ volatile("ud2" ::: "memory"); }

#endif
