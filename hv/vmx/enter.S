/*
 * enter.S - the VMX world switch.
 *
 *   int vmx_enter(struct gprs *regs, int launched)
 *   vmx_exit_entry: where every VM exit continues (the VMCS HOST_RIP)
 *
 * VMLAUNCH / VMRESUME (SDM Vol. 3C 31.3 "VMX Instructions") load the guest's RIP, RSP, RFLAGS,
 * segment and control registers from the VMCS and run the guest.  Unlike
 * VMRUN they never return to the next instruction after success: a VM exit
 * loads the host state from the VMCS instead (28.5 "Loading Host State"), including RSP and RIP,
 * so the host continues at vmx_exit_entry with RSP = HOST_RSP.  We therefore
 * write HOST_RSP just before entering, so that the exit finds our stack
 * exactly as we left it.  Like SVM, the guest's general registers other than
 * RSP are not in the control structure: we load them before entering and
 * store them after the exit, and keep the host's callee-saved registers on
 * the stack.
 *
 * VMLAUNCH is for a VMCS in the "clear" launch state, VMRESUME for one
 * already launched (25.11.3 "Initializing a VMCS"); using the wrong one fails with VM-instruction
 * error 4 or 5.  A failing VMLAUNCH/VMRESUME falls through to the next
 * instruction with CF = 1 (VMfailInvalid) or ZF = 1 (VMfailValid, error
 * number in the VMCS) (31.2 "Conventions").
 *
 * Returns 0 after a VM exit, 1 for VMfailInvalid, 2 for VMfailValid.
 *
 * Beside hv/svm/enter.S: there is no VMLOAD/VMSAVE pair here, because a VM
 * entry and exit switch FS, GS, TR, LDTR and the SYSENTER MSRs through the
 * VMCS themselves (the syscall MSRs and KernelGSBase are simply not
 * switched, see vcpu.c); and no CLGI/STGI, because VMX has no global
 * interrupt flag: with hv's IF = 0 nothing interrupts the half-switched
 * state (an NMI could, but nothing sends hv one).  What VMX adds is the split into
 * two functions, one that enters and a label that exits.
 */
/* GPRS_* are the byte offsets of the fields of struct gprs, checked against
 * the C layout by static assertions in vcpu.h. */
#include "core/vcpu.h"

/* VMCS field encoding of HOST_RSP (Vol. 3D appendix B, defs.h). */
#define VMCS_HOST_RSP 0x6c14

/* With the fast loop (core/exitpath.h FAST_LOOP): one page of code per fast round trip. */
    .section .text.fastloop, "ax", @progbits
    .globl vmx_enter
    .type vmx_enter, @function
vmx_enter:
    /* On entry (System V ABI): RDI = regs, ESI = launched.  hv runs in
     * ring 0, 64-bit mode, with IF = 0, in VMX root operation (caps.c did
     * VMXON), and the guest's VMCS is current (vcpu.c did VMPTRLD).
     * The System V ABI callee-saved registers: the guest will clobber them. */
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    /* Keep regs for after the exit: it is the top of the stack there. */
    pushq %rdi

    /* HOST_RSP = this stack pointer (VMWRITE takes the encoding in a register).
     * It must be written on every entry, not once in vcpu.c: the caller's
     * stack depth can differ between calls, and the exit must come back to
     * exactly this frame.  RAX is free: the guest's RAX is loaded below. */
    movq $VMCS_HOST_RSP, %rax
    vmwrite %rsp, %rax
    /* Any VMWRITE failure here leaves the flags set; VMLAUNCH would then fail
     * the same way and report it. */

    /* Launched or not, decided now while we still have free registers:
     * ZF stays as TEST sets it through the MOVs below (MOV changes no flags). */
    testl %esi, %esi

    /* Load the guest's general registers (RSP comes from the VMCS),
     * RDI last because it points at them.  Unlike SVM, RAX is loaded here
     * too: the VMCS has no RAX field, while the VMCB has one. */
    movq GPRS_RAX(%rdi), %rax
    movq GPRS_RBX(%rdi), %rbx
    movq GPRS_RCX(%rdi), %rcx
    movq GPRS_RDX(%rdi), %rdx
    movq GPRS_RSI(%rdi), %rsi
    movq GPRS_RBP(%rdi), %rbp
    movq GPRS_R8(%rdi), %r8
    movq GPRS_R9(%rdi), %r9
    movq GPRS_R10(%rdi), %r10
    movq GPRS_R11(%rdi), %r11
    movq GPRS_R12(%rdi), %r12
    movq GPRS_R13(%rdi), %r13
    movq GPRS_R14(%rdi), %r14
    movq GPRS_R15(%rdi), %r15
    movq GPRS_RDI(%rdi), %rdi

    /* The world switch.  On success neither instruction "returns": the
     * guest runs, and its exit continues at vmx_exit_entry below. */
    jnz 1f
    vmlaunch
    /* Only reached if VMLAUNCH failed: skip the VMRESUME. */
    jmp 2f
1:  vmresume
2:
    /* Still here: the entry failed before loading any guest state.  Tell
     * VMfailInvalid (CF) from VMfailValid (ZF) before touching the flags. */
    /* MOV does not touch the flags, so CF is still VMLAUNCH's/VMRESUME's.
     * (RAX holds the guest's value, which exit.c never needs after a failed
     * entry: the guest did not run.) */
    movl $1, %eax
    jc 3f
    /* Not CF, so ZF: VMfailValid, the error number is in the VMCS. */
    movl $2, %eax
3:
    /* Drop regs and restore the host's callee-saved registers (the guest's
     * values were loaded into them). */
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    /* Back to enter_once() in exit.c with the failure kind in EAX. */
    ret
    /* The symbol size lets gdb and objdump show the whole function. */
    .size vmx_enter, . - vmx_enter

/*
 * A VM exit lands here with the host's RSP (our stack: [regs][r15]...), RIP,
 * segments and control registers loaded, RFLAGS = 2 (interrupts off), and
 * the guest's general registers other than RSP still in the registers.
 * The stack is exactly as vmx_enter left it when it wrote HOST_RSP, so this
 * code is, in effect, the second half of vmx_enter: it ends with vmx_enter's
 * epilogue and returns to vmx_enter's caller.  SVM needs no such label:
 * #VMEXIT continues at the instruction after VMRUN.
 */
    .globl vmx_exit_entry
    .type vmx_exit_entry, @function
vmx_exit_entry:
    /* Free RDI for the pointer: the guest's RDI goes on the stack. */
    pushq %rdi
    /* RDI = regs, pushed by vmx_enter just before it wrote HOST_RSP; the
     * stack is now [guest rdi][regs][host r15]... */
    movq 8(%rsp), %rdi
    /* Store all fifteen: unlike SVM's RAX, nothing but RSP is in the VMCS. */
    movq %rax, GPRS_RAX(%rdi)
    movq %rbx, GPRS_RBX(%rdi)
    movq %rcx, GPRS_RCX(%rdi)
    movq %rdx, GPRS_RDX(%rdi)
    movq %rsi, GPRS_RSI(%rdi)
    movq %rbp, GPRS_RBP(%rdi)
    movq %r8, GPRS_R8(%rdi)
    movq %r9, GPRS_R9(%rdi)
    movq %r10, GPRS_R10(%rdi)
    movq %r11, GPRS_R11(%rdi)
    movq %r12, GPRS_R12(%rdi)
    movq %r13, GPRS_R13(%rdi)
    movq %r14, GPRS_R14(%rdi)
    movq %r15, GPRS_R15(%rdi)
    /* The guest's RDI, parked on the stack above, into its slot. */
    popq %rax
    movq %rax, GPRS_RDI(%rdi)

    /* Back to vmx_enter's caller with 0: a VM exit. */
    xorl %eax, %eax
    /* Drop the regs pointer, then the callee-saved registers in reverse. */
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    /* This RET pops the return address vmx_enter's caller pushed. */
    ret
    .size vmx_exit_entry, . - vmx_exit_entry

    .section .note.GNU-stack, "", @progbits
