/*
 * state.c - the guest state between the VMCB and the core's struct vcpu,
 * group by group (core/vcpu.h "Lazy guest state"): svm_load_state() copies
 * the groups the core asks for out of the VMCB, svm_store_state() writes
 * the groups the core changed back into it before VMRUN.
 *
 * The VMCB is ordinary memory (APM vol 2 15.5.1 "Basic Operation": VMRUN
 * loads the guest state from it, #VMEXIT stores it back), so here each copy
 * is a plain load or store; hv/vmx/state.c is the same with VMREAD and
 * VMWRITE, where skipping a copy saves an instruction the CPU executes
 * with care.  Copying only what an exit needs keeps the two backends
 * alike and leaves the exit path touching as little memory as it can.
 */
#include "klib.h"

#include "core/cpu.h"
#include "internal.h"
#include "core/exitpath.h"

/* The save area the guest state is read from: after a failed VMRUN the
 * VMCB's own may hold a half-loaded state (QEMU writes its CPU state back
 * on VMEXIT_INVALID, docs/emulators.md), so the copy taken before the
 * attempt stands in for it (exit.c), when there is one. */
FAST_PATH const struct vmcb_save *svm_saved_state(const struct svm_vcpu *sv)
{
    return sv->entry_failed && sv->before_valid ? &sv->before->save : &sv->vmcb->save;
}

/* backend.load_state for SVM: the groups `what` from the VMCB's save area
 * (and, for the interrupt shadow, its control area) into vcpu. */
EXIT_PATH void svm_load_state(struct vcpu *vcpu, unsigned what)
{
    struct svm_vcpu *sv = vcpu->arch;
    const struct vmcb_save *s = svm_saved_state(sv);
    /* RSP is in the VMCB, not in enter.S's registers: VMRUN needs the
     * host's stack. */
    if (what & VCPU_RSP)
        vcpu->regs.rsp = s->rsp;
    if (what & VCPU_RFLAGS)
        vcpu->rflags = s->rflags;
    /* The guest writes CR2-CR4 without exits; the core reads them to walk
     * the guest's page tables (core/gva.c) and to check CR0/CR4 writes. */
    if (what & VCPU_CR) {
        vcpu->cr0 = s->cr0;
        vcpu->cr2 = s->cr2;
        vcpu->cr3 = s->cr3;
        vcpu->cr4 = s->cr4;
    }
    /* The guest may not change EFER without an exit, but the CPU sets LMA
     * itself when the guest turns paging on with LME (APM vol 2 14.6.2
     * "Consistency Checks"); SVME is hv's, never the guest's. */
    if (what & VCPU_EFER)
        vcpu->efer = s->efer & ~EFER_SVME;
    if (what & VCPU_SEGS) {
        /* The CPL, and CS.L and CS.D/B: the guest's operating mode. */
        vcpu->cpl = s->cpl;
        vcpu->cs_long = !!(s->cs.attrib & SEG_ATTR_L);
        vcpu->cs_db = !!(s->cs.attrib & SEG_ATTR_DB);
        /* The segment bases, for the MMIO emulator.  FS and GS are current
         * because enter.S VMSAVEs the guest's after VMRUN (15.5.2 "VMSAVE
         * and VMLOAD Instructions"). */
        const struct vmcb_seg *segs[6] = {&s->es, &s->cs, &s->ss, &s->ds, &s->fs, &s->gs};
        for (unsigned i = 0; i < 6; i++)
            vcpu->seg_base[i] = segs[i]->base;
    }
    /* What the #DF check in dispatch.c reads gate 8 from. */
    if (what & VCPU_IDTR) {
        vcpu->idtr_base = s->idtr.base;
        vcpu->idtr_limit = (uint16_t)s->idtr.limit;
    }
    /* Set when the guest exited right after STI or MOV SS: no interrupt
     * may be injected before the next instruction has run (15.21.5
     * "Interrupt Shadows"). */
    if (what & VCPU_INT_SHADOW)
        vcpu->int_shadow = (sv->vmcb->control.int_state & INT_STATE_SHADOW) ? 1 : 0;
    vcpu->loaded |= what;
}

/* The groups of guest state VMRUN does not check beyond what the CPU
 * itself saved at #VMEXIT: the ones every emulated instruction changes. */
#define STATE_UNCHECKED (VCPU_RIP | VCPU_RSP | VCPU_RFLAGS | VCPU_INT_SHADOW)

/* The other groups the core changed, which VMRUN checks (15.5.1 "Basic
 * Operation": CR0, CR4, EFER, ...), into the VMCB. */
static void store_checked(struct vcpu *vcpu, struct vmcb *v, unsigned dirty)
{
    /* The hardware EFER is the guest's plus SVME, without which VMRUN
     * fails; the guest never sees SVME (core/msr.c hides it). */
    if (dirty & VCPU_EFER)
        v->save.efer = vcpu->efer | EFER_SVME;
    /* CR0 and CR4, which the core changes when it emulates a write; a
     * change of paging mode or paging features needs the guest's TLB
     * flushed, as the real MOV to CR0 or CR4 would have done.  The core
     * never changes CR2 or CR3. */
    if (dirty & VCPU_CR) {
        if (v->save.cr4 != vcpu->cr4 || v->save.cr0 != vcpu->cr0)
            v->control.tlb_control = TLB_CONTROL_FLUSH_ALL;
        v->save.cr4 = vcpu->cr4;
        v->save.cr0 = vcpu->cr0;
    }
    /* The guest's PAT, as the core's MSR emulation last set it: with
     * nested paging, G_PAT is what the guest's own page tables index. */
    if (dirty & VCPU_PAT)
        v->save.g_pat = vcpu->pat;
    /* The guest's TSC offset (RDTSC, RDTSCP and RDMSR of the TSC add it),
     * as the core's WRMSR emulation of the TSC last set it. */
    if (dirty & VCPU_TSC_OFFSET)
        v->control.tsc_offset = vcpu->tsc_offset;
    /* The core never changes the segments or the IDTR: no VCPU_SEGS or
     * VCPU_IDTR to write. */
}

/* Before VMRUN: the groups the core changed since the last exit
 * (vcpu->dirty) into the VMCB, which VMRUN loads (15.5.1 "Basic
 * Operation"); every other field still holds what #VMEXIT saved. */
FAST_PATH void svm_store_state(struct vcpu *vcpu)
{
    struct svm_vcpu *sv = vcpu->arch;
    struct vmcb *v = sv->vmcb;
    unsigned dirty = vcpu->dirty;
    /* RAX is a general register the core keeps in struct vcpu, but VMRUN
     * takes the guest's from the VMCB (RAX holds the VMCB's address at
     * VMRUN): copied every time, like the registers enter.S loads. */
    v->save.rax = vcpu->regs.rax;
    if (dirty & VCPU_RIP)
        v->save.rip = vcpu->rip;
    if (dirty & VCPU_RSP)
        v->save.rsp = vcpu->regs.rsp;
    if (dirty & VCPU_RFLAGS)
        v->save.rflags = vcpu->rflags;
    /* The interrupt shadow: the core clears it when it skips an
     * instruction (15.21.5 "Interrupt Shadows"). */
    if (dirty & VCPU_INT_SHADOW)
        v->control.int_state =
            (v->control.int_state & ~INT_STATE_SHADOW) | (vcpu->int_shadow ? INT_STATE_SHADOW : 0);
    /* Anything else is something VMRUN checks: the copy for explaining a
     * failure is taken before the entry (exit.c, vmcb_edited). */
    if (dirty & ~STATE_UNCHECKED) {
        sv->vmcb_edited = true;
        store_checked(vcpu, v, dirty);
    }
    vcpu->dirty = 0;
}
