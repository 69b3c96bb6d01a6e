/*
 * The way into ring 3 and the way back, for run_in_ring3() (user.c).
 *
 *   void gk_enter_ring3(void (*fn)(void *), void *arg, void *stack_top);
 *
 * IRETQ to a lower privilege level pops RIP, CS, RFLAGS, RSP and SS (SDM
 * vol 2A "IRET/IRETD/IRETQ"), so we build that frame with the user code
 * and data selectors (RPL 3) and let IRETQ drop us into
 * gk_ring3_trampoline on the user stack.  The trampoline calls fn(arg) in
 * ring 3 and then executes UD2 at gk_ring3_return: the #UD takes the CPU
 * back to ring 0 (on the TSS's RSP0 stack), where the catch_exception()
 * around the call sees the vector and this RIP and knows fn returned.
 * gk_enter_ring3 itself never returns.
 */
#include "guestkit/user.h"

        .text
        .code64
        .globl gk_enter_ring3
        .type gk_enter_ring3, @function
gk_enter_ring3:
        /* The IRETQ frame, pushed last-popped-first: SS, RSP, RFLAGS, CS,
         * RIP.  RFLAGS is ours as it is (IOPL 0, IF unchanged). */
        pushq   $GK_USER_DS
        pushq   %rdx
        pushfq
        pushq   $GK_USER_CS
        leaq    gk_ring3_trampoline(%rip), %rax
        pushq   %rax
        /* DS and ES are not reloaded: in 64-bit mode their base is ignored
         * and IRETQ clears them (their DPL 0 is below CPL 3). */
        iretq
        .size gk_enter_ring3, . - gk_enter_ring3

/* Ring 3 from here on.  RDI = fn, RSI = arg, RSP = the top of the user
 * stack (16-byte aligned, so the CALL leaves it as the ABI expects). */
        .type gk_ring3_trampoline, @function
gk_ring3_trampoline:
        movq    %rdi, %rax
        movq    %rsi, %rdi
        call    *%rax
        .globl gk_ring3_return
gk_ring3_return:
        /* Back to ring 0 through the #UD handler (see above). */
        ud2
        .size gk_ring3_trampoline, . - gk_ring3_trampoline

/* No executable stack wanted (silences ld's warning). */
        .section .note.GNU-stack, "", @progbits
