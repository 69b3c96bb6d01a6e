/*
 * state.c - the guest state between the VMCS and the core's struct vcpu,
 * group by group (core/vcpu.h "Lazy guest state"): vmx_load_state() reads
 * the groups the core asks for out of the VMCS, vmx_store_state() writes
 * the groups the core changed back into it before VM entry.
 *
 * The shape is hv/svm/state.c's; what differs is the price.  The VMCS's
 * layout is the CPU's secret, so every field is a VMREAD or a VMWRITE
 * (SDM vol 3C 25.11.2 "VMREAD, VMWRITE, and Encodings of VMCS Fields"), an
 * instruction the CPU carries out with checks, and nested an instruction
 * the emulator interprets.  A CPUID exit needs RIP, RFLAGS and the
 * interrupt shadow besides the registers enter.S stores; copying the whole
 * guest state each way would cost about thirty VMREADs and ten VMWRITEs.
 *
 * Two kinds of bookkeeping, both written out below:
 *  - vcpu->loaded / vcpu->dirty (the core's): which groups struct vcpu
 *    holds, and which the core changed;
 *  - vx->held (this backend's): the value a few VMCS fields hold, as last
 *    read or written here, so that a group the core marked dirty but left
 *    as it was (advance() marks RFLAGS and the interrupt shadow and
 *    usually changes neither) costs no VMWRITE either.
 */
#include "klib.h"

#include "core/cpu.h"
#include "core/gmem.h"
#include "internal.h"
#include "core/exitpath.h"

/* backend.load_state for VT-x: the groups `what` from the VMCS into vcpu
 * (the values VM exit saved, 28.3 "Saving Guest State"). */
EXIT_PATH void vmx_load_state(struct vcpu *vcpu, unsigned what)
{
    struct vmx_vcpu *vx = vcpu->arch;
    /* RSP and RFLAGS live in the VMCS; the other GPRs were stored by
     * enter.S straight into vcpu->regs. */
    if (what & VCPU_RSP)
        vcpu->regs.rsp = vx->held.rsp = vmread(VMCS_GUEST_RSP);
    if (what & VCPU_RFLAGS)
        vcpu->rflags = vx->held.rflags = vmread(VMCS_GUEST_RFLAGS);
    if (what & VCPU_CR) {
        /* CR0 as the guest sees it is the read shadow (hv owns every bit,
         * so it never changes without an exit); CR4: the guest's own bits
         * from the register, hv's from the shadow. */
        vcpu->cr0 = vx->cr0_shadow;
        uint64_t cr4 = vmread(VMCS_GUEST_CR4);
        vcpu->cr4 = (cr4 & ~vx->cr4_mask) | (vx->cr4_shadow & vx->cr4_mask);
        /* CR3 is the guest's own: with EPT, MOV to CR3 need not exit. */
        vcpu->cr3 = vmread(VMCS_GUEST_CR3);
        /* CR2 is not in the VMCS: VMX leaves it alone, so the register
         * still holds the guest's value (hv itself takes no page faults). */
        vcpu->cr2 = read_cr2();
    }
    /* The guest's EFER (saved by "save IA32_EFER", 28.3.1 "Saving Control
     * Registers, Debug Registers, and MSRs"). */
    if (what & VCPU_EFER)
        vcpu->efer = vx->held.efer = vmread(VMCS_GUEST_EFER);
    if (what & VCPU_SEGS) {
        /* The code and stack segments' access rights tell the mode and
         * ring; SVM's VMCB has the same in its CS attribute word and its
         * CPL byte. */
        uint32_t cs_ar = (uint32_t)vmread(VMCS_GUEST_ES_AR + 2u * SEG_CS);
        uint32_t ss_ar = (uint32_t)vmread(VMCS_GUEST_ES_AR + 2u * SEG_SS);
        /* The CPL is SS.DPL (25.4.1 "Guest Register State"). */
        vcpu->cpl = (uint8_t)AR_DPL(ss_ar);
        /* CS.L: 64-bit code; CS.D/B: 32-bit default operand and address
         * size. */
        vcpu->cs_long = !!(cs_ar & AR_L);
        vcpu->cs_db = !!(cs_ar & AR_DB);
        /* The segment bases, for the MMIO emulator: ES..GS are
         * SEG_ES..SEG_GS, their base fields two encodings apart (SDM vol
         * 3C appendix B.4.3 "Natural-Width Guest-State Fields"). */
        for (unsigned i = SEG_ES; i <= SEG_GS; i++)
            vcpu->seg_base[i] = vmread(VMCS_GUEST_ES_BASE + 2u * i);
    }
    if (what & VCPU_IDTR) {
        vcpu->idtr_base = vmread(VMCS_GUEST_IDTR_BASE);
        vcpu->idtr_limit = (uint16_t)vmread(VMCS_GUEST_IDTR_LIMIT);
    }
    /* Blocking by STI or MOV SS: the one-instruction interrupt shadow
     * (25.4.2 "Guest Non-Register State").  The other bits (NMI and SMI
     * blocking) are kept in held.intr for the write-back. */
    if (what & VCPU_INT_SHADOW) {
        vx->held.intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
        vcpu->int_shadow = (vx->held.intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)) != 0;
    }
    vcpu->loaded |= what;
}

/* VMWRITE `value` to `field` unless the VMCS holds it already (*held, kept
 * by vmx_load_state() and by this function).  The first entry writes
 * everything: the copy is not complete before it (held_valid). */
FAST_PATH static void write_changed(const struct vmx_vcpu *vx, uint32_t field, uint64_t *held,
                                    uint64_t value)
{
    if (vx->held_valid && *held == value)
        return;
    vmwrite(field, value);
    *held = value;
}

/*
 * The guest's CR0 for the next entry: the core's (it may have emulated a
 * write) in the read shadow, and with VMX's fixed bits in the register
 * (PE and PG are free under "unrestricted guest").  If that turned on PAE
 * paging outside long mode, VM entry loads the four PDPTEs from the VMCS
 * (27.3.2.4 "Loading Page-Directory-Pointer-Table Entries") rather than
 * from memory, as MOV to CR0 itself would have: fetch them from the
 * guest's CR3 (SDM Vol. 3A 4.4.1 "PDPTE Registers").
 */
static void store_cr0(struct vcpu *vcpu, struct vmx_vcpu *vx)
{
    /* Nothing changed since the last entry: the VMCS is up to date. */
    if (vcpu->cr0 == vx->cr0_shadow)
        return;
    /* What the guest reads back with MOV from CR0 (every bit is masked).
     * The real CR0 differs at least in NE, which VMX forces to 1 even when
     * the guest wants the old external x87 error reporting. */
    vx->cr0_shadow = vcpu->cr0;
    vmwrite(VMCS_CR0_SHADOW, vcpu->cr0);
    /* What the processor really runs the guest with. */
    vmwrite(VMCS_GUEST_CR0,
            vmx_fixed_apply(vcpu->cr0, vmx_caps.cr0_fixed0, vmx_caps.cr0_fixed1, CR0_PE | CR0_PG));
    /* PAE paging without long mode is the only mode with PDPTE registers;
     * in long mode the CPU walks from CR3 itself. */
    if ((vcpu->cr0 & CR0_PG) && (vcpu->cr4 & CR4_PAE) && !(vcpu->efer & EFER_LMA)) {
        /* CR3 bits 31:5 locate the 32-byte table of four PDPTEs; outside
         * guest RAM the entries read as not present. */
        const uint64_t *pdpte = gmem_ptr(&vcpu->dom->mem, vcpu->cr3 & 0xffffffe0u, 32);
        /* PDPTE fields are 64 bits wide, so their encodings step by 2. */
        for (unsigned i = 0; i < 4; i++)
            vmwrite(VMCS_GUEST_PDPTE0 + 2 * i, pdpte ? pdpte[i] : 0);
    }
}

/* The guest's EFER, and with it the entry controls: "IA-32e mode guest"
 * must equal EFER.LMA (27.3.1.1 "Checks on Guest Control Registers, Debug
 * Registers, and MSRs").  The guest cannot change LMA without an exit hv
 * emulates (CR0 and EFER writes both exit), so the control VM exit stores
 * (28.2 "Recording VM-Exit Information and Updating VM-Entry Control
 * Fields") is always the one written here, and held.entry_ctls stays
 * true without a VMREAD. */
static void store_efer(const struct vcpu *vcpu, struct vmx_vcpu *vx)
{
    write_changed(vx, VMCS_GUEST_EFER, &vx->held.efer, vcpu->efer);
    /* The controls probe() chose, plus the one bit that follows the
     * guest.  SVM has no such control: VMRUN takes the mode from the
     * guest's EFER, CR0 and CS in the VMCB.  VT-x wants it said twice,
     * and checks that both agree. */
    uint32_t entry = vx->entry_ctls;
    if (vcpu->efer & EFER_LMA)
        entry |= ENTRY_IA32E_MODE_GUEST;
    write_changed(vx, VMCS_ENTRY_CONTROLS, &vx->held.entry_ctls, entry);
}

/* The groups every emulated instruction may change; the others change
 * only with the rare exits that emulate a control register or an MSR. */
#define STATE_COMMON (VCPU_RIP | VCPU_RSP | VCPU_RFLAGS | VCPU_INT_SHADOW)

/* The other groups the core changed, into the VMCS. */
static void store_rare(struct vcpu *vcpu, struct vmx_vcpu *vx, unsigned dirty)
{
    /* EFER and PAT are emulated by the core (core/msr.c) because the MSR
     * bitmap makes their RDMSR/WRMSR exit; VM entry loads the result. */
    if (dirty & VCPU_EFER)
        store_efer(vcpu, vx);
    if (dirty & VCPU_PAT)
        write_changed(vx, VMCS_GUEST_PAT, &vx->held.pat, vcpu->pat);
    /* The guest's TSC offset, added to RDTSC, RDTSCP and RDMSR of the TSC
     * with "use TSC offsetting" (SDM vol 3C 26.3 "Changes to Instruction
     * Behavior in VMX Non-Root Operation"). */
    if (dirty & VCPU_TSC_OFFSET)
        write_changed(vx, VMCS_TSC_OFFSET, &vx->held.tsc_offset, vcpu->tsc_offset);
    /* CR0 when the core emulated a write (CR4 writes stay in exit.c, and
     * the core never changes CR2 or CR3). */
    if (dirty & VCPU_CR)
        store_cr0(vcpu, vx);
    /* The core never changes the segments or the IDTR. */
}

/* Before VM entry: the groups the core changed since the last exit
 * (vcpu->dirty) into the VMCS, which VM entry loads (27.3.2 "Loading Guest
 * State"); a field whose value did not change is not written. */
FAST_PATH void vmx_store_state(struct vcpu *vcpu)
{
    struct vmx_vcpu *vx = vcpu->arch;
    unsigned dirty = vcpu->dirty;
    if (dirty & VCPU_RSP)
        write_changed(vx, VMCS_GUEST_RSP, &vx->held.rsp, vcpu->regs.rsp);
    if (dirty & VCPU_RIP)
        write_changed(vx, VMCS_GUEST_RIP, &vx->held.rip, vcpu->rip);
    if (dirty & VCPU_RFLAGS)
        write_changed(vx, VMCS_GUEST_RFLAGS, &vx->held.rflags, vcpu->rflags);
    /* The interrupt shadow: the core only ever ends one (by moving past
     * the STI or MOV SS), never creates one; the NMI and SMI blocking bits
     * stay as the exit saved them (held.intr, read by vmx_load_state()). */
    if ((dirty & VCPU_INT_SHADOW) && !vcpu->int_shadow)
        write_changed(vx, VMCS_GUEST_INTERRUPTIBILITY, &vx->held.intr,
                      vx->held.intr & ~(uint64_t)(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
    if (dirty & ~STATE_COMMON)
        store_rare(vcpu, vx, dirty);
    vcpu->dirty = 0;
    /* From the first entry on, held holds what the VMCS holds. */
    vx->held_valid = true;
}
