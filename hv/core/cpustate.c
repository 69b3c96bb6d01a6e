/*
 * cpustate.c: the vmstate serialiser of a vCPU's architectural state
 * (cpustate.h): every register, in a fixed order, once for both
 * directions (core/vms.h).
 *
 * Loading checks only what no x86 CPU can hold; whether the state is one
 * the hardware accepts for an entry is the VMRUN or VM-entry checks'
 * business, and a state they refuse ends the domain with their reason
 * (the backends' explain.c), never hv.
 */
#include "cpustate.h"
#include "vms.h"

static void segment_state(struct vms *v, struct cpu_segment *s)
{
    vms_u16(v, &s->selector);
    vms_u16(v, &s->attrib);
    vms_u32(v, &s->limit);
    vms_u64(v, &s->base);
    /* Twelve attribute bits (cpustate.h). */
    vms_check(v, s->attrib < 0x1000, "a segment's attributes");
}

static void table_state(struct vms *v, struct cpu_table *t)
{
    vms_u64(v, &t->base);
    vms_u16(v, &t->limit);
}

void cpu_state_vms(struct vms *v, struct cpu_state *c)
{
    vms_bytes(v, &c->regs, sizeof(c->regs));
    vms_u64(v, &c->rip);
    vms_u64(v, &c->rflags);
    vms_u64(v, &c->cr0);
    vms_u64(v, &c->cr2);
    vms_u64(v, &c->cr3);
    vms_u64(v, &c->cr4);
    vms_u64(v, &c->efer);
    vms_u64(v, &c->xcr0);
    for (unsigned i = 0; i < CPU_NSEGS; i++)
        segment_state(v, &c->seg[i]);
    table_state(v, &c->gdtr);
    table_state(v, &c->idtr);
    for (unsigned i = 0; i < 4; i++)
        vms_u64(v, &c->dr[i]);
    vms_u64(v, &c->dr6);
    vms_u64(v, &c->dr7);
    vms_u64(v, &c->sysenter_cs);
    vms_u64(v, &c->sysenter_esp);
    vms_u64(v, &c->sysenter_eip);
    vms_u64(v, &c->star);
    vms_u64(v, &c->lstar);
    vms_u64(v, &c->cstar);
    vms_u64(v, &c->sfmask);
    vms_u64(v, &c->kernel_gs_base);
    vms_u64(v, &c->pat);
    vms_u64(v, &c->misc_enable);
    vms_u64(v, &c->ds_area);
    vms_u64(v, &c->tsc);
    vms_u8(v, &c->int_shadow);
    vms_u64(v, &c->pending_event);
    /* Section version 2: the multiprocessor state. */
    vms_u8(v, &c->mp_state);
    vms_u8(v, &c->start_pending);
    vms_u8(v, &c->start_vector);
    vms_bytes(v, c->fxsave, sizeof(c->fxsave));
    /* Section version 3: the upper halves of the YMM registers. */
    vms_bytes(v, c->ymm_hi, sizeof(c->ymm_hi));
    /* Section version 4: a waiting NMI, the NMI blocking, TSC_AUX. */
    vms_u8(v, &c->nmi_pending);
    vms_u8(v, &c->nmi_blocked);
    vms_u64(v, &c->tsc_aux);
    vms_check(v, c->nmi_pending <= 1 && c->nmi_blocked <= 1, "the NMI state");
    /* WRMSR to IA32_TSC_AUX with any of bits 63:32 set raises #GP (SDM
     * vol 4 2.1 "Architectural MSRs", table 2-2 "IA-32 Architectural
     * MSRs": bits 31:0 only). */
    vms_check(v, !(c->tsc_aux >> 32), "TSC_AUX");
    /* XCR0 as XSETBV accepts it (SDM vol 2D "XSETBV": x87 always on, AVX
     * only with SSE), and with no component a state does not hold. */
    vms_check(v, (c->xcr0 & 1) && !(c->xcr0 & ~CPU_XCR0_HELD) && (!(c->xcr0 & 4) || (c->xcr0 & 2)),
              "XCR0");
    /* RFLAGS bit 1 is always 1 (SDM vol 1 3.4.3 "EFLAGS Register"), and
     * the shadow is a flag. */
    vms_check(v, (c->rflags & 2) != 0, "RFLAGS");
    vms_check(v, c->int_shadow <= 1, "the interrupt shadow");
    vms_check(v, c->mp_state <= VCPU_MP_STOPPED && c->start_pending <= 1,
              "the vCPU's multiprocessor state");
    /* A pending event: valid, of a type hv injects (external interrupt,
     * NMI, exception: the others need an instruction length VT-x keeps
     * elsewhere), with the reserved bits 30:12 clear. */
    uint64_t type = (c->pending_event >> 8) & 7;
    vms_check(v,
              !c->pending_event ||
                  ((c->pending_event & (1ull << 31)) && (type == 0 || type == 2 || type == 3) &&
                   !(c->pending_event & 0x7ffff000ull)),
              "the pending event");
    /* MXCSR (FXSAVE image bytes 24-27) has reserved bits 31:16; FXRSTOR
     * of a value with any of them set faults (SDM vol 1 10.5.1 "FXSAVE
     * Area"), in hv, so such a state is refused here. */
    uint32_t mxcsr = (uint32_t)c->fxsave[24] | (uint32_t)c->fxsave[25] << 8 |
                     (uint32_t)c->fxsave[26] << 16 | (uint32_t)c->fxsave[27] << 24;
    vms_check(v, mxcsr <= 0xffff, "MXCSR");
}
