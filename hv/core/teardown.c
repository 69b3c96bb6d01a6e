/*
 * teardown.c - a stopped domain gives back what it holds (domain.h:
 * domain_teardown).
 *
 * A domain's memory comes from hv's one heap (core/heap.c, alloc.h): its
 * RAM block, its second-level tables and the dirty log's bitmaps
 * (guestmem.h), each vCPU's control structure and bitmaps (the backend's
 * vcpu_init) and whatever a device model allocated.  When the domain has
 * stopped none of it is used again: its vCPUs are never entered, and the
 * end report needs only the counters kept in struct domain itself.  So it
 * all goes back, and the domains still running (or a later one) can have
 * it.  The struct domain and its vCPUs stay: they are not the heap's
 * (main.c keeps them in static arrays), and the report reads them.
 *
 * Compiled hosted too (tests/unit/test_hv_teardown.c).
 */
#include "klib.h"

#include "hv.h"

void domain_teardown(struct domain *d)
{
    struct host *h = d->host;
    if (d->torn_down || !domain_stopped(d))
        return;
    /* The vCPUs' control structures first: nothing may run on the tables
     * and RAM below once they are gone.  A vCPU the CPU still has loaded
     * stops being so (VT-x: the backend's destroy VMCLEARs its VMCS). */
    for (unsigned i = 0; i < d->nr_vcpus; i++) {
        struct vcpu *v = d->vcpu[i];
        if (h->loaded == v)
            h->loaded = NULL;
        if (h->be->vcpu_destroy)
            h->be->vcpu_destroy(v);
    }
    /* Device models that allocated memory give it back (their state is
     * part of struct domain otherwise). */
    for (struct mmio_device *dev = d->mmio.head; dev; dev = dev->next)
        if (dev->release)
            dev->release(dev->ctx);
    /* The second-level tables and the dirty log's bitmaps. */
    guestmem_destroy(&d->guestmem);
    /* The RAM block, with the allocator the tables came from (main.c gives
     * both from page_alloc). */
    if (d->guestmem.free && d->mem.host)
        d->guestmem.free(d->mem.host);
    d->mem.host = NULL;
    d->mem.before_write = NULL;
    d->torn_down = true;
}
