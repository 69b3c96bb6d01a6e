/*
 * cpustate.c - the guest's whole architectural state between the VMCB and
 * the core's vendor-neutral struct cpu_state (core/cpustate.h), for savevm
 * and loadvm (backend.get_state and backend.set_state).  hv/vmx/cpustate.c
 * is the same with VMREAD and VMWRITE.
 *
 * Almost all of it is in the VMCB's state save area (APM vol 2 appendix B
 * "Layout of VMCB", table B-2 "VMCB Layout, State Save Area"): the
 * segments with their hidden parts, the descriptor tables, the control and
 * debug registers DR6/DR7, and the MSRs VMLOAD and VMSAVE switch (STAR,
 * LSTAR, CSTAR, SFMASK, KernelGSbase, SYSENTER; enter.S VMSAVEs them after
 * every VMRUN, so the VMCB holds the guest's).  The interrupt shadow and
 * an event waiting for injection are in the control area.  The segment
 * attribute format of struct cpu_state is the VMCB's own, so segments copy
 * as they are.
 */
#include "core/cpu.h"
#include "core/cpustate.h"
#include "internal.h"

/* The VMCB's segments in struct cpu_state's order (enum cpu_seg). */
static struct vmcb_seg *segment(struct vmcb_save *s, unsigned i)
{
    struct vmcb_seg *segs[CPU_NSEGS] = {&s->es, &s->cs, &s->ss,   &s->ds,
                                        &s->fs, &s->gs, &s->ldtr, &s->tr};
    return segs[i];
}

/* backend.get_state: everything the VMCB holds of the guest. */
void svm_get_state(struct vcpu *vcpu, struct cpu_state *c)
{
    struct svm_vcpu *sv = vcpu->arch;
    struct vmcb_save *s = &sv->vmcb->save;
    c->regs.rsp = s->rsp;
    c->rip = s->rip;
    c->rflags = s->rflags;
    c->cr0 = s->cr0;
    c->cr2 = s->cr2;
    c->cr3 = s->cr3;
    c->cr4 = s->cr4;
    /* SVME is hv's, never the guest's (state.c). */
    c->efer = s->efer & ~EFER_SVME;
    for (unsigned i = 0; i < CPU_NSEGS; i++) {
        const struct vmcb_seg *g = segment(s, i);
        c->seg[i] = (struct cpu_segment){g->selector, g->attrib, g->limit, g->base};
    }
    c->gdtr = (struct cpu_table){s->gdtr.base, (uint16_t)s->gdtr.limit};
    c->idtr = (struct cpu_table){s->idtr.base, (uint16_t)s->idtr.limit};
    c->dr6 = s->dr6;
    c->dr7 = s->dr7;
    c->sysenter_cs = s->sysenter_cs;
    c->sysenter_esp = s->sysenter_esp;
    c->sysenter_eip = s->sysenter_eip;
    c->star = s->star;
    c->lstar = s->lstar;
    c->cstar = s->cstar;
    c->sfmask = s->sfmask;
    c->kernel_gs_base = s->kernel_gs_base;
    c->pat = s->g_pat;
    /* APM vol 2 15.21.5 "Interrupt Shadows". */
    c->int_shadow = (sv->vmcb->control.int_state & INT_STATE_SHADOW) ? 1 : 0;
    /* EVENTINJ's layout is struct cpu_state's (15.20 "Event Injection"). */
    c->pending_event =
        (sv->vmcb->control.eventinj & EVENTINJ_VALID) ? sv->vmcb->control.eventinj : 0;
}

/*
 * backend.set_state: the guest becomes `c`.  Every field VMRUN checks may
 * change, so the VMCB counts as edited (the entry-failure explainer then
 * compares against it, exit.c), and the guest's TLB is flushed as a change
 * of CR3 or paging mode would.  The CPL follows SS.DPL, as it does on a
 * real CPU in protected mode (APM vol 2 15.5.1 "Basic Operation" names
 * the CPL field).
 */
void svm_set_state(struct vcpu *vcpu, const struct cpu_state *c)
{
    struct svm_vcpu *sv = vcpu->arch;
    struct vmcb_save *s = &sv->vmcb->save;
    s->rsp = c->regs.rsp;
    s->rax = c->regs.rax;
    s->rip = c->rip;
    s->rflags = c->rflags;
    s->cr0 = c->cr0;
    s->cr2 = c->cr2;
    s->cr3 = c->cr3;
    s->cr4 = c->cr4;
    s->efer = c->efer | EFER_SVME;
    for (unsigned i = 0; i < CPU_NSEGS; i++) {
        struct vmcb_seg *g = segment(s, i);
        const struct cpu_segment *from = &c->seg[i];
        *g = (struct vmcb_seg){from->selector, from->attrib, from->limit, from->base};
    }
    s->cpl = (uint8_t)((c->seg[CPU_SS].attrib >> 5) & 3);
    s->gdtr.base = c->gdtr.base;
    s->gdtr.limit = c->gdtr.limit;
    s->idtr.base = c->idtr.base;
    s->idtr.limit = c->idtr.limit;
    s->dr6 = c->dr6;
    s->dr7 = c->dr7;
    s->sysenter_cs = c->sysenter_cs;
    s->sysenter_esp = c->sysenter_esp;
    s->sysenter_eip = c->sysenter_eip;
    s->star = c->star;
    s->lstar = c->lstar;
    s->cstar = c->cstar;
    s->sfmask = c->sfmask;
    s->kernel_gs_base = c->kernel_gs_base;
    s->g_pat = c->pat;
    sv->vmcb->control.int_state =
        (sv->vmcb->control.int_state & ~INT_STATE_SHADOW) | (c->int_shadow ? INT_STATE_SHADOW : 0);
    sv->vmcb->control.eventinj = c->pending_event;
    vcpu->event_pending = (c->pending_event & EVENTINJ_VALID) != 0;
    /* The NMI blocking, which the VMCB does not hold (nmi.c). */
    svm_nmi_restore(vcpu, c->nmi_blocked);
    /* The old address space's translations must go, as after a MOV to
     * CR3 (APM vol 2 15.16.1 "TLB Flush"). */
    sv->vmcb->control.tlb_control = TLB_CONTROL_FLUSH_ALL;
    sv->vmcb_edited = true;
}
