/*
 * fastloop.c - the exit fast path's loop for SVM (core/fastpath.h): after
 * a #VMEXIT, a CPUID or an IN/OUT to a port no device owns is answered
 * here and the guest entered again at once, for as long as the core allows
 * it; the first exit it does not take goes back to svm_run() (exit.c)
 * exactly as if the loop were not there.
 *
 * hv/vmx/fastloop.c is its mirror, function for function.  What is here is
 * only what differs between the vendors: the exit codes (APM vol 2
 * appendix C "SVM Intercept Exit Codes"), EXITINFO1 of an IOIO intercept,
 * and RAX, RIP, RFLAGS, the next instruction's address and the interrupt
 * shadow, each a field of the VMCB, plain memory.  Whether an exit may be
 * taken, the answer and the counting are the core's (fastpath.h's inline
 * steps, fastpath_arm() before the entry).
 *
 * It is the reference host's loop (floor.c) with the core's policy added:
 * on Bochs, which interprets hv and empties its TLB at every world switch,
 * a round trip costs what its instructions and the pages they touch cost
 * (bench/hv/README.md).  So this loop reads nothing it does not need: not
 * the SVM vCPU (struct svm_vcpu) while it takes exits, nor the guest's
 * V_TPR (fastpath_arm() says why the guest's TPR cannot matter), nor
 * EXITINTINFO: a CPUID or IOIO intercept never comes in the middle of
 * delivering an event (APM vol 2 15.7.2 "Intercepts During IDT Interrupt
 * Delivery": those are the exception, nested page fault and task-switch
 * intercepts met while the CPU delivers one), so an event injected at the
 * entry has been delivered.  Its code is on one page with enter.S
 * (core/exitpath.h FAST_LOOP).
 */
#include "klib.h"

#include "core/alloc.h"
#include "core/cpu.h"
#include "core/exitpath.h"
#include "core/fastpath.h"
#include "internal.h"

/* Past the instruction, as the CPU would have gone on after it: RIP moved
 * to the next instruction's address (EXITINFO2 for IOIO, APM vol 2 15.10.2
 * "IN and OUT Behavior"; NRIPS's next RIP, 15.7.1 "State Saved on Exit",
 * or CPUID's fixed length without it: svm_insn_length()), and the
 * interrupt shadow of an STI or MOV SS ended, which lasts for one
 * instruction only (15.21.5 "Interrupt Shadows").  Written straight into
 * the VMCB: struct vcpu's copies of RIP and the shadow are out of date
 * until svm_run() copies them out again. */
FAST_LOOP static void skip(struct vmcb *vmcb, uint32_t code, bool nrips)
{
    vmcb->save.rip += svm_insn_length(&vmcb->control, code, vmcb->save.rip, nrips);
    vmcb->control.int_state &= ~INT_STATE_SHADOW;
}

/* Neither TF nor RF in the guest's RFLAGS: those the full path's
 * advance() handles (fastpath_flags_plain()). */
FAST_LOOP static bool flags_plain(const struct vmcb *vmcb)
{
    return fastpath_flags_plain(vmcb->save.rflags);
}

/* A CPUID intercept: answered from the core's table (a leaf the full path
 * has answered before) if it has the leaf; true when done.  RAX is the
 * VMCB's (VMRUN loads it, #VMEXIT saves it): the core reads and writes
 * the guest's registers in struct vcpu. */
FAST_LOOP static bool take_cpuid(struct vcpu *v, struct vmcb *vmcb, bool nrips)
{
    v->regs.rax = vmcb->save.rax;
    if (!fastpath_cpuid_find(v) || !flags_plain(vmcb))
        return false;
    /* Applied to the registers and counted by the core. */
    fastpath_cpuid_apply(v);
    vmcb->save.rax = v->regs.rax;
    skip(vmcb, VMEXIT_CPUID, nrips);
    return true;
}

/* An IOIO intercept: taken if it is a plain IN or OUT (INS and OUTS touch
 * guest memory) to ports nobody owns; true when done.  EXITINFO1 (15.10.2
 * "IN and OUT Behavior", figure 15-2): the port in bits 31:16, IN in bit
 * 0, INS/OUTS in bit 2, the size one-hot in bits 6:4. */
FAST_LOOP static bool take_io(struct vcpu *v, struct vmcb *vmcb, bool nrips)
{
    uint64_t info1 = vmcb->control.exitinfo1;
    if ((info1 & IOIO_STR) || !fastpath_port_void(v, IOIO_PORT(info1), IOIO_SIZE(info1)) ||
        !flags_plain(vmcb))
        return false;
    /* An OUT is lost, an IN reads all ones into RAX; counted by the core. */
    v->regs.rax = vmcb->save.rax;
    fastpath_port_apply(v, info1 & IOIO_TYPE_IN, IOIO_SIZE(info1));
    vmcb->save.rax = v->regs.rax;
    skip(vmcb, VMEXIT_IOIO, nrips);
    return true;
}

/* Take the exit in the VMCB if the core allows it: true when it has been
 * handled and the guest may be entered again; false leaves everything as
 * the exit left it (the guest's general registers but RAX are in struct
 * vcpu, where enter.S stored them), for svm_run() to read again.  Only
 * the two kinds, and only while the core allows fast exits: the budget
 * and the deadline (fastpath_arm() decided the rest).  A failed VMRUN
 * (VMEXIT_INVALID) is neither kind. */
FAST_LOOP static bool take(struct vcpu *v, struct vmcb *vmcb, bool nrips)
{
    uint32_t code = (uint32_t)vmcb->control.exitcode;
    if (code == VMEXIT_CPUID)
        return fastpath_allowed(v) && take_cpuid(v, vmcb, nrips);
    if (code == VMEXIT_IOIO)
        return fastpath_allowed(v) && take_io(v, vmcb, nrips);
    return false;
}

/* See internal.h: from svm_run(), after a #VMEXIT.  Returns with the VMCB
 * holding the first exit the loop did not take, and sv's record of the
 * last VMRUN (exit.c enter_guest()) made true for the loop's own. */
FAST_LOOP void svm_fastloop(struct vcpu *v, struct svm_vcpu *sv)
{
    /* Read once: the loop touches neither sv nor svm_caps again. */
    struct vmcb *vmcb = sv->vmcb;
    uint64_t vmcb_pa = virt_to_phys(vmcb), host_pa = virt_to_phys(sv->host_save);
    bool nrips = svm_caps.nrips;
    /* The RIP of the loop's last VMRUN, if it made one. */
    bool entered = false;
    uint64_t rip = 0;
    while (take(v, vmcb, nrips)) {
        rip = vmcb->save.rip;
        entered = true;
        /* An event injected at the entry has been delivered (see the top
         * of the file): EVENTINJ must not inject it again.  #VMEXIT
         * clears the field (APM vol 3 "VMRUN", the steps of #VMEXIT);
         * svm_run() clears it too, and so does the loop, the same one
         * write. */
        vmcb->control.eventinj = 0;
        /* The world switch (enter.S), RAX and RIP from the VMCB. */
        svm_enter(vmcb_pa, &v->regs, host_pa);
        /* As after every VMRUN (enter_guest()): a flush asked for is done.
         * It is also the loop's first access to the VMCB after the switch,
         * and a write: Bochs then walks hv's page tables for the page once,
         * not once to read and again to write (bench/hv/README.md).  The
         * empty asm with a "memory" clobber keeps the compiler from moving
         * take()'s reads of the VMCB before this write. */
        vmcb->control.tlb_control = TLB_CONTROL_DO_NOTHING;
        __asm__ volatile("" ::: "memory");
    }
    if (!entered)
        return;
    /* The loop took an exit, so nothing injected is pending any more
     * (svm_run() works the rest out from the last exit, unless the last
     * VMRUN failed). */
    v->event_pending = 0;
    /* What enter_guest() records of a VMRUN, for svm_run() and the
     * explainer of a failed one: where it entered (QEMU corrupts the saved
     * RIP of a failed VMRUN, docs/emulators.md), that no copy of the VMCB
     * was made before it (nothing VMRUN checks was edited), and whether
     * it failed. */
    sv->rip_before = rip;
    sv->before_valid = false;
    sv->entry_failed = (uint32_t)vmcb->control.exitcode == VMEXIT_INVALID;
}
