/*
 * lapic_msr.c - the local APIC's MSRs: IA32_APIC_BASE (SDM vol 3A 11.4.4
 * "Local APIC Status and Location"), IA32_TSC_DEADLINE (11.5.4.1
 * "TSC-Deadline Mode") and the x2APIC registers at 0x800-0x8ff (11.12
 * "Extended XAPIC (x2APIC)", table 11-6 "Local APIC Register Address Map
 * Supported by x2APIC").
 */
#include "lapic_internal.h"

/* The xAPIC register offset of an x2APIC MSR (MSR 0x800 + offset / 16). */
#define OFFSET_OF(ix) (((ix)-MSR_X2APIC_FIRST) << 4)

uint64_t lapic_base(const struct lapic *l)
{
    return l->base_msr & ~0xfffull;
}

bool lapic_x2apic(const struct lapic *l)
{
    return (l->base_msr & (APIC_BASE_EN | APIC_BASE_EXTD)) == (APIC_BASE_EN | APIC_BASE_EXTD);
}

bool lapic_mmio_enabled(const struct lapic *l)
{
    /* In x2APIC mode the memory-mapped page is gone (11.12.1.2 "x2APIC
     * Register Address Space"); disabled, there is no APIC at all. */
    return (l->base_msr & APIC_BASE_EN) && !lapic_x2apic(l);
}

bool lapic_msr_owned(uint32_t index)
{
    return index == MSR_IA32_APIC_BASE || index == MSR_IA32_TSC_DEADLINE ||
           (index >= MSR_X2APIC_FIRST && index <= MSR_X2APIC_LAST);
}

/* The x2APIC logical ID is derived from the x2APIC ID: the cluster (ID
 * bits 31:4) in bits 31:16 and one bit for the member (ID bits 3:0)
 * (11.12.10.2 "Deriving Logical x2APIC ID from the Local x2APIC ID"). */
static uint32_t x2apic_ldr(uint32_t id)
{
    return ((id >> 4) << 16) | (1u << (id & 0xf));
}

/*
 * A write to IA32_APIC_BASE.  #GP for reserved bits (7:0, 9, and the base
 * above MAXPHYADDR) and for the transitions 11.12.5 "x2APIC State
 * Transitions" forbids: EXTD without EN, x2APIC straight back to xAPIC,
 * disabled straight to x2APIC.  The BSP flag is read-only.  Disabling the
 * APIC resets its registers, so a later enable starts from power-up.
 */
static bool write_base(struct lapic *l, uint64_t v)
{
    uint64_t reserved = 0x2ffull | ~((1ull << l->phys_bits) - 1);
    if (v & reserved)
        return false;
    bool en = v & APIC_BASE_EN, extd = v & APIC_BASE_EXTD;
    bool was_en = l->base_msr & APIC_BASE_EN, was_x2 = lapic_x2apic(l);
    if (extd && !en)
        return false;
    if (was_x2 && en && !extd)
        return false;
    if (!was_en && extd)
        return false;
    if (was_en && !en)
        lapic_reset_registers(l);
    /* Entering x2APIC mode: the logical ID becomes the derived one. */
    if (!was_x2 && extd)
        l->ldr = x2apic_ldr(l->id);
    l->base_msr = (v & ~APIC_BASE_BSP) | (l->base_msr & APIC_BASE_BSP);
    return true;
}

/* Registers x2APIC mode does not have (DFR, ICR high: ICR is one 64-bit
 * MSR; APR and RRD), and write-only ones that #GP on reads. */
static bool x2apic_absent(uint32_t off)
{
    return off == LAPIC_DFR || off == LAPIC_ICR_HI || off == LAPIC_APR || off == LAPIC_RRD;
}

static bool x2apic_read(struct lapic *l, uint32_t index, uint64_t *value)
{
    uint32_t off = OFFSET_OF(index), v;
    if (!lapic_x2apic(l) || x2apic_absent(off) || off == LAPIC_EOI || off == LAPIC_SELF_IPI)
        return false;
    lapic_update_timer(l);
    switch (off) {
    case LAPIC_ID:
        /* The whole 32-bit x2APIC ID. */
        *value = l->id;
        return true;
    case LAPIC_ICR_LO:
        /* ICR bits 63:32 are the destination (11.12.9 "ICR Operation in
         * x2APIC Mode"). */
        *value = ((uint64_t)l->icr_hi << 32) | l->icr_lo;
        return true;
    default:
        if (!lapic_reg_read(l, off, &v))
            return false;
        *value = v;
        return true;
    }
}

/* Registers that are read-only in x2APIC mode: writing them is #GP. */
static bool x2apic_read_only(uint32_t off)
{
    return off == LAPIC_ID || off == LAPIC_VERSION || off == LAPIC_PPR || off == LAPIC_LDR ||
           off == LAPIC_TIMER_CCR || (off >= LAPIC_ISR && off < LAPIC_IRR + 0x80);
}

static bool x2apic_write(struct lapic *l, uint32_t index, uint64_t value)
{
    uint32_t off = OFFSET_OF(index);
    if (!lapic_x2apic(l) || x2apic_absent(off) || x2apic_read_only(off))
        return false;
    lapic_update_timer(l);
    switch (off) {
    case LAPIC_EOI:
    case LAPIC_ESR:
        /* Only 0 may be written (11.12.1.2). */
        if (value)
            return false;
        return lapic_reg_write(l, off, 0);
    case LAPIC_SELF_IPI:
        /* Bits 7:0 the vector, the rest reserved (11.12.11 "SELF IPI
         * Register"): a fixed, edge-triggered IPI to this CPU. */
        if (value & ~0xffull)
            return false;
        lapic_send_ipi(l, (uint32_t)value | (1u << 18), 0);
        return true;
    case LAPIC_ICR_LO:
        if ((uint32_t)value & ~lapic_writable(l, LAPIC_ICR_LO))
            return false;
        l->icr_lo = (uint32_t)value;
        l->icr_hi = (uint32_t)(value >> 32);
        lapic_send_ipi(l, l->icr_lo, l->icr_hi);
        return true;
    default:
        /* Setting a reserved bit is #GP in x2APIC mode. */
        if (value & ~(uint64_t)lapic_writable(l, off))
            return false;
        return lapic_reg_write(l, off, (uint32_t)value);
    }
}

bool lapic_msr_read(struct lapic *l, uint32_t index, uint64_t *value)
{
    if (index == MSR_IA32_APIC_BASE) {
        *value = l->base_msr;
        return true;
    }
    if (index == MSR_IA32_TSC_DEADLINE) {
        /* Reads 0 outside the deadline mode (11.5.4.1). */
        *value = APIC_TIMER_MODE(l->lvt[LVT_TIMER]) == 2 ? l->tsc_deadline : 0;
        return true;
    }
    if (index >= MSR_X2APIC_FIRST && index <= MSR_X2APIC_LAST)
        return x2apic_read(l, index, value);
    return false;
}

bool lapic_msr_write(struct lapic *l, uint32_t index, uint64_t value)
{
    if (index == MSR_IA32_APIC_BASE)
        return write_base(l, value);
    if (index == MSR_IA32_TSC_DEADLINE) {
        /* Ignored outside the deadline mode; 0 disarms (11.5.4.1). */
        if (APIC_TIMER_MODE(l->lvt[LVT_TIMER]) == 2)
            l->tsc_deadline = value;
        lapic_update_timer(l);
        return true;
    }
    if (index >= MSR_X2APIC_FIRST && index <= MSR_X2APIC_LAST)
        return x2apic_write(l, index, value);
    return false;
}
