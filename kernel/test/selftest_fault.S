// Linked instead of arch/selftest_none.S into the fault-test kernel image:
// the kernel writes to an unmapped address during boot, which must produce a
// panic report and the kernel-panic exit status, never a triple fault.
  .text
  .globl exo_selftest_hook
exo_selftest_hook:
  movabs $0xdeadbeef000, %rax
  movq $0x1, (%rax)
  ret
