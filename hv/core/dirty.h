/*
 * dirty.h - dirty-page tracking: which pages of guest RAM the guest wrote
 * since hv last asked.
 *
 * The primitive that save/restore, savevm and live migration stand on: copy
 * all of RAM once, then only what changed since.  The trick is the second-
 * level tables' write permission:
 *
 *   start    write-protect every writable RAM page (the guest does not
 *            notice: its own page tables still say writable);
 *   a write  to a protected page exits (NPF / EPT violation, a translation
 *            present but forbidding the write): record the page in the
 *            bitmap, make it writable again, let the guest retry.  Later
 *            writes to it cost nothing;
 *   harvest  read the bitmap and, to catch the next writes, clear it and
 *            write-protect those pages again;
 *   stop     make every page the log protected writable again.
 *
 * After start, harvest with clear, and stop, the caller flushes the
 * second-level TLB (the CPU may still hold writable translations); after a
 * caught write it flushes that page.
 *
 * hv's own stores into a running guest's memory (INS, emulated MMIO
 * instructions, hypercall results) do not pass the tables: they are
 * recorded by dirty_mark (guestmem.c: guestmem_hv_write).  The loader's,
 * made before the guest runs, need no log.
 *
 * Pure code over caller-provided bitmaps, compiled hosted too
 * (tests/unit/test_hv_dirty.c).
 */
#ifndef HV_CORE_DIRTY_H
#define HV_CORE_DIRTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memmap.h"
#include "slat.h"

struct dirty_log {
    uint64_t pages;    /* 4 KiB pages of the RAM block */
    uint64_t *dirty;   /* bit per page: written since the last harvest */
    uint64_t *guarded; /* bit per page: write-protected by the log itself */
    bool on;
    uint64_t writes_caught; /* exits the log handled, for the statistics */
};

/* Bytes of each of the two bitmaps for `ram_size` bytes of RAM. */
size_t dirty_bitmap_bytes(uint64_t ram_size);

/* A log that is off, over bitmaps of dirty_bitmap_bytes(ram_size) each. */
void dirty_init(struct dirty_log *d, uint64_t ram_size, uint64_t *dirty, uint64_t *guarded);

/* Start logging: clear the bitmap, write-protect every mapped writable page
 * of the map's RAM ranges.  Returns 0 or a SLAT_E* error. */
int dirty_start(struct dirty_log *d, struct slat *s, const struct memmap *m);

/* A write the tables refused at gpa: true when it was the log's doing (the
 * page is marked dirty and writable again: flush it and let the guest
 * retry), false when the log has nothing to do with it. */
bool dirty_write_fault(struct dirty_log *d, struct slat *s, uint64_t gpa);

/* Copy the dirty bits of pages [first, first + n) into out (bit i = page
 * first + i; out holds (n + 63) / 64 words) and return how many are set.
 * With `clear`, also clear them and write-protect those pages again. */
uint64_t dirty_harvest(struct dirty_log *d, struct slat *s, uint64_t first, uint64_t n,
                       uint64_t *out, bool clear);

/* Write-protect one page for the log (if it is mapped and writable), for
 * a page mapped while the log runs (lazy mode).  Returns 0 or a SLAT_E*
 * error. */
int dirty_guard(struct dirty_log *d, struct slat *s, uint64_t page);

/* Stop logging: every page the log protected is writable again. */
void dirty_stop(struct dirty_log *d, struct slat *s);

/* hv itself stored into page `page` for the guest (an emulated store,
 * INS, a hypercall's result): record it as the guest's own write would be.
 * The page stays guarded, so the guest's next write exits once more and
 * changes nothing. */
void dirty_mark(struct dirty_log *d, uint64_t page);

/* The core made page `page` read-only for another reason: the log must
 * not make it writable on the next write. */
void dirty_forget(struct dirty_log *d, uint64_t page);

#endif
