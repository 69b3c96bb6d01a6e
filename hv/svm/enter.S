/*
 * enter.S - the SVM world switch.
 *
 *   void svm_enter(uint64_t vmcb_pa, struct gprs *regs, uint64_t host_save_pa)
 *
 * VMRUN (APM vol 2 15.5 "VMRUN Instruction") saves the host's RIP, RSP, RAX, RFLAGS, segment and
 * control registers into the host save area, loads the guest's from the
 * VMCB and runs the guest.  At #VMEXIT it stores the guest's state into the
 * VMCB and reloads the host's, continuing after VMRUN.  But only RAX, RSP,
 * RIP and RFLAGS of the general registers live in the VMCB: the other
 * fourteen keep whatever values they have, so we load the guest's before
 * VMRUN and store them after it, and keep the host's (the C callee-saved
 * ones) on the stack.
 *
 * VMRUN does not switch FS, GS, TR, LDTR, KernelGSBase, STAR/LSTAR/CSTAR/
 * SFMASK and the SYSENTER MSRs: VMLOAD and VMSAVE do (15.5.2), so we save
 * the host's with VMSAVE, VMLOAD the guest's before VMRUN, VMSAVE them after,
 * and VMLOAD the host's back.  All four instructions take a VMCB physical
 * address in RAX.
 *
 * CLGI/STGI (15.17 "Global Interrupt Flag, STGI and CLGI Instructions"):
 * the global interrupt flag must be 0 around the switch so that nothing
 * interrupts the half-switched state.  hv keeps it 0 all the time outside
 * VMRUN (preempt.c: svm_preempt_init() clears it once, and #VMEXIT clears
 * it again), so there is no STGI here: the time-slice watchdog's NMI,
 * should it come while hv runs, stays pending and ends the next VMRUN at
 * once (15.13.2 "NMI Intercept").  The CLGI below changes nothing then;
 * it keeps this function correct on its own.  hv's RFLAGS.IF stays 0 for
 * the guest's time too: with V_INTR_MASKING the host's IF at VMRUN
 * decides whether the outer machine's maskable interrupts are taken
 * while the guest runs (15.21.1 "Physical (INTR) Interrupt Masking in
 * EFLAGS"), and hv wants none (the guest's own IF still masks the
 * virtual interrupts hv gives it).
 */
/* GPRS_* are the byte offsets of the fields of struct gprs, checked against
 * the C layout by static assertions in vcpu.h. */
#include "core/vcpu.h"

/* With the fast loop (core/exitpath.h FAST_LOOP): one page of code per fast round trip. */
    .section .text.fastloop, "ax", @progbits
    .globl svm_enter
    .type svm_enter, @function
svm_enter:
    /* On entry (System V ABI): RDI = vmcb_pa, RSI = regs, RDX = host_save_pa.
     * hv runs with IF=0 in ring 0, in 64-bit mode, as VMRUN requires (it
     * raises #GP outside CPL 0 or with EFER.SVME clear).  The System V ABI
     * callee-saved registers: the guest will clobber them. */
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    /* Keep the arguments we need after VMRUN: regs, then the host area. */
    pushq %rsi
    pushq %rdx

    /* No interrupts, NMIs or SMIs from here until the host is whole again
     * (GIF is 0 already: see the top of this file). */
    clgi
    /* VMSAVE/VMLOAD read their operand from RAX (implicitly; the %rax written
     * here is only the assembler's syntax for it).  Save the host's hidden
     * state (FS, GS, TR, LDTR and the syscall MSRs). */
    movq %rdx, %rax
    vmsave %rax

    /* Load the guest's general registers (RAX and RSP come from the VMCB), RSI
     * last because it points at them.  VMRUN's operand: the guest VMCB's
     * physical address. */
    movq %rdi, %rax
    movq GPRS_RBX(%rsi), %rbx
    movq GPRS_RCX(%rsi), %rcx
    movq GPRS_RDX(%rsi), %rdx
    movq GPRS_RDI(%rsi), %rdi
    movq GPRS_RBP(%rsi), %rbp
    movq GPRS_R8(%rsi), %r8
    movq GPRS_R9(%rsi), %r9
    movq GPRS_R10(%rsi), %r10
    movq GPRS_R11(%rsi), %r11
    movq GPRS_R12(%rsi), %r12
    movq GPRS_R13(%rsi), %r13
    movq GPRS_R14(%rsi), %r14
    movq GPRS_R15(%rsi), %r15
    movq GPRS_RSI(%rsi), %rsi

    /* Guest hidden state in, run the guest, guest hidden state out.  After
     * #VMEXIT, RAX holds the VMCB address again (the host's RAX at VMRUN). */
    vmload %rax
    /* The world switch.  The guest runs until an intercepted event; then
     * #VMEXIT writes the guest state and exit code into the VMCB and the
     * CPU continues at the next instruction with the host's RSP, RAX and
     * RFLAGS back (15.6 "#VMEXIT").  Our stack is intact: the guest has its own RSP. */
    vmrun %rax
    /* The first instruction after #VMEXIT; boot/traps.S recognises a #DB
     * that Bochs delivers here (docs/emulators.md). */
    .globl svm_vmrun_done
svm_vmrun_done:
    /* Must come before the host's VMLOAD below, which would overwrite the
     * guest's FS/GS/TR/LDTR and syscall MSRs still live in the CPU. */
    vmsave %rax

    /* The guest's RSI goes on the stack to free a register for the pointer:
     * the stack is now [guest rsi][host area][regs]. */
    pushq %rsi
    /* RSI = regs again (pushed third from the top at the start). */
    movq 16(%rsp), %rsi
    movq %rbx, GPRS_RBX(%rsi)
    movq %rcx, GPRS_RCX(%rsi)
    movq %rdx, GPRS_RDX(%rsi)
    movq %rdi, GPRS_RDI(%rsi)
    movq %rbp, GPRS_RBP(%rsi)
    movq %r8, GPRS_R8(%rsi)
    movq %r9, GPRS_R9(%rsi)
    movq %r10, GPRS_R10(%rsi)
    movq %r11, GPRS_R11(%rsi)
    movq %r12, GPRS_R12(%rsi)
    movq %r13, GPRS_R13(%rsi)
    movq %r14, GPRS_R14(%rsi)
    movq %r15, GPRS_R15(%rsi)
    /* The guest's RSI, parked on the stack above, into its slot; RAX is
     * free: its guest value is in the VMCB, which exit.c reads. */
    popq %rax
    movq %rax, GPRS_RSI(%rsi)

    /* The host's hidden state back, then interrupts may be taken again.  Pop
     * host_save_pa (pushed from RDX) into RAX for VMLOAD. */
    popq %rax
    vmload %rax
    /* No STGI: #VMEXIT left GIF = 0, and hv keeps it so (preempt.c). */

    /* Drop the saved regs pointer (RSI is caller-saved, its value is not
     * needed), then restore the callee-saved registers in reverse order. */
    popq %rsi
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    /* Back to svm_run() in exit.c, which reads the exit from the VMCB. */
    ret
    /* The symbol size lets gdb and objdump show the whole function. */
    .size svm_enter, . - svm_enter

    .section .note.GNU-stack, "", @progbits
