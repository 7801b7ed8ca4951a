// Linked instead of arch/selftest_none.S into the triple-fault test kernel:
// loads an empty IDT and raises an exception, which the CPU cannot deliver
// (#GP, then #DF, then a reset). With -no-reboot QEMU exits with status 0,
// which `exo boot` must report as a triple fault, not as success.
  .text
  .globl exo_selftest_hook
exo_selftest_hook:
  sub $16, %rsp
  movw $0, (%rsp)
  movq $0, 2(%rsp)
  lidt (%rsp)
  int3
  add $16, %rsp
  ret
