// User program entry: the kernel starts here with rsp = UserLayout.stackTop
// and rdi = the program argument (passed on to exo_user_start).
  .text
  .globl _start
_start:
  xor %ebp, %ebp
  and $-16, %rsp
  call exo_user_start
  ud2
