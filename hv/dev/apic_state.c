/*
 * apic_state.c: the vmstate serialisers of the local APIC and the I/O
 * APIC (see devstate.h).  The registers are SDM vol 3A 11.4 "Local APIC"
 * and 11.5 "Handling Local Interrupts"; the I/O APIC's are those of the
 * 82093AA data sheet.
 */
#include "devstate.h"

/*
 * A local APIC.  Its ID, MAXPHYADDR and clocks come from the vCPU it was
 * made for; everything the guest can change is saved.  The timer's start
 * is kept relative to the APIC's bus clock; a TSC deadline is a guest TSC
 * value, which the vCPU's own state carries on (core/cpustate.c).
 */
void lapic_state(struct vms *v, struct lapic *l)
{
    uint64_t now = l->bus ? l->bus(l->clock_ctx) : 0;
    vms_u64(v, &l->base_msr);
    vms_u32(v, &l->tpr);
    vms_u32(v, &l->ldr);
    vms_u32(v, &l->dfr);
    vms_u32(v, &l->svr);
    vms_u32(v, &l->esr);
    vms_u32(v, &l->esr_pending);
    vms_bytes(v, l->isr, sizeof(l->isr));
    vms_bytes(v, l->tmr, sizeof(l->tmr));
    vms_bytes(v, l->irr, sizeof(l->irr));
    vms_u32(v, &l->icr_lo);
    vms_u32(v, &l->icr_hi);
    vms_bytes(v, l->lvt, sizeof(l->lvt));
    vms_u32(v, &l->timer_initial);
    vms_u32(v, &l->timer_dcr);
    vms_u32(v, &l->divisor);
    vms_since(v, &l->timer_start, now);
    vms_u64(v, &l->timer_fired);
    vms_u64(v, &l->tsc_deadline);
    /* The divide configuration gives 1, 2, 4, ... 128 (SDM vol 3A 11.5.4
     * "APIC Timer", figure 11-10 "Divide Configuration Register"); the
     * timer divides by it. */
    vms_check(v, l->divisor && l->divisor <= 128 && !(l->divisor & (l->divisor - 1)),
              "the timer's divisor");
    /* The base's reserved bits (above MAXPHYADDR, bits 0-7 and 9) are
     * zero in any value IA32_APIC_BASE accepts (lapic_msr.c). */
    vms_check(v, !(l->base_msr & (0x2ffull | ~((1ull << l->phys_bits) - 1))), "IA32_APIC_BASE");
}

/* The I/O APIC: its ID, the register selected, the redirection table and
 * the pins' levels and pending requests. */
void ioapic_state(struct vms *v, struct ioapic *a)
{
    vms_u8(v, &a->id);
    vms_u32(v, &a->regsel);
    vms_bytes(v, a->redir, sizeof(a->redir));
    vms_u32(v, &a->asserted);
    vms_u32(v, &a->irr);
    /* A 4-bit ID (82093AA, IOAPICID bits 27:24). */
    vms_check(v, a->id < 16, "the I/O APIC's ID");
}
