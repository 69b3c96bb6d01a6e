/*
 * preempt.c - ending a guest's time on the CPU when the core's scheduler
 * says so (core/backend.h set_deadline), for VT-x.
 *
 * VT-x has a timer made for this, the VMX-preemption timer (SDM vol 3C
 * 26.5.1 "VMX-Preemption Timer"): with the pin-based control "activate
 * VMX-preemption timer" (25.6.1 "Pin-Based VM-Execution Controls"), VM
 * entry loads the value of the VMCS field of that name, the timer counts
 * it down while the guest runs, at the TSC's rate divided by 2^X, X being
 * bits 4:0 of IA32_VMX_MISC (A.6 "Miscellaneous Data"), and a VM exit with
 * reason 52 comes when it reaches zero; a value of 0 exits before the
 * guest runs an instruction.  It counts only in the guest, so hv writes
 * the time left until the deadline before every entry: the deadline is in
 * host time, and hv's own work between two entries counts against it too.
 * No interrupt is involved, so a guest spinning with interrupts off is
 * preempted as well (the SVM twin, svm/preempt.c, needs a host timer and
 * makes its interrupt an NMI for that; nothing of it is needed here).
 * Bochs implements the timer (docs/emulators.md).
 */
#include "klib.h"

#include "core/cpu.h"
#include "internal.h"
#include "core/exitpath.h"

/* See core/backend.h: remembered for the entries that follow. */
void vmx_set_deadline(struct vcpu *vcpu, uint64_t deadline)
{
    struct vmx_vcpu *vx = vcpu->arch;
    vx->deadline = deadline;
}

/* See internal.h: before each entry of a vCPU whose controls have the
 * timer. */
FAST_PATH void vmx_arm_preemption(struct vmx_vcpu *vx)
{
    /* No deadline: the field's largest value, which exits only after
     * 2^32 << X TSC ticks (seconds to hours), an exit the core takes as
     * nothing more than a look at the clock. */
    uint64_t value = 0xffffffffu;
    if (vx->deadline != UINT64_MAX) {
        /* The divider, 2^X (A.6: bits 4:0 of IA32_VMX_MISC). */
        unsigned shift = (unsigned)(vmx_caps.misc & 0x1f);
        uint64_t now = rdtsc();
        /* Past: 0, an exit before the first instruction.  Otherwise the
         * ticks left at the timer's rate, within the 32-bit field. */
        uint64_t left = vx->deadline > now ? (vx->deadline - now) >> shift : 0;
        value = left > 0xffffffffu ? 0xffffffffu : left;
    }
    /* VM exit leaves the field alone (hv does not ask for "save
     * VMX-preemption timer value", 25.7.1 "VM-Exit Controls"), and each
     * entry loads it again: without a deadline the value is the same at
     * every entry, and the VMWRITE is needed only once (nor is the clock
     * read then, nor vmx_caps: each is a page the exit would touch). */
    if (vx->preempt_written && vx->preempt_value == value)
        return;
    vmwrite(VMCS_PREEMPTION_TIMER, value);
    vx->preempt_value = value;
    vx->preempt_written = true;
}
