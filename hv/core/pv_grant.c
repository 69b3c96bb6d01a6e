/*
 * pv_grant.c - the grant table (include/hvkit/pv.h): the guest's list of
 * the pages hv's back-ends may touch, and the one check every back-end
 * passes before it touches one.
 *
 * A back-end in hv could reach all of guest RAM; grants make it reach only
 * what the guest offered, as Xen's grant tables do between domains.  The
 * entry is read from guest memory at every map, once, into a local copy:
 * the guest may change the table at any time (that is how it revokes), and
 * the decision must be made on one consistent value.  Because a back-end
 * uses the page only during the exit that mapped it, while the guest is
 * stopped, a revoke always takes effect at the next map; Xen, whose
 * back-ends run concurrently with the guest, needs "in use" flags for that.
 *
 * Pure: compiled hosted too (tests/unit/test_hv_pv.c).
 */
#include "klib.h"

#include "pv.h"

long pv_grant_check_table(const struct guest_mem *m, uint64_t gpa, uint64_t nr)
{
    /* Checked before the size is computed, so nr cannot overflow it. */
    if (nr == 0 || nr > HVKIT_GRANT_MAX)
        return HC_EINVAL;
    /* Entries are read as 64-bit words. */
    if (gpa & 7)
        return HC_EINVAL;
    if (!gmem_range_ok(m, gpa, nr * sizeof(struct hvkit_grant)))
        return HC_EFAULT;
    return HC_OK;
}

long pv_grant_map(const struct pv_grants *g, const struct guest_mem *m, uint64_t ref, bool write,
                  uint8_t **page)
{
    /* No table, or a reference beyond it: nothing was granted. */
    if (ref >= g->nr)
        return HC_EINVAL;
    /* The table was checked when it was registered, but RAM can only have
     * shrunk since (it does not today); checking again costs nothing. */
    const volatile struct hvkit_grant *e =
        gmem_ptr(m, g->gpa + ref * sizeof(struct hvkit_grant), sizeof(struct hvkit_grant));
    if (!e)
        return HC_EFAULT;
    /* One read of each field: the decision and the use see the same. */
    uint32_t flags = e->flags;
    uint64_t gfn = e->gfn;
    if (!(flags & HVKIT_GRANT_PERMIT))
        return HC_EINVAL;
    if (write && (flags & HVKIT_GRANT_READONLY))
        return HC_EINVAL;
    /* A frame number so large that its address overflows is outside RAM. */
    if (gfn > (UINT64_MAX >> 12))
        return HC_EFAULT;
    uint64_t gpa = gfn << 12;
    /* Writes go through before_write (dirty log, pages the guest made
     * read-only in the second-level tables); reads need only RAM. */
    uint8_t *p = write ? gmem_write_ptr(m, gpa, 4096) : gmem_ptr(m, gpa, 4096);
    if (!p)
        return HC_EFAULT;
    *page = p;
    return HC_OK;
}
