// The one place user code executes `syscall`. The call number and meaning of
// each argument come from ExoABI's Syscall; this only moves registers.
#ifndef EXO_USYSCALL_H
#define EXO_USYSCALL_H

#include <stdint.h>

struct exo_syscall_result {
  uint64_t status;
  uint64_t value;
};

static inline struct exo_syscall_result exo_syscall6(uint64_t number, uint64_t a0, uint64_t a1,
                                                     uint64_t a2, uint64_t a3, uint64_t a4,
                                                     uint64_t a5) {
  register uint64_t r10 __asm__("r10") = a3;
  register uint64_t r8 __asm__("r8") = a4;
  register uint64_t r9 __asm__("r9") = a5;
  uint64_t status, value;
  __asm__ volatile("syscall"
                   : "=a"(status), "=d"(value)
                   : "a"(number), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  struct exo_syscall_result r = {status, value};
  return r;
}

#endif
