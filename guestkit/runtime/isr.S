/*
 * Interrupt and exception entry stubs (SDM vol. 3A, 6.12 "Exception and
 * Interrupt Handling" and 6.14 "Exception and Interrupt Handling in 64-bit
 * Mode").
 *
 * In 64-bit mode the CPU pushes SS, RSP, RFLAGS, CS and RIP, and for some
 * exceptions an error code (SDM vol. 3A, 6.13 "Error Code" and table 6-1
 * "Protected-Mode Exceptions and Interrupts": vectors 8,
 * 10-14, 17 and 21).  Each stub below makes the frame uniform: it pushes a
 * zero where the CPU pushed no error code, then its vector number, then jumps
 * to isr_common, which saves the general registers and calls
 * trap_dispatch(struct trap_frame *) in trap.c.  The layout must match
 * struct trap_frame in include/guestkit/trap.h.
 */

/* A stub for a vector without an error code. */
.macro STUB_NOERR vec
        .balign 16
isr_\vec:
        pushq   $0
        pushq   $\vec
        jmp     isr_common
.endm

/* A stub for a vector whose error code the CPU already pushed. */
.macro STUB_ERR vec
        .balign 16
isr_\vec:
        pushq   $\vec
        jmp     isr_common
.endm

        .text
        .code64
/* Exceptions 0..31; the error-code vectors are 8, 10-14, 17, 21, 29, 30
 * (29 and 30 are AMD's #VC and #SX, which also push one). */
STUB_NOERR 0
STUB_NOERR 1
STUB_NOERR 2
STUB_NOERR 3
STUB_NOERR 4
STUB_NOERR 5
STUB_NOERR 6
STUB_NOERR 7
STUB_ERR   8
STUB_NOERR 9
STUB_ERR   10
STUB_ERR   11
STUB_ERR   12
STUB_ERR   13
STUB_ERR   14
STUB_NOERR 15
STUB_NOERR 16
STUB_ERR   17
STUB_NOERR 18
STUB_NOERR 19
STUB_NOERR 20
STUB_ERR   21
STUB_NOERR 22
STUB_NOERR 23
STUB_NOERR 24
STUB_NOERR 25
STUB_NOERR 26
STUB_NOERR 27
STUB_NOERR 28
STUB_ERR   29
STUB_ERR   30
STUB_NOERR 31
/* The 16 PIC IRQs, remapped to vectors 32..47 by pic_init(). */
.irp vec, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
STUB_NOERR \vec
.endr

/* Vectors 48-255, for interrupts a local APIC delivers: the same stub 208
 * times, each in its own 16-byte slot (2 + 5 + 5 bytes of code), so that
 * vector v's stub is at isr_apic_stubs + 16 * (v - 48). */
        .balign 16
        .globl isr_apic_stubs
isr_apic_stubs:
        .set    vec, 48
.rept 208
        .balign 16
        pushq   $0
        pushq   $vec
        jmp     isr_common
        .set    vec, vec + 1
.endr

/*
 * Common path.  On entry the stack holds (lowest first): vector, error code,
 * RIP, CS, RFLAGS, RSP, SS.  The CPU aligned RSP to 16 bytes before pushing
 * (SDM vol. 3A, 6.14.2 "64-Bit Mode Stack Frame"), the 7 quadwords plus the 15
 * registers below make 22,
 * an even number, so RSP is 16-byte aligned again at the call as the System V
 * ABI requires.
 */
isr_common:
        pushq   %rax
        pushq   %rbx
        pushq   %rcx
        pushq   %rdx
        pushq   %rsi
        pushq   %rdi
        pushq   %rbp
        pushq   %r8
        pushq   %r9
        pushq   %r10
        pushq   %r11
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        /* The C handler gets the frame and may change it: catch_exception()
         * rewrites RIP, RSP and RAX to resume somewhere else. */
        movq    %rsp, %rdi
        /* C code expects the direction flag clear (System V ABI, 3.2.1). */
        cld
        call    trap_dispatch
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %r11
        popq    %r10
        popq    %r9
        popq    %r8
        popq    %rbp
        popq    %rdi
        popq    %rsi
        popq    %rdx
        popq    %rcx
        popq    %rbx
        popq    %rax
        /* Drop the vector and error code, then return to the interrupted code
         * (or wherever the handler redirected RIP and RSP). */
        addq    $16, %rsp
        iretq

/* The stub addresses, in vector order, for idt_init() in trap.c. */
        .section .rodata
        .balign 8
        .globl isr_stubs
isr_stubs:
.irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .quad   isr_\vec
.endr
.irp vec, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
        .quad   isr_\vec
.endr

/* No executable stack wanted (silences ld's warning). */
        .section .note.GNU-stack, "", @progbits
