/*
 * gmem.h - guest-physical memory: one contiguous block of host memory that
 * the nested page tables (SVM NPT, APM vol 2 15.25 "Nested Paging"; VMX EPT, SDM vol 3C 29.3 "The
 * Extended Page Table Mechanism (EPT)") map at guest-physical address 0.
 *
 * Hosted (unit tests) the block is an ordinary heap buffer; in hv it is a
 * physically contiguous range, and since hv identity-maps host memory its
 * host-virtual address equals its host-physical address.
 */
#ifndef HV_CORE_GMEM_H
#define HV_CORE_GMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest_mem {
    uint8_t *host; /* host address of guest-physical 0 */
    uint64_t size; /* bytes of guest RAM, a multiple of 2 MiB in hv */
    /* Asked before hv itself stores into guest RAM for the guest (an
     * emulated MMIO instruction's store to RAM, INS, a hypercall's result),
     * when set: false refuses the store, as the second-level tables would
     * refuse the guest's own (a page it made read-only); true lets it
     * through after noting it (the dirty log).  NULL: every store goes. */
    bool (*before_write)(void *ctx, uint64_t gpa, uint64_t len);
    void *write_ctx;
};

/* True when [gpa, gpa + len) lies entirely inside guest RAM (overflow-safe). */
static inline bool gmem_range_ok(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
    /* Written without gpa + len so that a huge len cannot wrap around. */
    return gpa <= m->size && len <= m->size - gpa;
}

/* Host pointer for a guest-physical range, or NULL when it is not all RAM. */
static inline void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
    return gmem_range_ok(m, gpa, len) ? m->host + gpa : NULL;
}

/* Host pointer for hv to store into [gpa, gpa + len) on the guest's behalf,
 * or NULL when it is not all RAM or before_write refuses it.  Every store
 * hv makes for a running guest goes through here, so the dirty log sees
 * it and a read-only page stays read-only. */
static inline void *gmem_write_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
    if (!gmem_range_ok(m, gpa, len))
        return NULL;
    if (m->before_write && !m->before_write(m->write_ctx, gpa, len))
        return NULL;
    return m->host + gpa;
}

#endif
