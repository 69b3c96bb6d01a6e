/*
 * guestmem.h - a guest's memory as hv manages it while the guest runs: the
 * second-level tables (slat.h) built from the domain's memory map
 * (memmap.h) over its RAM block (gmem.h), demand paging and dirty logging
 * (dirty.h).
 *
 * The core owns all of it; a backend only supplies the entry format and
 * flushes.  Reading order: guestmem_init() builds the tables (or, in lazy
 * mode, leaves them empty); guestmem_violation() is the core's answer to a
 * nested page fault / EPT violation that is about RAM; guestmem_protect()
 * changes a page's permissions at run time.
 *
 * Pure code over memory the caller hands in, compiled hosted too
 * (tests/unit/test_hv_guestmem.c).
 */
#ifndef HV_CORE_GUESTMEM_H
#define HV_CORE_GUESTMEM_H

#include <stdbool.h>
#include <stddef.h>

#include "dirty.h"
#include "gmem.h"
#include "memmap.h"
#include "slat.h"

struct guestmem {
    const struct guest_mem *ram; /* the domain's RAM block, at guest-physical 0 */
    const struct memmap *map;    /* the domain's memory map: what lies where */
    struct slat slat;            /* the second-level tables */
    /* npt=lazy: RAM is mapped a page at a time, on first touch. */
    bool lazy;
    /* Pages mapped on first touch so far (the statistics show them). */
    uint64_t lazy_maps;
    /* Dirty logging; its bitmaps come from `alloc` when first started. */
    struct dirty_log dirty;
    /* Zeroed memory of `bytes` (a multiple of 4 KiB), 4 KiB aligned, or
     * NULL: for tables (one page) and the dirty bitmaps; and its way back,
     * for a page table a 2 MiB page replaces (may be NULL: kept then). */
    void *(*alloc)(size_t bytes);
    void (*free)(void *p);
};

/*
 * The guest's memory map: the PC layout of memmap_pc() for `ram` bytes, with
 * AMD's HyperTransport window when the guest sees an AMD CPU with 40 or more
 * physical address bits, as QEMU's PC machine reports it then.  Returns 0,
 * or -1 with the reason in err.
 */
int guestmem_layout(struct memmap *m, uint64_t ram, char *err, size_t err_len);

/*
 * Set up g for the RAM block `ram` laid out as `map` (both stay the
 * caller's, e.g. the domain's): second-level tables in the backend's entry
 * format `fmt` with the CPU's capabilities `caps` (SLAT_CAP_*).  Eager (lazy = false): every RAM
 * range of the map is mapped now, read/write/execute, with 2 MiB pages where the alignment allows.
 * Lazy: nothing is mapped; guestmem_violation() maps each page when the guest first touches it.
 * Returns 0, or -1 with the reason in err.
 */
int guestmem_init(struct guestmem *g, const struct guest_mem *ram, const struct memmap *map,
                  bool lazy, const struct slat_format *fmt, unsigned caps,
                  void *(*alloc)(size_t bytes), void (*free)(void *p), char *err, size_t err_len);

/* What guestmem_violation() did. */
enum guestmem_verdict {
    GM_NOT_RAM,     /* not RAM's business: MMIO, a hole, or a real violation */
    GM_LAZY_MAPPED, /* the page was mapped on first touch: retry */
    GM_DIRTY,       /* the first write to a page, logged and allowed: retry */
};

/*
 * A second-level violation at gpa (write: the access was a write; present:
 * a translation existed but forbade the access).  Maps a lazy page or logs a
 * dirty one and returns what it did, with the page to flush in *flush (the
 * caller flushes it from the TLB before the guest retries); GM_NOT_RAM when
 * neither applies, and the core decides (MMIO, or the guest is ended).
 */
enum guestmem_verdict guestmem_violation(struct guestmem *g, uint64_t gpa, bool write, bool present,
                                         uint64_t *flush);

/*
 * Give the RAM pages of [gpa, gpa + len) (4 KiB aligned) the permissions
 * perms (SLAT_R/W/X; not 0) from now on: a read-only or no-execute page for
 * a teaching guest.  The caller flushes the range.  Returns 0 or a SLAT_E*
 * error.
 */
int guestmem_protect(struct guestmem *g, uint64_t gpa, uint64_t len, unsigned perms);

/*
 * hv is about to store into [gpa, gpa + len) of guest RAM for the guest
 * (gmem.h: before_write).  Refuses (false) when a page is not RAM or is a
 * page the guest made read-only (guestmem_protect): the guest's own store
 * would have faulted.  Otherwise records the pages in the dirty log when
 * it runs, and returns true.  ctx is the guestmem.
 */
bool guestmem_hv_write(void *ctx, uint64_t gpa, uint64_t len);

/* The check alone, recording nothing: for a caller that must know before
 * it does something it cannot undo (a harvest that clears the log). */
bool guestmem_hv_may_write(struct guestmem *g, uint64_t gpa, uint64_t len);

/* Give back the tables and the dirty log's bitmaps (with the free function
 * of guestmem_init; without one they are kept), when the domain is torn
 * down.  The counters (lazy_maps, the log's writes_caught) stay for the
 * final report. */
void guestmem_destroy(struct guestmem *g);

/* Dirty logging (dirty.h): start (allocating the bitmaps the first time),
 * harvest pages [first, first + n) into out, stop.  The caller flushes all
 * second-level translations after start, a harvest with clear, and stop.
 * Start returns 0 or a SLAT_E* error. */
int guestmem_dirty_start(struct guestmem *g);
uint64_t guestmem_dirty_harvest(struct guestmem *g, uint64_t first, uint64_t n, uint64_t *out,
                                bool clear);
void guestmem_dirty_stop(struct guestmem *g);

#endif
