// Markers for `exo bench --profile`: three functions that only return,
// each at its own address. The bench program calls them outside every
// timed region; the profiler finds them by symbol in QEMU's execution
// trace and attributes what runs between `begin` and `end` to the
// workload that `next` closes (the order of the BENCH lines).

  .text
  .p2align 4
  .globl exo_profile_begin
exo_profile_begin:
  ret

  .p2align 4
  .globl exo_profile_end
exo_profile_end:
  ret

  .p2align 4
  .globl exo_profile_next
exo_profile_next:
  ret
