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

// A synchronous protected control transfer: the argument registers as for
// exo_syscall6 (what each carries is ExoABI's CallArguments); the reply
// arrives in rdx (m0), rsi (m1), r10 (m2), r8 (m3).
struct exo_call_result {
  uint64_t status, m0, m1, m2, m3;
};

static inline struct exo_call_result exo_call(uint64_t number, uint64_t a0, uint64_t a1,
                                              uint64_t a2, uint64_t a3, uint64_t a4) {
  register uint64_t r10 __asm__("r10") = a3;
  register uint64_t r8 __asm__("r8") = a4;
  register uint64_t r9 __asm__("r9") = 0;
  uint64_t status, rdx = a2, rsi = a1, rdi = a0;
  __asm__ volatile("syscall"
                   : "=a"(status), "+d"(rdx), "+S"(rsi), "+D"(rdi), "+r"(r10), "+r"(r8), "+r"(r9)
                   : "a"(number)
                   : "rcx", "r11", "memory");
  struct exo_call_result r = {status, rdx, rsi, r10, r8};
  return r;
}

// Entry points in upcall.S, registered with environmentSetEntries.
extern void exo_exception_entry(void);
extern void exo_call_entry(void);
static inline uint64_t exo_exception_entry_address(void) { return (uint64_t)&exo_exception_entry; }
static inline uint64_t exo_call_entry_address(void) { return (uint64_t)&exo_call_entry; }

// The program's entry (crt0.S): where a new environment starts.
extern void _start(void);
static inline uint64_t exo_program_entry_address(void) { return (uint64_t)&_start; }

// User-level threads (context.S): a new thread's stack below top, prepared
// so that switching to the returned stack pointer runs exo_thread_main(id).
extern void exo_context_switch(uint64_t *save, uint64_t next);
extern void exo_context_start(void);
static inline uint64_t exo_context_prepare(uint64_t top, uint64_t id) {
  uint64_t *sp = (uint64_t *)(top & ~(uint64_t)15);
  *--sp = 0;  // keeps the start's stack aligned like a call's
  *--sp = (uint64_t)&exo_context_start;
  *--sp = 0;   // rbp
  *--sp = 0;   // rbx
  *--sp = id;  // r12
  *--sp = 0;   // r13
  *--sp = 0;   // r14
  *--sp = 0;   // r15
  return (uint64_t)sp;
}

#endif
