// The kernel's architecture layer: every privileged instruction the Swift
// code uses, as static inline functions, plus the layout of the register
// frame the assembly entry stubs build. Nothing here allocates or branches on
// policy; the Swift code above decides, these only execute.
#ifndef EXO_ARCH_H
#define EXO_ARCH_H

#include <stdint.h>

// The frame that kernel/arch/entry.S pushes on every trap, interrupt and
// system call, lowest address first. A system call builds the same frame
// (vector = EXO_VECTOR_SYSCALL, rip = rcx, rflags = r11), so one `iretq`
// path returns to user mode from all three. The general registers are in
// the order of ExoABI's `ExceptionFrame` (rax ... r15), so an exception
// frame takes them in one block copy.
struct trap_frame {
  uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
  uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
  uint64_t vector, error;
  uint64_t rip, cs, rflags, rsp, ss;
};
#define EXO_TRAP_FRAME_REGISTERS 15

#define EXO_VECTOR_SYSCALL 256

// What exo_syscall_in_place returns: the call's status and value, which
// the C convention puts in rax and rdx, where the caller expects them.
struct syscall_return {
  uint64_t status, value;
};

static inline void arch_outb(uint16_t port, uint8_t value) {
  __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

static inline uint8_t arch_inb(uint16_t port) {
  uint8_t value;
  __asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
  return value;
}

static inline uint64_t arch_rdmsr(uint32_t msr) {
  uint32_t lo, hi;
  __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return ((uint64_t)hi << 32) | lo;
}

static inline void arch_wrmsr(uint32_t msr, uint64_t value) {
  __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)));
}

static inline uint64_t arch_read_cr2(void) {
  uint64_t v;
  __asm__ volatile("mov %%cr2, %0" : "=r"(v));
  return v;
}

static inline uint64_t arch_read_cr3(void) {
  uint64_t v;
  __asm__ volatile("mov %%cr3, %0" : "=r"(v));
  return v;
}

static inline void arch_write_cr3(uint64_t v) {
  __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

// Loads and stores of words shared with the host (difftest rings).
static inline uint64_t arch_load_acquire(uint64_t address) {
  return __atomic_load_n((volatile uint64_t *)address, __ATOMIC_ACQUIRE);
}

static inline void arch_store_release(uint64_t address, uint64_t value) {
  __atomic_store_n((volatile uint64_t *)address, value, __ATOMIC_RELEASE);
}

static inline void arch_invlpg(uint64_t va) {
  __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

static inline uint64_t arch_rdtsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
}

static inline void arch_halt_with_interrupts(void) { __asm__ volatile("sti; hlt; cli" ::: "memory"); }

__attribute__((noreturn)) static inline void arch_halt_forever(void) {
  for (;;) __asm__ volatile("cli; hlt");
}

// Loads the GDTR, the IDTR and the task register from descriptors the
// Swift code has filled in.
static inline void arch_lgdt(void *_Nonnull base, uint16_t limit) {
  struct __attribute__((packed)) { uint16_t limit; uint64_t base; } d = {limit, (uint64_t)base};
  __asm__ volatile("lgdt %0" : : "m"(d));
}

static inline void arch_lidt(void *_Nonnull base, uint16_t limit) {
  struct __attribute__((packed)) { uint16_t limit; uint64_t base; } d = {limit, (uint64_t)base};
  __asm__ volatile("lidt %0" : : "m"(d));
}

static inline void arch_ltr(uint16_t selector) { __asm__ volatile("ltr %0" : : "r"(selector)); }

// 32-bit and 64-bit volatile memory access, for MMIO (the local APIC) and
// for tables that hardware reads.
static inline uint32_t arch_mmio_read32(uint64_t address) { return *(volatile uint32_t *)address; }
static inline void arch_mmio_write32(uint64_t address, uint32_t value) {
  *(volatile uint32_t *)address = value;
}
static inline uint16_t arch_mmio_read16(uint64_t address) { return *(volatile uint16_t *)address; }
static inline void arch_mmio_write16(uint64_t address, uint16_t value) {
  *(volatile uint16_t *)address = value;
}
// Orders the compiler's memory accesses around a device's shared rings (on
// x86 the CPU keeps stores in order and loads in order).
static inline void arch_compiler_barrier(void) { __asm__ volatile("" ::: "memory"); }

// The pointer for an address of the identity map (or of the current address
// space). Never null: address 0 is a valid physical address.
static inline void *_Nonnull arch_pointer(uint64_t address) { return (void *)address; }

// Zeroes `count` bytes at `p` (16-byte aligned) with 16-byte stores
// (entry.S); a tail below a multiple of 16 is left as it was.
void arch_zero(void *_Nonnull p, uint64_t count);

// Symbols of the kernel image and the assembly layer.
extern char __kernel_start[], __kernel_end[];
extern char exo_boot_stack_top[], exo_fault_stack_top[];
extern uint64_t exo_pml4[];
extern uint64_t exo_gdt[];
extern uint8_t exo_tss[];
extern uint8_t exo_idt[];
extern uint64_t exo_kernel_stack_top;
extern uint64_t exo_isr_table[];
extern void exo_syscall_entry(void);
// Bit n set: system call n takes entry.S's short path (exo_syscall_in_place).
extern uint64_t exo_syscall_in_place_calls;
extern uint64_t exo_syscall_retried_calls;
extern void exo_selftest_hook(void);
// Restores `frame` into the registers and returns to it with iretq.
extern void exo_return_to(struct trap_frame *_Nonnull frame) __attribute__((noreturn));

static inline uint64_t arch_kernel_start(void) { return (uint64_t)__kernel_start; }
static inline uint64_t arch_kernel_end(void) { return (uint64_t)__kernel_end; }
static inline uint64_t arch_boot_stack_top(void) { return (uint64_t)exo_boot_stack_top; }
static inline uint64_t arch_fault_stack_top(void) { return (uint64_t)exo_fault_stack_top; }
static inline uint64_t arch_kernel_pml4(void) { return (uint64_t)exo_pml4; }
static inline uint64_t arch_gdt(void) { return (uint64_t)exo_gdt; }
static inline uint64_t arch_tss(void) { return (uint64_t)exo_tss; }
static inline uint64_t arch_idt(void) { return (uint64_t)exo_idt; }
static inline uint64_t arch_isr_address(int vector) { return exo_isr_table[vector]; }
static inline uint64_t arch_syscall_entry(void) { return (uint64_t)&exo_syscall_entry; }

// Kernel-private state of each environment slot (kernel/arch/storage.c).
// Registers live here while the environment is not running.
struct env_private {
  struct trap_frame frame;   // the registers to resume
  struct trap_frame saved;   // registers interrupted by a control transfer
  uint8_t fx[512] __attribute__((aligned(16)));  // FPU/SSE state (fxsave)
  uint8_t saved_fx[512] __attribute__((aligned(16)));  // FPU/SSE state interrupted by a transfer
  uint64_t repossession_extent;  // repossession-vector entries from here on are 0
};
#define EXO_ENVIRONMENT_SLOTS 16
extern struct env_private exo_env_private[EXO_ENVIRONMENT_SLOTS];
static inline struct trap_frame *_Nonnull arch_env_frame(uint64_t i) {
  return &exo_env_private[i].frame;
}
static inline struct trap_frame *_Nonnull arch_env_saved(uint64_t i) {
  return &exo_env_private[i].saved;
}
static inline void *_Nonnull arch_env_fx(uint64_t i) { return exo_env_private[i].fx; }
static inline void *_Nonnull arch_env_saved_fx(uint64_t i) { return exo_env_private[i].saved_fx; }
static inline uint64_t *_Nonnull arch_env_repossession_extent(uint64_t i) {
  return &exo_env_private[i].repossession_extent;
}

// Frame copies and clears, a word per step. Struct assignments in Swift
// compile (at -Osize) to `rep movsb`/`rep stosb`, a byte per step: these
// are the hot paths' replacement.
static inline void arch_copy_frame(struct trap_frame *_Nonnull to,
                                   const struct trap_frame *_Nonnull from) {
  uint64_t words = sizeof(struct trap_frame) / 8;
  __asm__ volatile("rep movsq" : "+D"(to), "+S"(from), "+c"(words) : : "memory");
}
// Zeroes the general registers of `frame` (rax ... r15).
static inline void arch_clear_registers(struct trap_frame *_Nonnull frame) {
  uint64_t words = EXO_TRAP_FRAME_REGISTERS;
  __asm__ volatile("rep stosq" : "+D"(frame), "+c"(words) : "a"(0) : "memory");
}

// Writes an ExceptionFrame (ExoABI's `ExceptionFrame`, word by word:
// vector, error, address, rip, rsp, rflags, rax, rbx, rcx, rdx, rsi, rdi,
// rbp, r8 ... r15) of the registers `from` at `to`: six words, then the
// general registers in one block (trap_frame keeps them in this order).
// The kernel checks this order against ExoABI's at boot
// (`checkExceptionFrameLayout`).
static inline void arch_write_exception_frame(uint64_t *_Nonnull to,
                                              const struct trap_frame *_Nonnull from,
                                              uint64_t vector, uint64_t error, uint64_t address) {
  to[0] = vector;
  to[1] = error;
  to[2] = address;
  to[3] = from->rip;
  to[4] = from->rsp;
  to[5] = from->rflags;
  uint64_t *registers = to + 6;
  const uint64_t *source = &from->rax;
  uint64_t words = EXO_TRAP_FRAME_REGISTERS;
  __asm__ volatile("rep movsq" : "+D"(registers), "+S"(source), "+c"(words) : : "memory");
}

static inline void arch_fxsave(void *_Nonnull area) {
  __asm__ volatile("fxsave64 (%0)" : : "r"(area) : "memory");
}
static inline void arch_fxrstor(void *_Nonnull area) {
  __asm__ volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
}
// Resets the x87/SSE unit to its power-on state (MXCSR 0x1F80).
static inline void arch_fpu_reset(void) {
  uint32_t mxcsr = 0x1F80;
  __asm__ volatile("fninit; ldmxcsr %0" : : "m"(mxcsr));
}

// User programs linked into the kernel image (generated by `exo build`).
struct user_image {
  const char *_Nonnull name;
  const uint8_t *_Nonnull start;
  uint64_t size;
};
extern const struct user_image exo_user_images[];
extern const uint64_t exo_user_image_count;
static inline uint64_t arch_user_image_count(void) { return exo_user_image_count; }
static inline const struct user_image *_Nonnull arch_user_image(uint64_t i) {
  return &exo_user_images[i];
}

#endif
