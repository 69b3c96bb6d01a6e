/*
 * dirty.c - dirty-page tracking through write protection (see dirty.h).
 *
 * Two bitmaps, one bit per 4 KiB page of the domain's RAM block, do all the
 * book-keeping: `dirty` says the guest wrote the page since the last
 * harvest, `guarded` says the log itself took write permission away.  The
 * second map is what keeps the log honest: a guest may also ask for
 * read-only pages of its own (HC_MEM_PROTECT, guestmem.c: guestmem_protect),
 * and a write fault on one of those must reach its own handler, not be
 * silently allowed here.  Nothing in this file touches a VMCB or VMCS: the
 * permissions live in the vendor-neutral second-level tables (slat.c), and
 * the NPF or EPT-violation exit that a refused write causes (APM vol 2
 * 15.25.6 "Nested versus Guest Page Faults, Fault Ordering", SDM vol 3C
 * 29.3.3 "EPT-Induced VM Exits") arrives here through guestmem.c.
 */
#include "klib.h"

#include "dirty.h"

/* One bit per page, 64 pages per word: page i lives in word i / 64 at bit
 * i % 64, the order a reader of a hex dump of the map expects (page 0 is
 * the lowest bit of the first word).  HC_DIRTY_HARVEST hands the guest a
 * map in the same layout, so a guest-side tool reads it the same way. */
static bool test_bit(const uint64_t *map, uint64_t i)
{
    return (map[i / 64] >> (i % 64)) & 1;
}

static void set_bit(uint64_t *map, uint64_t i)
{
    map[i / 64] |= 1ull << (i % 64);
}

static void clear_bit(uint64_t *map, uint64_t i)
{
    map[i / 64] &= ~(1ull << (i % 64));
}

size_t dirty_bitmap_bytes(uint64_t ram_size)
{
    /* Whole 64-bit words: one per 64 pages, rounded up, so the bit helpers
     * above never read past the end when the RAM size is not a multiple of
     * 256 KiB.  A partial last page is not a page the tables map, so
     * dividing down to whole pages loses nothing. */
    return (size_t)((ram_size / SLAT_4K + 63) / 64 * 8);
}

void dirty_init(struct dirty_log *d, uint64_t ram_size, uint64_t *dirty, uint64_t *guarded)
{
    /* The log starts off: nothing is protected and nothing recorded until
     * dirty_start, so a domain that never asks for a log pays no exits. */
    memset(d, 0, sizeof(*d));
    d->pages = ram_size / SLAT_4K;
    d->dirty = dirty;
    d->guarded = guarded;
    /* The caller's memory need not be zero (a hosted test may pass any
     * buffer); a stale bit in `guarded` would later let a write through
     * that the guest's own protection meant to refuse. */
    memset(dirty, 0, dirty_bitmap_bytes(ram_size));
    memset(guarded, 0, dirty_bitmap_bytes(ram_size));
}

/* Take write away from one page if it has it, and remember that the log
 * did.  Pages that are not mapped (lazy mode) or already read-only are left
 * alone: the lazy mapper guards each page it maps while the log runs. */
int dirty_guard(struct dirty_log *d, struct slat *s, uint64_t page)
{
    struct slat_walk w;
    uint64_t gpa = page * SLAT_4K;
    /* A page with no translation needs no guard: its first access of any
     * kind exits anyway and the lazy mapper (guestmem.c) guards it then.
     * A page already without write belongs to some other rule; touching
     * it would make dirty_stop hand it write it never had. */
    if (!slat_walk(s, gpa, &w) || !(w.perms & SLAT_W))
        return 0;
    /* A 2 MiB page is split here: from now on RAM is tracked page by page. */
    int rc = slat_protect(s, gpa, SLAT_4K, w.perms & ~SLAT_W);
    /* Only a page whose permission really changed is the log's; a failed
     * split (no table page left) leaves the mapping as it was and the
     * error goes back to the hypercall, which tells the guest. */
    if (rc == 0)
        set_bit(d->guarded, page);
    return rc;
}

int dirty_start(struct dirty_log *d, struct slat *s, const struct memmap *m)
{
    /* A new log begins with nothing written: pages written under an
     * earlier log that were never harvested are the caller's loss, and
     * saying so here keeps one log from leaking into the next. */
    memset(d->dirty, 0, (size_t)((d->pages + 63) / 64 * 8));
    /* From here on the lazy mapper (guestmem.c: lazy_map) guards every page
     * it maps, so the pages not mapped yet need nothing from the loop. */
    d->on = true;
    /* Every page of every RAM range; other ranges are never mapped. */
    for (unsigned i = 0; i < m->n; i++) {
        const struct mem_range *r = &m->r[i];
        if (r->kind != MEM_RAM)
            continue;
        /* Page by page, not one slat_protect over the range: a range may
         * hold holes and read-only pages that must keep their own rules,
         * and only the pages that really lost write get a bit in
         * `guarded`.  An error stops here with the pages done so far
         * guarded; dirty_stop undoes exactly those. */
        for (uint64_t gpa = r->base; gpa < r->base + r->size; gpa += SLAT_4K) {
            int rc = dirty_guard(d, s, gpa / SLAT_4K);
            if (rc)
                return rc;
        }
    }
    return 0;
}

bool dirty_write_fault(struct dirty_log *d, struct slat *s, uint64_t gpa)
{
    uint64_t page = gpa / SLAT_4K;
    /* Only pages the log itself protected: a write to a page the core made
     * read-only for another reason is not ours to allow. */
    if (!d->on || page >= d->pages || !test_bit(d->guarded, page))
        return false;
    struct slat_walk w;
    /* The walk gives the page's other permissions, which must survive:
     * only write is handed back, never execute or read the core took. */
    if (!slat_walk(s, page * SLAT_4K, &w))
        return false;
    /* The first write since the last harvest: record it and let it and all
     * later writes through. */
    if (slat_protect(s, page * SLAT_4K, SLAT_4K, w.perms | SLAT_W))
        return false;
    /* The order matters only for a reader: the page is now writable and
     * dirty, and no longer the log's to unprotect at dirty_stop.  The
     * caller flushes the page's stale read-only translation and resumes
     * the guest at the same instruction, which now completes. */
    set_bit(d->dirty, page);
    clear_bit(d->guarded, page);
    d->writes_caught++;
    return true;
}

uint64_t dirty_harvest(struct dirty_log *d, struct slat *s, uint64_t first, uint64_t n,
                       uint64_t *out, bool clear)
{
    uint64_t count = 0;
    /* `out` is indexed from `first`, so a guest can harvest a window of
     * RAM into a small buffer; pages past the end of RAM read as clean. */
    memset(out, 0, (size_t)((n + 63) / 64 * 8));
    for (uint64_t i = 0; i < n && first + i < d->pages; i++) {
        uint64_t page = first + i;
        if (!test_bit(d->dirty, page))
            continue;
        set_bit(out, i);
        count++;
        /* Start over for this page: the next write is caught again.  The
         * page is a 4 KiB page by now (dirty_start split RAM), so guarding
         * it needs no table and cannot fail. */
        if (clear && d->on) {
            clear_bit(d->dirty, page);
            dirty_guard(d, s, page);
        }
    }
    return count;
}

void dirty_stop(struct dirty_log *d, struct slat *s)
{
    /* Only the pages the log itself protected get write back: a page that
     * was read-only before the log started stays read-only after it.  The
     * 2 MiB pages dirty_start split stay split; merging them back is not
     * needed: a later log finds them already 4 KiB and guards them. */
    for (uint64_t page = 0; page < d->pages; page++) {
        struct slat_walk w;
        if (!test_bit(d->guarded, page))
            continue;
        clear_bit(d->guarded, page);
        if (slat_walk(s, page * SLAT_4K, &w))
            slat_protect(s, page * SLAT_4K, SLAT_4K, w.perms | SLAT_W);
    }
    d->on = false;
}

/* hv's own stores into guest RAM do not pass the second-level tables (hv
 * writes through its own mapping of the RAM block), so no fault records
 * them: guestmem_hv_write calls this instead, or a migration would copy a
 * stale page. */
void dirty_mark(struct dirty_log *d, uint64_t page)
{
    if (d->on && page < d->pages)
        set_bit(d->dirty, page);
}

/* A page the guest itself made read-only (guestmem.c: guestmem_protect)
 * is no longer the log's to unprotect: forgetting it keeps a later write
 * fault and dirty_stop from handing back the write the guest took away. */
void dirty_forget(struct dirty_log *d, uint64_t page)
{
    if (page < d->pages)
        clear_bit(d->guarded, page);
}
