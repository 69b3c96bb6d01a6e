/*
 * pv_balloon.c - the balloon (include/hvkit/pv.h "The balloon"): the
 * guest gives pages back and takes them back, towards a size the host
 * asks for.
 *
 * Why a balloon: a hypervisor cannot take memory from a running guest by
 * itself, because only the guest knows which of its pages are free.  So a
 * driver inside the guest allocates pages ("inflates") and names them to
 * the hypervisor, which unmaps them; to give memory back the driver asks
 * for the pages again and frees them ("deflates").  Xen's and virtio's
 * balloons work so; `xl mem-set` and `virsh setmem` move the target.
 *
 * hv's RAM for a domain is one block (gmem.h), so a page given back stays
 * in the block: what changes is that the guest can no longer reach it (it
 * is unmapped from the second-level tables, and a touch ends the guest,
 * violation.c names the page) and that the domain's accounting
 * (domain.h: balloon_kib) shows it, for the host side to read.
 */
#include "klib.h"

#include "alloc.h"
#include "hv.h"
#include "log.h"
#include "pv.h"

/* One list at a time: hv runs one vCPU at a time with interrupts off, so
 * a static copy is safe, and 4 KiB is too much for hv's stack. */
static uint64_t frames[HVKIT_BALLOON_BATCH];

uint64_t pv_balloon_target_kib(const struct domain *d)
{
    uint64_t ram = d->mem.size >> 10;
    uint64_t t = domain_balloon_asked_kib(d);
    /* Nothing asked, or more than there is: the whole RAM. */
    return t && t < ram ? t : ram;
}

void pv_balloon_set_target(struct domain *d, uint64_t kib)
{
    d->balloon_target_kib = kib;
    struct pv_domain *pv = d->pv;
    /* The guest said where it wants to hear of it; vCPU 0 takes the
     * event, as the 8259's output goes to it (domain.h). */
    if (pv && pv->balloon_port && d->nr_vcpus)
        pv_evtchn_signal(d->vcpu[0], pv->balloon_port);
}

/* HC_BALLOON_TARGET: RBX = port to signal on a new target (0: none). */
long pv_hc_balloon_target(struct vcpu *v, const struct gprs *r)
{
    struct pv_domain *pv = pv_get(v->dom);
    if (!pv)
        return HC_ENOMEM;
    pv->balloon_driver = true;
    if (r->rbx) {
        if (r->rbx >= HVKIT_EVTCHN_PORTS || !pv->ports[r->rbx].bound)
            return HC_EINVAL;
        pv->balloon_port = (unsigned)r->rbx;
    }
    return (long)(pv_balloon_target_kib(v->dom) / 4);
}

static bool is_set(const struct pv_domain *pv, uint64_t page)
{
    return (pv->ballooned[page / 64] >> (page % 64)) & 1;
}

static void flip(struct pv_domain *pv, uint64_t page)
{
    pv->ballooned[page / 64] ^= 1ull << (page % 64);
}

/*
 * Copy the list in and check it whole: every frame a page of RAM (the
 * memory map's, not a hole or a device), and given back already (reclaim)
 * or not (release).  The bits are flipped as the check goes, so a frame
 * named twice in one list fails the second time; on any failure the flips
 * are undone and nothing has changed.  Returns HC_OK or an error.
 */
static long take_list(struct domain *d, struct pv_domain *pv, uint64_t gpa, uint64_t n,
                      bool release)
{
    if (n == 0 || n > HVKIT_BALLOON_BATCH)
        return HC_EINVAL;
    const void *list = gmem_ptr(&d->mem, gpa, n * sizeof(uint64_t));
    if (!list)
        return HC_EFAULT;
    memcpy(frames, list, n * sizeof(uint64_t));
    uint64_t pages = d->mem.size / 4096;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t f = frames[i];
        const struct mem_range *m = f < pages ? memmap_find(&d->map, f * 4096) : NULL;
        bool ram = m && m->kind == MEM_RAM && f * 4096 + 4096 <= m->base + m->size;
        if (!ram || is_set(pv, f) != !release) {
            while (i--)
                flip(pv, frames[i]);
            return HC_EINVAL;
        }
        flip(pv, f);
    }
    return HC_OK;
}

/* The bitmap, on the balloon's first use; not with npt=lazy, whose first
 * touch of an unmapped page would map it again behind the balloon's back. */
static long ready(struct domain *d, struct pv_domain *pv)
{
    if (d->guestmem.lazy)
        return HC_ENOTSUP;
    if (!pv->ballooned) {
        uint64_t words = (d->mem.size / 4096 + 63) / 64;
        pv->ballooned = kzalloc(words * sizeof(uint64_t));
        if (!pv->ballooned)
            return HC_ENOMEM;
    }
    return HC_OK;
}

/* The accounting the host side reads (domain.h), and the answer: the
 * pages the guest has now. */
static long account(struct domain *d, struct pv_domain *pv)
{
    d->balloon_kib = pv->balloon_pages * 4;
    return (long)(d->mem.size / 4096 - pv->balloon_pages);
}

/* The start of both calls: the PV state, the bitmap, the list checked
 * and copied into `frames`.  HC_OK with *out set, or an error. */
static long begin(struct vcpu *v, const struct gprs *r, bool release, struct pv_domain **out)
{
    struct pv_domain *pv = pv_get(v->dom);
    if (!pv)
        return HC_ENOMEM;
    long rc = ready(v->dom, pv);
    if (rc == HC_OK)
        rc = take_list(v->dom, pv, r->rbx, r->rcx, release);
    *out = pv;
    return rc;
}

/* HC_BALLOON_RELEASE: RBX = list, RCX = count. */
long pv_hc_balloon_release(struct vcpu *v, const struct gprs *r)
{
    struct domain *d = v->dom;
    struct pv_domain *pv;
    long rc = begin(v, r, true, &pv);
    if (rc)
        return rc;
    for (uint64_t i = 0; i < r->rcx; i++) {
        /* A 2 MiB page is split first, which needs a table page: when
         * there is none, the pages unmapped so far come back and the
         * list is refused as a whole. */
        if (slat_unmap(&d->guestmem.slat, frames[i] * 4096, 4096)) {
            for (uint64_t j = 0; j <= i; j++) {
                slat_map(&d->guestmem.slat, frames[j] * 4096,
                         (uint64_t)(uintptr_t)d->mem.host + frames[j] * 4096, 4096, SLAT_RWX);
            }
            for (uint64_t j = 0; j < r->rcx; j++)
                flip(pv, frames[j]);
            vcpu_backend(v)->flush_slat(v, 0, d->mem.size);
            return HC_ENOMEM;
        }
    }
    /* The CPU may hold translations of the pages: they must go. */
    vcpu_backend(v)->flush_slat(v, 0, d->mem.size);
    pv->balloon_pages += r->rcx;
    return account(d, pv);
}

/* HC_BALLOON_RECLAIM: RBX = list, RCX = count.  The pages come back
 * zeroed: what the guest had in them before is gone, as on a real
 * balloon where the host gave the memory to someone else meanwhile. */
long pv_hc_balloon_reclaim(struct vcpu *v, const struct gprs *r)
{
    struct domain *d = v->dom;
    struct pv_domain *pv;
    long rc = begin(v, r, false, &pv);
    if (rc)
        return rc;
    for (uint64_t i = 0; i < r->rcx; i++) {
        uint64_t gpa = frames[i] * 4096;
        /* Mapping a 4 KiB page into a table that already exists (the
         * release split it) needs no memory. */
        slat_map(&d->guestmem.slat, gpa, (uint64_t)(uintptr_t)d->mem.host + gpa, 4096, SLAT_RWX);
        /* While the dirty log runs, every page is guarded until its first
         * write (dirty.h), this one too. */
        if (d->guestmem.dirty.on)
            dirty_guard(&d->guestmem.dirty, &d->guestmem.slat, frames[i]);
        /* hv's store, through the dirty log like any other. */
        uint8_t *p = gmem_write_ptr(&d->mem, gpa, 4096);
        if (p)
            memset(p, 0, 4096);
    }
    vcpu_backend(v)->flush_slat(v, 0, d->mem.size);
    pv->balloon_pages -= r->rcx;
    return account(d, pv);
}
