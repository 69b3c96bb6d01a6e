/*
 * fastloop.c - the exit fast path's loop for VT-x (core/fastpath.h): after
 * a VM exit, a CPUID or an IN/OUT to a port no device owns is answered
 * here and the guest entered again at once, for as long as the core allows
 * it; the first exit it does not take goes back to vmx_run() (exit.c)
 * exactly as if the loop were not there.
 *
 * hv/svm/fastloop.c is its mirror, function for function.  What is here is
 * only what differs between the vendors: the exit reasons (SDM vol 3D
 * appendix C "VMX Basic Exit Reasons"), the exit qualification of an I/O
 * instruction, and RIP, RFLAGS, the instruction's length and the interrupt
 * shadow, each a VMCS field read with VMREAD and written with VMWRITE.
 * Whether an exit may be taken, the answer and the counting are the
 * core's (fastpath.h's inline steps, fastpath_arm() before the entry).
 *
 * It is the reference host's loop (floor.c) with the core's policy added:
 * on Bochs, which interprets hv and empties its TLB at every world switch,
 * a round trip costs what its instructions and the pages they touch cost
 * (bench/hv/README.md).  So this loop reads nothing it does not need: not
 * the VMX vCPU (struct vmx_vcpu) while it takes exits, nor the
 * virtual-APIC page (fastpath_arm() says why the guest's TPR cannot
 * matter), nor the IDT-vectoring information: a CPUID or I/O instruction
 * exit never comes in the middle of delivering an event (SDM vol 3C
 * 28.2.4 "Information for VM Exits During Event Delivery" lists the exits
 * that can: an exception, an EPT violation or misconfiguration, a task
 * switch, an APIC access and the like, met while the CPU delivers one),
 * so an event injected at the entry has been delivered.  Its code is on
 * one page with enter.S (core/exitpath.h FAST_LOOP).
 */
#include "klib.h"

#include "core/cpu.h"
#include "core/exitpath.h"
#include "core/fastpath.h"
#include "internal.h"

/* Leave an I/O exit to vmx_run().  Its qualification, read here already,
 * is kept for it: exit.c exit_qualification() reads it at most once per
 * exit (each read a VMREAD; the SVM loop has nothing to keep, its
 * EXITINFO1 is memory). */
FAST_LOOP static bool leave_io(struct vmx_vcpu *vx, uint64_t q)
{
    vx->qual = q;
    vx->qual_read = true;
    return false;
}

/* Past the instruction, as the CPU would have gone on after it: RIP plus
 * the length the exit reports (SDM vol 3C 28.2.5 "Information for VM
 * Exits Due to Instruction Execution": the VM-exit instruction-length
 * field), and blocking by STI or by MOV SS ended, which lasts for one
 * instruction only (SDM vol 3C 25.4.2 "Guest Non-Register State", the
 * interruptibility state; the NMI and SMI blocking bits stay as they
 * are).  Written straight into the VMCS: struct vcpu's copies of RIP and
 * the shadow are out of date until vmx_run() copies them out again. */
FAST_LOOP static void skip(void)
{
    vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + vmread(VMCS_EXIT_INSN_LEN));
    /* Usually neither bit is set, and nothing is written. */
    uint64_t intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
    if (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
        vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
                intr & ~(uint64_t)(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
}

/* Neither TF nor RF in the guest's RFLAGS: those the full path's
 * advance() handles (fastpath_flags_plain()). */
FAST_LOOP static bool flags_plain(void)
{
    return fastpath_flags_plain(vmread(VMCS_GUEST_RFLAGS));
}

/* A CPUID exit: answered from the core's table (a leaf the full path has
 * answered before) if it has the leaf; true when done. */
FAST_LOOP static bool take_cpuid(struct vcpu *v)
{
    if (!fastpath_cpuid_find(v) || !flags_plain())
        return false;
    /* Applied to the registers and counted by the core. */
    fastpath_cpuid_apply(v);
    skip();
    return true;
}

/* An I/O instruction exit: taken if it is a plain IN or OUT (INS and OUTS
 * touch guest memory) to ports nobody owns; true when done.  The exit
 * qualification (28.2.1 "Basic VM-Exit Information", table 28-5 "Exit
 * Qualification for I/O Instructions"): the port in bits 31:16, IN in bit
 * 3, INS/OUTS in bit 4, the size minus one in bits 2:0. */
FAST_LOOP static bool take_io(struct vcpu *v, struct vmx_vcpu *vx)
{
    uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);
    if ((q & IOQ_STRING) || !fastpath_port_void(v, IOQ_PORT(q), IOQ_SIZE(q)) || !flags_plain())
        return leave_io(vx, q);
    /* An OUT is lost, an IN reads all ones; counted by the core. */
    fastpath_port_apply(v, q & IOQ_IN, IOQ_SIZE(q));
    skip();
    return true;
}

/* Take the exit with basic reason `reason` if the core allows it: true
 * when it has been handled and the guest may be entered again; false
 * leaves everything as the exit left it (the guest's general registers
 * are in struct vcpu, where enter.S stored them).  Only the two kinds,
 * and only while the core allows fast exits: the budget and the deadline
 * (fastpath_arm() decided the rest).  A failed entry has bit 31 set and
 * is neither kind. */
FAST_LOOP static bool take(struct vcpu *v, struct vmx_vcpu *vx, uint32_t reason)
{
    if (reason == VMX_EXIT_CPUID)
        return fastpath_allowed(v) && take_cpuid(v);
    if (reason == VMX_EXIT_IO)
        return fastpath_allowed(v) && take_io(v, vx);
    return false;
}

/* See internal.h: from vmx_run(), after a VM exit with *reason.  Returns 0
 * with *reason the first exit the loop did not take, or enter.S's
 * non-zero result when a VMRESUME failed (31.2 "Conventions"), which
 * vmx_run() reports. */
FAST_LOOP int vmx_fastloop(struct vcpu *v, struct vmx_vcpu *vx, uint32_t *reason)
{
    /* The reason in a register while the loop runs, stored when it ends. */
    uint32_t r = *reason;
    while (take(v, vx, r)) {
        /* A deadline: the preemption timer's value is the time left
         * (preempt.c), which VM entry loads again each time. */
        if (v->deadline != UINT64_MAX && vx->preempt)
            vmx_arm_preemption(vx);
        /* VMRESUME: the VMCS has been launched (vmx_run() did it). */
        int fail = vmx_enter(&v->regs, 1);
        if (fail != 0) {
            /* The loop took an exit first, so an event injected at the
             * entry before it has been delivered (see the top of the
             * file), and that exit cleared the entry's interruption
             * information (28.2 "Recording VM-Exit Information and
             * Updating VM-Entry Control Fields"): nothing is pending.
             * (When the loop returns 0, vmx_run() works that out itself
             * from the last exit.) */
            v->event_pending = 0;
            return fail;
        }
        /* The exit reason (28.2.1 "Basic VM-Exit Information"). */
        r = (uint32_t)vmread(VMCS_EXIT_REASON);
    }
    *reason = r;
    return 0;
}
