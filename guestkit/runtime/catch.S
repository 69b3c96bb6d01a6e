/*
 * catch_exception()'s assembly half: call a function so that an exception
 * inside it can abandon the call and come back here.
 *
 *   int gk_call_catching(void (*fn)(void *), void *arg, struct gk_catch *c);
 *
 * It saves the callee-saved registers on the stack, records in *c the stack
 * pointer and the address of the label `resume`, marks c as the active catch
 * (gk_active_catch) and calls fn(arg).  If fn returns, the catch is disarmed
 * and the result is -1.  If fn raises an exception, trap_dispatch() (trap.c)
 * sees gk_active_catch, stores the details in *c and rewrites the trap frame
 * so that IRETQ lands on `resume` with RSP = c->rsp and RAX = the vector.
 * Either way the saved registers are popped and we return to the C caller.
 * It is setjmp/longjmp cut down to the one case we need.
 *
 * struct gk_catch layout (trap.c must agree): 0 rsp, 8 resume.
 */
        .text
        .code64
        .globl gk_call_catching
        .type gk_call_catching, @function
gk_call_catching:
        /* The System V ABI's callee-saved registers: fn may have changed
         * them when the exception hit, and our caller expects them intact. */
        pushq   %rbp
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        /* Entry RSP was 8 mod 16 (the return address); six pushes keep it so.
         * One more slot makes it 16-byte aligned for the call below. */
        subq    $8, %rsp
        /* Where trap_dispatch() should resume: this stack and `resume`. */
        movq    %rsp, 0(%rdx)
        leaq    resume(%rip), %rax
        movq    %rax, 8(%rdx)
        /* Arm the catch, then call fn(arg). */
        movq    %rdx, gk_active_catch(%rip)
        movq    %rdi, %rax
        movq    %rsi, %rdi
        call    *%rax
        /* fn returned normally: disarm and report "no exception". */
        movq    $0, gk_active_catch(%rip)
        movl    $-1, %eax
resume:
        /* Both paths meet here with the stack as it was before the call. */
        addq    $8, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        ret
        .size gk_call_catching, . - gk_call_catching

/* No executable stack wanted (silences ld's warning). */
        .section .note.GNU-stack, "", @progbits
