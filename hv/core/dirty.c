/*
 * dirty.c - dirty-page tracking through write protection (see dirty.h).
 */
#include "klib.h"

#include "dirty.h"

/* One bit per page, 64 pages per word. */
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
    /* Whole 64-bit words: one per 64 pages, rounded up. */
    return (size_t)((ram_size / SLAT_4K + 63) / 64 * 8);
}

void dirty_init(struct dirty_log *d, uint64_t ram_size, uint64_t *dirty, uint64_t *guarded)
{
    memset(d, 0, sizeof(*d));
    d->pages = ram_size / SLAT_4K;
    d->dirty = dirty;
    d->guarded = guarded;
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
    if (!slat_walk(s, gpa, &w) || !(w.perms & SLAT_W))
        return 0;
    /* A 2 MiB page is split here: from now on RAM is tracked page by page. */
    int rc = slat_protect(s, gpa, SLAT_4K, w.perms & ~SLAT_W);
    if (rc == 0)
        set_bit(d->guarded, page);
    return rc;
}

int dirty_start(struct dirty_log *d, struct slat *s, const struct memmap *m)
{
    memset(d->dirty, 0, (size_t)((d->pages + 63) / 64 * 8));
    d->on = true;
    /* Every page of every RAM range; other ranges are never mapped. */
    for (unsigned i = 0; i < m->n; i++) {
        const struct mem_range *r = &m->r[i];
        if (r->kind != MEM_RAM)
            continue;
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
    if (!slat_walk(s, page * SLAT_4K, &w))
        return false;
    /* The first write since the last harvest: record it and let it and all
     * later writes through. */
    if (slat_protect(s, page * SLAT_4K, SLAT_4K, w.perms | SLAT_W))
        return false;
    set_bit(d->dirty, page);
    clear_bit(d->guarded, page);
    d->writes_caught++;
    return true;
}

uint64_t dirty_harvest(struct dirty_log *d, struct slat *s, uint64_t first, uint64_t n,
                       uint64_t *out, bool clear)
{
    uint64_t count = 0;
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

void dirty_mark(struct dirty_log *d, uint64_t page)
{
    if (d->on && page < d->pages)
        set_bit(d->dirty, page);
}

void dirty_forget(struct dirty_log *d, uint64_t page)
{
    if (page < d->pages)
        clear_bit(d->guarded, page);
}
