/*
 * apic_ipi.c - who receives an inter-processor interrupt: the routing
 * decision the core (core/smp.c) makes for an ICR write, over the local
 * APICs of a domain's vCPUs.  Pure, compiled hosted too
 * (tests/unit/test_hv_apic.c).
 *
 * SDM vol 3A 11.6.1 "Interrupt Command Register (ICR)" gives the fields:
 * the destination shorthand (bits 19:18) either names the receivers
 * itself (self, all including self, all excluding self) or leaves them to
 * the destination field, which 11.6.2 "Determining IPI Destination" reads
 * in physical or logical mode (lapic_is_destination()).  Lowest-priority
 * delivery (11.6.2.4 "Lowest Priority Delivery Mode") then narrows the
 * destinations to one.
 */
#include "lapic.h"

/* Lowest priority: among the destinations, the APIC whose task priority
 * is lowest wins (11.6.2.4 lets the chipset decide between equals; here
 * the lowest index, the lowest APIC ID, as QEMU's choice is stable too). */
static uint32_t lowest_priority(struct lapic *const *apics, uint32_t set)
{
    int best = -1;
    for (unsigned i = 0; i < 32; i++) {
        if (!(set & (1u << i)))
            continue;
        if (best < 0 || (apics[i]->tpr & 0xf0) < (apics[best]->tpr & 0xf0))
            best = (int)i;
    }
    return best < 0 ? 0 : 1u << best;
}

uint32_t apic_ipi_targets(struct lapic *const *apics, unsigned n, unsigned self,
                          const struct apic_msg *m)
{
    uint32_t set = 0;
    /* A mask of 32 bits holds every vCPU a domain may have. */
    if (n > 32)
        n = 32;
    for (unsigned i = 0; i < n; i++) {
        bool to;
        switch (m->shorthand) {
        case APIC_SH_SELF:
            to = i == self;
            break;
        case APIC_SH_ALL:
            to = true;
            break;
        case APIC_SH_ALL_BUT:
            to = i != self;
            break;
        default:
            to = lapic_is_destination(apics[i], m->dest, m->logical);
            break;
        }
        /* A shorthand reaches only APICs that are globally enabled, as the
         * destination field does (11.4.3 "Enabling or Disabling the Local
         * APIC": a disabled APIC takes no part in the bus). */
        if (to && (apics[i]->base_msr & APIC_BASE_EN))
            set |= 1u << i;
    }
    if (m->mode == APIC_DM_LOWEST && set)
        set = lowest_priority(apics, set);
    return set;
}
