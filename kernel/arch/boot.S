// PVH entry: QEMU loads this ELF64 image, finds the Xen PHYS32_ENTRY note and
// jumps to exo_pvh_start in 32-bit protected mode with paging off and
// %ebx = physical address of the hvm_start_info structure.
//
// This stub does the minimum that Swift cannot: it zeroes .bss, identity-maps
// the first 4 GiB with 2 MiB supervisor-only pages, enables PAE, long mode,
// NX, SYSCALL and FXSR (for user SSE; the kernel itself is built without
// SSE), loads the GDT and calls exo_kmain(start_info) on the boot stack.

#define CR0_PE (1 << 0)
#define CR0_MP (1 << 1)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define CR4_OSFXSR (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define MSR_EFER 0xC0000080
#define EFER_SCE (1 << 0)
#define EFER_LME (1 << 8)
#define EFER_NXE (1 << 11)

  .section .note.Xen, "a", @note
  .p2align 2
  .long 4              // namesz
  .long 8              // descsz
  .long 18             // XEN_ELFNOTE_PHYS32_ENTRY
  .asciz "Xen"
  .p2align 2
  .quad exo_pvh_start

  .section .text.boot, "ax", @progbits
  .code32
  .globl exo_pvh_start
exo_pvh_start:
  cli
  cld
  mov %ebx, %esi                    // keep the start-info pointer

  // Zero .bss (page tables and stacks live there), four bytes per step,
  // then the remaining bytes.
  mov $__bss_start, %edi
  mov $__bss_end, %ecx
  sub %edi, %ecx
  mov %ecx, %edx
  shr $2, %ecx
  xor %eax, %eax
  rep stosl
  mov %edx, %ecx
  and $3, %ecx
  rep stosb

  // PML4[0] -> PDPT, PDPT[0..3] -> PD[0..3], PD entries map 2 MiB each.
  mov $exo_pdpt, %eax
  or $0x3, %eax                     // present | writable
  mov %eax, exo_pml4
  mov $exo_pd, %eax
  or $0x3, %eax
  mov %eax, exo_pdpt
  add $0x1000, %eax
  mov %eax, exo_pdpt + 8
  add $0x1000, %eax
  mov %eax, exo_pdpt + 16
  add $0x1000, %eax
  mov %eax, exo_pdpt + 24
  mov $exo_pd, %edi
  mov $0x83, %eax                   // present | writable | 2 MiB page
  xor %edx, %edx                    // high half of the entry: physical bits 32+
  mov $2048, %ecx
1:
  mov %eax, (%edi)
  mov %edx, 4(%edi)
  add $0x200000, %eax
  adc $0, %edx
  add $8, %edi
  loop 1b

  mov %cr4, %eax
  or $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
  mov %eax, %cr4
  mov $exo_pml4, %eax
  mov %eax, %cr3
  mov $MSR_EFER, %ecx
  rdmsr
  or $(EFER_SCE | EFER_LME | EFER_NXE), %eax
  wrmsr
  mov %cr0, %eax
  and $~(1 << 2), %eax              // clear EM: x87/SSE instructions allowed
  or $(CR0_PE | CR0_MP | CR0_WP | CR0_PG), %eax
  mov %eax, %cr0

  lgdt exo_gdt_pointer
  ljmp $0x08, $1f

  .code64
1:
  mov $0x10, %ax
  mov %ax, %ds
  mov %ax, %es
  mov %ax, %ss
  xor %eax, %eax
  mov %ax, %fs
  mov %ax, %gs
  mov $exo_boot_stack_top, %rsp
  xor %ebp, %ebp
  mov %esi, %edi                    // zero-extends the start-info pointer
  call exo_kmain
2:
  cli
  hlt
  jmp 2b

  .section .data
  .p2align 4
  // Selectors: 0x08 kernel code, 0x10 kernel data, 0x18 user data,
  // 0x20 user code (the order SYSCALL/SYSRET expects), 0x28 the TSS
  // (two entries, filled in by Gdt.swift).
  .globl exo_gdt
exo_gdt:
  .quad 0
  .quad 0x00AF9A000000FFFF          // kernel code: present, DPL 0, long mode
  .quad 0x00CF92000000FFFF          // kernel data
  .quad 0x00CFF2000000FFFF          // user data: DPL 3
  .quad 0x00AFFA000000FFFF          // user code: DPL 3, long mode
  .quad 0, 0                        // TSS descriptor
exo_gdt_end:
exo_gdt_pointer:
  .word exo_gdt_end - exo_gdt - 1
  .quad exo_gdt

  .section .bss
  .p2align 12
  .globl exo_pml4
exo_pml4: .skip 4096
exo_pdpt: .skip 4096
exo_pd: .skip 4096 * 4
  .globl exo_tss
exo_tss: .skip 104
  .p2align 4
  .globl exo_idt
exo_idt: .skip 4096
  .p2align 12
  .skip 65536
  .globl exo_boot_stack_top
exo_boot_stack_top:
  .skip 16384
  .globl exo_fault_stack_top
exo_fault_stack_top:
