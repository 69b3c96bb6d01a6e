/*
 * pv_restore.c - what saving and loading a PV guest's state needs from hv
 * beyond its fields (pv.h, pv_state.c, docs/vmstate.md): the guest's PV
 * clock reading at a save, and after a load the second-level tables of
 * the balloon, the hypercall page and the clock structures.
 *
 * vmsave.c calls these around the commit of vms_domain.c: the clock
 * before a save, the balloon's tables after the state passed every check
 * and before the commit, the rest once the vCPUs have their state back.
 */
#include "klib.h"

#include "cpu.h"
#include "hv.h"
#include "pv.h"

/*
 * The largest time any vCPU of d can read from its PV clock now: hv's own
 * clock with the domain's offset, or more if a vCPU's structure in guest
 * RAM, extrapolated with the guest's TSC, is ahead of it (the multiplier
 * is exact to 2^-31, so a structure published long ago drifts by a few
 * nanoseconds a second).  A load sets the clock to go on from this value,
 * so the guest never reads a time after the load that is earlier than one
 * it read before the save.  A structure that is not hv's (version odd, a
 * scale other than the one hv publishes: the guest wrote over it) is not
 * used, and its TSC stamp only when it lies in the guest's past.
 */
uint64_t pv_clock_guest_ns(struct domain *d)
{
    struct pv_domain *pv = d->pv;
    uint64_t hz, zero, best = pv_clock_host_ns() + pv->clock_offset;
    uint32_t mul;
    int8_t shift;
    irq_clock_base(&hz, &zero);
    pv_clock_scale(hz, &mul, &shift);
    for (unsigned i = 0; i < d->nr_vcpus; i++) {
        uint64_t msr = pv->pvclock_msr[i];
        const volatile struct hvkit_pvclock *c =
            msr & HVKIT_MSR_ENABLE ? gmem_ptr(&d->mem, msr & ~0x1full, sizeof(*c)) : NULL;
        if (!c || (c->version & 1) || c->tsc_to_system_mul != mul || c->tsc_shift != shift)
            continue;
        uint64_t tsc = rdtsc() + d->vcpu[i]->tsc_offset, stamp = c->tsc_timestamp;
        if (tsc < stamp)
            continue;
        uint64_t t = c->system_time + pv_clock_apply(tsc - stamp, mul, shift);
        if (t > best)
            best = t;
    }
    return best;
}

/* Page `page` mapped back (a page the loaded state has not given back):
 * as HC_BALLOON_RECLAIM maps it, guarded again while the dirty log runs
 * (dirty.h: every page is guarded until its first write). */
static int map_back(struct domain *d, uint64_t page)
{
    uint64_t gpa = page * 4096;
    if (slat_map(&d->guestmem.slat, gpa, (uint64_t)(uintptr_t)d->mem.host + gpa, 4096, SLAT_RWX))
        return -1;
    if (d->guestmem.dirty.on)
        dirty_guard(&d->guestmem.dirty, &d->guestmem.slat, page);
    return 0;
}

int pv_restore_balloon(struct domain *d, const uint64_t *map)
{
    const uint64_t *old = d->pv ? d->pv->ballooned : NULL;
    if (!old && !map)
        return 0;
    /* Only the pages whose state differs: those given back in the state
     * and not now are unmapped, the others mapped back. */
    for (uint64_t w = 0; w < pv_balloon_words(d->mem.size); w++) {
        uint64_t was = old ? old[w] : 0, want = map ? map[w] : 0;
        for (uint64_t diff = was ^ want; diff; diff &= diff - 1) {
            uint64_t bit = (uint64_t)__builtin_ctzll(diff), page = w * 64 + bit;
            /* Unmapping inside a 2 MiB page splits it, which needs a table
             * page: without one the load cannot go on (the caller ends the
             * domain, part of it being restored). */
            int r = (want >> bit) & 1 ? slat_unmap(&d->guestmem.slat, page * 4096, 4096)
                                      : map_back(d, page);
            if (r)
                return -1;
        }
    }
    return 0;
}

void pv_restore_finish(struct domain *d)
{
    struct pv_domain *pv = d->pv;
    /* The page is the guest's RAM, restored with it, but its instruction
     * is the vendor's of the CPU that filled it: VMMCALL on AMD, VMCALL on
     * Intel (APM vol 3 "VMMCALL"; SDM vol 3C 31.3 "VMX Instructions",
     * VMCALL), and the other vendor's raises #UD.  Filled again here, as at its registration. */
    if (pv->hcpage_msr & HVKIT_MSR_ENABLE) {
        uint8_t *page = gmem_write_ptr(&d->mem, pv->hcpage_msr & ~0xfffull, 4096);
        if (page)
            pv_hcpage_fill(page, vcpu_backend(d->vcpu[0])->hypercall_insn);
    }
    for (unsigned i = 0; i < d->nr_vcpus; i++) {
        struct vcpu *v = d->vcpu[i];
        /* The clock from the loaded offset and this CPU's TSC rate, with
         * the vCPU's TSC as the load set it (pv_msr.c). */
        pv_tsc_changed(v);
        /* The balloon's pages were mapped or unmapped: the CPU's cached
         * translations of them must go (as after HC_BALLOON_RELEASE). */
        host_load_vcpu(d->host, v);
        vcpu_backend(v)->flush_slat(v, 0, d->mem.size);
    }
}
