/*
 * cpustate.c - the guest's whole architectural state between the VMCS and
 * the core's vendor-neutral struct cpu_state (core/cpustate.h), for savevm
 * and loadvm (backend.get_state and backend.set_state); hv/svm/cpustate.c
 * is the same over the VMCB.
 *
 * The segments, descriptor tables, CR3, CR4, DR7 and the SYSENTER MSRs are
 * in the guest-state area (SDM vol 3C 25.4.1 "Guest Register State"); the
 * interrupt shadow and an event waiting for injection are fields of their
 * own (25.4.2 "Guest Non-Register State", 25.8.3 "VM-Entry Controls for
 * Event Injection").  What VT-x does not switch stays in the CPU while hv
 * runs, because hv never uses it: CR2, DR6, STAR, LSTAR, CSTAR, SFMASK and
 * KernelGSbase (vcpu.c lets the guest own those MSRs), so they are read
 * and written with the ordinary instructions; the core swaps them with
 * each vCPU's copy when it switches vCPUs (core/vcpustate.c, backend.h
 * `keeps`).
 *
 * struct cpu_state keeps segment attributes in the VMCB's 12-bit packing;
 * a VMCS access-rights field has the upper four bits at 15:12 and an
 * "unusable" bit 16 (25.4.1, table 25-2 "Format of Access Rights"),
 * which here is a segment whose P bit is 0.
 */
#include "core/cpu.h"
#include "core/cpustate.h"
#include "internal.h"

/* Access rights (VMCS) to attributes (struct cpu_state) and back. */
static uint16_t ar_to_attrib(uint32_t ar)
{
    uint16_t attrib = (uint16_t)((ar & 0xffu) | ((ar >> 4) & 0xf00u));
    return (ar & AR_UNUSABLE) ? (uint16_t)(attrib & ~CPU_ATTRIB_P) : attrib;
}

/*
 * A usable code or data segment also gets its accessed bit: the processor
 * sets it in the descriptor whenever it loads the segment (SDM vol 3A
 * 3.4.5.1 "Code- and Data-Segment Descriptor Types"), and VM entry
 * requires it in the access rights of CS, SS and every usable data
 * segment (SDM vol 3C 27.3.1.2 "Checks on Guest Segment Registers").  An
 * SVM VMCB keeps the attribute as the descriptor had it, possibly without
 * the bit, so a state saved under SVM needs it set here.
 */
static uint32_t attrib_to_ar(uint16_t attrib)
{
    uint32_t ar = (attrib & 0xffu) | ((uint32_t)(attrib & 0xf00u) << 4);
    if (!(attrib & CPU_ATTRIB_P))
        return ar | AR_UNUSABLE;
    return (ar & AR_S) ? ar | AR_TYPE_ACCESSED : ar;
}

/* DR6 and CR2 are not in the VMCS: they are read and written in the
 * processor (core/cpu.h read_dr6, write_cr2). */
/* The syscall MSRs the guest owns (vcpu.c's pass-through list). */
static const uint32_t guest_msrs[5] = {MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK,
                                       MSR_KERNEL_GS_BASE};

static uint64_t *msr_field(struct cpu_state *c, unsigned i)
{
    uint64_t *fields[5] = {&c->star, &c->lstar, &c->cstar, &c->sfmask, &c->kernel_gs_base};
    return fields[i];
}

/* backend.get_state: the fields struct vcpu does not hold (backend.h). */
void vmx_get_state(struct vcpu *vcpu, struct cpu_state *c)
{
    (void)vcpu;
    /* ES..TR: selector, base, limit and access-rights fields, each kind
     * two encodings apart (SDM vol 3D appendix B "Field Encoding in
     * VMCS"). */
    for (unsigned i = 0; i < CPU_NSEGS; i++) {
        c->seg[i].selector = (uint16_t)vmread(VMCS_GUEST_ES_SEL + 2u * i);
        c->seg[i].base = vmread(VMCS_GUEST_ES_BASE + 2u * i);
        c->seg[i].limit = (uint32_t)vmread(VMCS_GUEST_ES_LIMIT + 2u * i);
        c->seg[i].attrib = ar_to_attrib((uint32_t)vmread(VMCS_GUEST_ES_AR + 2u * i));
    }
    c->gdtr =
        (struct cpu_table){vmread(VMCS_GUEST_GDTR_BASE), (uint16_t)vmread(VMCS_GUEST_GDTR_LIMIT)};
    c->idtr =
        (struct cpu_table){vmread(VMCS_GUEST_IDTR_BASE), (uint16_t)vmread(VMCS_GUEST_IDTR_LIMIT)};
    c->dr6 = read_dr6();
    c->dr7 = vmread(VMCS_GUEST_DR7);
    c->sysenter_cs = vmread(VMCS_GUEST_SYSENTER_CS);
    c->sysenter_esp = vmread(VMCS_GUEST_SYSENTER_ESP);
    c->sysenter_eip = vmread(VMCS_GUEST_SYSENTER_EIP);
    for (unsigned i = 0; i < 5; i++)
        *msr_field(c, i) = rdmsr(guest_msrs[i]);
    /* The VM-entry interruption-information field has EVENTINJ's layout
     * in its low half; the error code is a field of its own. */
    uint64_t info = vmread(VMCS_ENTRY_INTR_INFO);
    c->pending_event =
        (info & INTR_INFO_VALID) ? info | vmread(VMCS_ENTRY_EXCEPTION_ERROR) << 32 : 0;
}

/* backend.set_state: those fields, and CR2, CR3 and CR4, into the VMCS
 * and the CPU; the core writes the rest through struct vcpu. */
void vmx_set_state(struct vcpu *vcpu, const struct cpu_state *c)
{
    struct vmx_vcpu *vx = vcpu->arch;
    for (unsigned i = 0; i < CPU_NSEGS; i++) {
        vmwrite(VMCS_GUEST_ES_SEL + 2u * i, c->seg[i].selector);
        vmwrite(VMCS_GUEST_ES_BASE + 2u * i, c->seg[i].base);
        vmwrite(VMCS_GUEST_ES_LIMIT + 2u * i, c->seg[i].limit);
        vmwrite(VMCS_GUEST_ES_AR + 2u * i, attrib_to_ar(c->seg[i].attrib));
    }
    vmwrite(VMCS_GUEST_GDTR_BASE, c->gdtr.base);
    vmwrite(VMCS_GUEST_GDTR_LIMIT, c->gdtr.limit);
    vmwrite(VMCS_GUEST_IDTR_BASE, c->idtr.base);
    vmwrite(VMCS_GUEST_IDTR_LIMIT, c->idtr.limit);
    write_cr2(c->cr2);
    vmwrite(VMCS_GUEST_CR3, c->cr3);
    /* CR4 as exit.c writes it on a guest's MOV: the guest reads its own
     * value from the shadow, the CPU runs with the fixed bits applied. */
    vx->cr4_shadow = c->cr4;
    vmwrite(VMCS_CR4_SHADOW, c->cr4);
    vmwrite(VMCS_GUEST_CR4, vmx_fixed_apply(c->cr4, vmx_caps.cr4_fixed0, vmx_caps.cr4_fixed1, 0));
    /* CR0 goes through the store path (state.c), which writes it only when
     * it differs from the shadow: made to differ, so that the PDPTEs of a
     * PAE guest are loaded from the new CR3 too. */
    vx->cr0_shadow = ~c->cr0;
    write_dr6(c->dr6);
    vmwrite(VMCS_GUEST_DR7, c->dr7);
    vmwrite(VMCS_GUEST_SYSENTER_CS, c->sysenter_cs);
    vmwrite(VMCS_GUEST_SYSENTER_ESP, c->sysenter_esp);
    vmwrite(VMCS_GUEST_SYSENTER_EIP, c->sysenter_eip);
    for (unsigned i = 0; i < 5; i++)
        wrmsr(guest_msrs[i], *msr_field((struct cpu_state *)c, i));
    /* The shadow and the NMI blocking (SDM vol 3C 25.4.2 "Guest
     * Non-Register State", table 25-3 "Format of Interruptibility State"),
     * with the SMI blocking bit the VMCS had. */
    uint64_t intr =
        vmread(VMCS_GUEST_INTERRUPTIBILITY) &
        ~(uint64_t)(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS | INTERRUPTIBILITY_NMI);
    if (c->int_shadow)
        intr |= INTERRUPTIBILITY_STI;
    if (c->nmi_blocked)
        intr |= INTERRUPTIBILITY_NMI;
    vmwrite(VMCS_GUEST_INTERRUPTIBILITY, intr);
    vx->held.intr = intr;
    vmwrite(VMCS_ENTRY_INTR_INFO, (uint32_t)c->pending_event);
    vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, c->pending_event >> 32);
    vcpu->event_pending = (c->pending_event & INTR_INFO_VALID) != 0;
    /* Every field the store path caches is written again from struct
     * vcpu at the next entry (the core marks them changed). */
    vx->held_valid = false;
}
