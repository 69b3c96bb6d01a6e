/*
 * nmi.c - non-maskable interrupts for the guest.
 *
 * An NMI comes from outside the CPU's interrupt controllers' priorities:
 * RFLAGS.IF does not mask it, the TPR does not hold it back, and it wakes a
 * CPU halted with interrupts off (SDM vol 3A 6.7 "Nonmaskable Interrupt
 * (NMI)"; APM vol 2 8.2.3 "#NMI—Non-Maskable-Interrupt Exception (Vector
 * 2)").  What does mask it is the NMI itself: from its delivery until the
 * handler's next IRET the CPU blocks further NMIs, and holds one more that
 * arrives meanwhile until then (SDM vol 3A 6.7.1 "Handling Multiple
 * NMIs"), so a handler is never entered twice on its own stack.
 *
 * hv's guests get NMIs from the host only, the machine's NMI button
 * (QEMU's inject-nmi on the control channel, ctl_cmds.c).  On a PC the
 * button reaches each CPU through its local APIC's LINT1 pin, which the
 * firmware programs for NMI delivery (virtual-wire mode, lapic.c
 * lapic_firmware_setup()); QEMU's x86 machine delivers it there on every
 * CPU, and so does hv.  The core keeps each vCPU's latch (vcpu->nmi_pending)
 * and decides when to deliver; the backend knows how: the event it injects
 * (SVM EVENTINJ type 2, VMX VM-entry interruption type 2) and how it
 * learns that the guest's NMI blocking has ended (VMX: the CPU's virtual-NMI
 * blocking and NMI-window exiting; SVM: the IRET intercept and one step
 * past the IRET, as the VMCB has no field for the guest's NMI blocking).
 */
#include "klib.h"

#include "cpu.h"
#include "hv.h"
#include "log.h"
#include "nmi.h"

bool nmi_supported(const struct domain *d)
{
    return d->host->be->inject_nmi != NULL;
}

void nmi_raise(struct vcpu *v)
{
    /* The latch: one NMI waits, more are lost (6.7.1). */
    v->nmi_pending = true;
    /* The next look before an entry must not be skipped as idle (irq.c),
     * nor the exit fast path taken while it waits (fastpath.c). */
    v->irq_idle = false;
    /* An NMI ends HLT, with interrupts on (the vCPU waits for a timer,
     * run.c) or off (it waits for nothing but an NMI or an INIT, smp.c):
     * the handler then returns to the instruction after the HLT, where
     * dispatch.c left RIP. */
    v->blocked = false;
    if (v->mp_state == VCPU_MP_STOPPED)
        v->mp_state = VCPU_MP_RUNNING;
}

bool nmi_park(struct vcpu *v)
{
    struct domain *d = v->dom;
    if (!nmi_supported(d) || !d->host->reachable)
        return false;
    /* Stopped as core/smp.c stops a CPU halted with IF=0 among running
     * ones: not scheduled until nmi_raise() (or an INIT) moves it. */
    v->mp_state = VCPU_MP_STOPPED;
    if (d->host->opt.trace)
        hv_log("domain %u vCPU %u: halted with IF=0: stopped until an NMI", d->id, v->id);
    return true;
}

unsigned nmi_domain_button(struct domain *d)
{
    unsigned latched = 0;
    for (unsigned i = 0; i < d->nr_vcpus; i++) {
        struct vcpu *v = d->vcpu[i];
        /* A pulse on LINT1 does what its LVT entry says (SDM vol 3A
         * 11.5.1 "Local Vector Table"): an NMI, a fixed vector, or nothing
         * while the entry is masked (an AP that has not set up its APIC). */
        int mode = lapic_lint1_mode(&v->lapic);
        if (mode == APIC_DM_NMI) {
            nmi_raise(v);
            latched++;
        } else if (mode == APIC_DM_FIXED) {
            lapic_set_lint(&v->lapic, 1, true);
            v->irq_idle = false;
            v->blocked = false;
        }
    }
    return latched;
}

bool nmi_before_entry(struct vcpu *v)
{
    const struct backend *be = vcpu_backend(v);
    /* Until it is delivered, every entry looks again (see nmi_raise()). */
    v->irq_idle = false;
    vcpu_need(v, VCPU_RFLAGS | VCPU_INT_SHADOW);
    /* Deliverable at this instruction boundary: the injection slot free
     * (an exception or an interrupted delivery goes first, and the NMI
     * follows at the next boundary), no STI or MOV SS shadow (VT-x may
     * refuse an NMI injected in one, and Linux relies on an STI shadow
     * holding NMIs back too), and the last NMI's handler past its IRET. */
    if (!v->event_pending && !v->int_shadow && !be->nmi_blocked(v)) {
        be->inject_nmi(v);
        v->nmi_pending = false;
        if (v->nmi_window && be->nmi_window)
            be->nmi_window(v, false);
        v->nmi_window = false;
        if (v->dom->host->opt.trace)
            hv_log("inject: NMI at rip %#llx%s", (unsigned long long)v->rip,
                   (v->rflags & RFLAGS_IF) ? "" : " (IF=0)");
        return false;
    }
    /* An STI shadow: IF is 1 (STI set it), so the interrupt window opens
     * right after the next instruction. */
    if (v->int_shadow && (v->rflags & RFLAGS_IF) && !v->event_pending && !be->nmi_blocked(v))
        return true;
    /* Blocked by the last NMI (or a MOV SS shadow, an event in the slot):
     * the backend says when the blocking ends (backend.h nmi_window).
     * SVM reports the end of NMI blocking by itself and has no window for
     * the other two, rare, cases: there the NMI waits for the next exit. */
    if (!v->nmi_window && be->nmi_window) {
        be->nmi_window(v, true);
        v->nmi_window = true;
    }
    return false;
}
