/*
 * guestmem.c - a guest's memory at run time (guestmem.h): the tables built
 * from the memory map, demand paging, run-time permissions, dirty logging.
 *
 * This is the one place where the memory map (memmap.c: what lies where),
 * the second-level tables (slat.c: how the CPU finds it) and the dirty log
 * (dirty.c: what changed) meet.  The vendor backends only report a refused
 * guest-physical access (APM vol 2 15.25.6 "Nested versus Guest Page
 * Faults, Fault Ordering", SDM vol 3C 29.3.3 "EPT-Induced VM Exits") and
 * flush what this file tells them to; every decision about guest RAM is
 * made here, once, for both vendors.
 */
#include "klib.h"

#include "cpu.h"
#include "guestmem.h"

/* The allocator of the guestmem being set up, for slat.h's page source and
 * sink (which take no context): every domain's tables come from the same
 * heap, so the last one set up speaks for all. */
static void *(*table_alloc)(size_t bytes);
static void (*table_free)(void *p);

/* slat.c asks for one 4 KiB page per new table: a table is 512 eight-byte
 * entries and must be page aligned, since an entry holds only bits 51:12
 * of the next table's address (SDM vol 3C 29.3.2 "EPT Translation
 * Mechanism", APM vol 2 15.25.5 "Nested Table Walk"). */
static void *table_page(void)
{
    return table_alloc(SLAT_4K);
}

static void table_unpage(void *p)
{
    table_free(p);
}

int guestmem_layout(struct memmap *m, uint64_t ram, char *err, size_t err_len)
{
    /* The guest sees the host's vendor and address width (cpuid.c passes
     * leaves 0 and 0x80000008 through), so it expects the map QEMU gives
     * such a CPU: QEMU reserves the HyperTransport window for AMD CPUs
     * whose physical address width reaches it (40 bits, 1 TiB). */
    struct cpuid_regs v = cpuid(0);
    /* The vendor string comes in EBX, EDX, ECX order, four ASCII bytes a
     * register, little-endian: "Auth" "enti" "cAMD" (APM vol 3 appendix E
     * "Obtaining Processor Information Via the CPUID Instruction").  Leaf
     * 0x80000008 EAX bits 7:0 are the physical address width. */
    bool amd = v.ebx == 0x68747541 && v.edx == 0x69746e65 && v.ecx == 0x444d4163; /* AuthenticAMD */
    bool wide = cpuid(0x80000000).eax >= 0x80000008 && (cpuid(0x80000008).eax & 0xff) >= 40;
    return memmap_pc(m, ram, amd && wide, err, err_len);
}

/* The host-physical address of guest-physical gpa in RAM: the RAM block is
 * contiguous, and hv's identity map makes its pointer the physical address
 * (alloc.h). */
static uint64_t host_of(const struct guestmem *g, uint64_t gpa)
{
    return (uint64_t)(uintptr_t)g->ram->host + gpa;
}

/* Map every RAM range of the map, joining neighbours (the EBDA starts at
 * 639 KiB, inside a 4 KiB page that low memory shares), so that each
 * stretch of RAM is one slat_map() with as many 2 MiB pages as fit. */
static int map_all_ram(struct guestmem *g)
{
    /* Large pages matter: a 2 MiB page is one TLB entry where 512 small
     * ones would compete, and on a miss every guest table read is itself
     * a walk of these tables (APM vol 2 15.25.5 "Nested Table Walk"), so fewer misses are
     * the cheapest speed a hypervisor has.  slat_map picks the sizes. */
    const struct memmap *m = g->map;
    for (unsigned i = 0; i < m->n;) {
        if (m->r[i].kind != MEM_RAM) {
            i++;
            continue;
        }
        /* The stretch of touching RAM ranges from range i on. */
        uint64_t start = m->r[i].base, end = start + m->r[i].size;
        for (i++; i < m->n && m->r[i].kind == MEM_RAM && m->r[i].base == end; i++)
            end += m->r[i].size;
        /* Every permission: RAM is the guest's own, and its page tables
         * decide what each of its programs may do.  The effective rights
         * are the intersection of both levels, so nothing here widens
         * what the guest itself forbids. */
        int rc = slat_map(&g->slat, start, host_of(g, start), end - start, SLAT_RWX);
        /* Out of table pages: the caller names the size that failed and
         * no guest runs on half a map. */
        if (rc)
            return rc;
    }
    return 0;
}

int guestmem_init(struct guestmem *g, const struct guest_mem *ram, const struct memmap *map,
                  bool lazy, const struct slat_format *fmt, unsigned caps,
                  void *(*alloc)(size_t bytes), void (*free)(void *p), char *err, size_t err_len)
{
    /* Everything starts zeroed, and so the dirty log starts off, with no
     * bitmaps: they are allocated only if the guest asks for a log. */
    memset(g, 0, sizeof(*g));
    g->ram = ram;
    g->map = map;
    g->lazy = lazy;
    g->alloc = alloc;
    g->free = free;
    /* A page table that a 2 MiB page replaces goes back, when it can: with
     * no free function slat.c can only forget it (slat.c: drop_table). */
    table_alloc = alloc;
    table_free = free;
    int rc = slat_init(&g->slat, fmt, caps, table_page, free ? table_unpage : NULL);
    /* Lazy: the tables stay empty, and every first touch of a page exits. */
    if (!rc && !lazy)
        rc = map_all_ram(g);
    if (rc) {
        ksnprintf(err, err_len, "%s: cannot map %llu MiB of guest RAM: %s", fmt->name,
                  (unsigned long long)(ram->size >> 20), slat_strerror(rc));
        return -1;
    }
    return 0;
}

/* Demand paging: the first touch of a RAM page maps it. */
static enum guestmem_verdict lazy_map(struct guestmem *g, uint64_t gpa, uint64_t *flush)
{
    uint64_t page = gpa & ~(SLAT_4K - 1);
    /* One 4 KiB page per fault, never a 2 MiB one: hv's closing log counts the
     * faults (ending.c), and each page costing one exit is what makes
     * the count mean "pages the guest touched".  A failed map (no table
     * page left) is handed back as not RAM, which ends the guest with the
     * faulting address rather than retrying the same fault for ever. */
    if (slat_map(&g->slat, page, host_of(g, page), SLAT_4K, SLAT_RWX))
        return GM_NOT_RAM;
    /* While the dirty log runs, a page comes in write-protected like all
     * the others, so that its first write is logged too. */
    if (g->dirty.on)
        dirty_guard(&g->dirty, &g->slat, page / SLAT_4K);
    g->lazy_maps++;
    /* A not-present entry is not cached as a translation, but the flush
     * is cheap and keeps one rule for every change: the caller flushes
     * what this file reports (SDM vol 3C 29.4.3.1 "Operations that
     * Invalidate Cached Mappings", APM vol 2 15.16.1 "TLB Flush"). */
    *flush = page;
    return GM_LAZY_MAPPED;
}

enum guestmem_verdict guestmem_violation(struct guestmem *g, uint64_t gpa, bool write, bool present,
                                         uint64_t *flush)
{
    const struct mem_range *r = memmap_find(g->map, gpa);
    /* Only RAM is this file's business: MMIO and holes go back to the core,
     * which hands MMIO to the instruction emulator and its device, and
     * ends the guest on a hole. */
    if (!r || r->kind != MEM_RAM)
        return GM_NOT_RAM;
    /* No translation at all: in lazy mode, the page's first touch. */
    if (!present)
        return g->lazy ? lazy_map(g, gpa, flush) : GM_NOT_RAM;
    /* A translation that forbade a write: the dirty log's, if it set it. */
    if (write && dirty_write_fault(&g->dirty, &g->slat, gpa)) {
        *flush = gpa & ~(SLAT_4K - 1);
        return GM_DIRTY;
    }
    /* A write to a page the guest made read-only itself, or an execute
     * the permissions forbid: a real violation, reported by the core. */
    return GM_NOT_RAM;
}

int guestmem_protect(struct guestmem *g, uint64_t gpa, uint64_t len, unsigned perms)
{
    /* Only RAM is mapped; a range running into anything else is refused
     * rather than half done. */
    if (len == 0 || gpa + len < gpa || gpa + len > g->ram->size)
        return SLAT_EINVAL;
    for (uint64_t a = gpa; a < gpa + len; a += SLAT_4K) {
        const struct mem_range *r = memmap_find(g->map, a);
        if (!r || r->kind != MEM_RAM)
            return SLAT_EINVAL;
    }
    /* In lazy mode, pages not touched yet are mapped now: otherwise their
     * first touch would map them with every permission. */
    for (uint64_t a = gpa; g->lazy && a < gpa + len; a += SLAT_4K) {
        struct slat_walk w;
        if (!slat_walk(&g->slat, a, &w) &&
            slat_map(&g->slat, a & ~(SLAT_4K - 1), host_of(g, a & ~(SLAT_4K - 1)), SLAT_4K,
                     SLAT_RWX))
            return SLAT_ENOMEM;
    }
    /* The new permissions replace the old ones whole, so a guest can give
     * back what it took away (read-only, then read-write again).  The
     * caller flushes the range: the CPU may still hold the old rights. */
    int rc = slat_protect(&g->slat, gpa, len, perms);
    /* A page made read-only here must stay so when the dirty log would
     * otherwise give write back on its next write. */
    if (!rc && !(perms & SLAT_W))
        for (uint64_t a = gpa; a < gpa + len; a += SLAT_4K)
            dirty_forget(&g->dirty, a / SLAT_4K);
    return rc;
}

/* Is the page at gpa one the guest may write?  Mapped without write and
 * not by the dirty log: read-only by the guest's request.  Not mapped yet
 * (npt=lazy): its first touch will map it with every permission. */
static bool guest_may_write(struct guestmem *g, uint64_t gpa)
{
    struct slat_walk w;
    if (!slat_walk(&g->slat, gpa, &w) || (w.perms & SLAT_W))
        return true;
    /* Read-only only because the log guards it: the guest's own store
     * would be let through (and logged), so hv's may be too. */
    uint64_t page = gpa / SLAT_4K;
    return g->dirty.on && page < g->dirty.pages &&
           ((g->dirty.guarded[page / 64] >> (page % 64)) & 1);
}

/* hv writes guest RAM on the guest's behalf (an emulated store, INS, a
 * hypercall's result); such a store must obey the same permissions the
 * guest's own would, or HC_MEM_PROTECT could be bypassed by asking hv to
 * write the page. */
bool guestmem_hv_may_write(struct guestmem *g, uint64_t gpa, uint64_t len)
{
    if (len == 0)
        return true;
    /* Inside the RAM block at all, without wrapping: the page loop below
     * relies on it. */
    if (!gmem_range_ok(g->ram, gpa, len))
        return false;
    /* Every page of the range, from the first to the one holding the last
     * byte. */
    for (uint64_t a = gpa & ~(SLAT_4K - 1); a <= gpa + len - 1; a += SLAT_4K) {
        const struct mem_range *r = memmap_find(g->map, a);
        if (!r || r->kind != MEM_RAM || !guest_may_write(g, a))
            return false;
    }
    return true;
}

bool guestmem_hv_write(void *ctx, uint64_t gpa, uint64_t len)
{
    struct guestmem *g = ctx;
    /* Check every page first: a refused store changes nothing. */
    if (!guestmem_hv_may_write(g, gpa, len))
        return false;
    /* Now the store will happen (gmem.h: the caller writes after this
     * returns true), so every page it touches is dirty.  The pages stay
     * guarded: hv's store does not pass the tables, so there is no fault
     * to catch and nothing to unprotect. */
    for (uint64_t a = gpa & ~(SLAT_4K - 1); len && a <= gpa + len - 1; a += SLAT_4K)
        dirty_mark(&g->dirty, a / SLAT_4K);
    return true;
}

void guestmem_destroy(struct guestmem *g)
{
    /* The tables go first: the guest must not run again after this (the
     * core calls it when the domain ends), and its bitmaps mean nothing
     * without them. */
    slat_destroy(&g->slat);
    /* The dirty log's two bitmaps, if it was ever started. */
    if (g->free && g->dirty.dirty) {
        g->free(g->dirty.dirty);
        g->free(g->dirty.guarded);
    }
    /* A harvest or stop after destroy then finds no log instead of freed
     * memory. */
    g->dirty.dirty = g->dirty.guarded = NULL;
    g->dirty.on = false;
}

int guestmem_dirty_start(struct guestmem *g)
{
    /* The bitmaps, the first time: kept for every later start, given back
     * by guestmem_destroy(). */
    if (!g->dirty.dirty) {
        /* Rounded to whole pages: the domain allocator hands out pages. */
        size_t bytes = (dirty_bitmap_bytes(g->ram->size) + SLAT_4K - 1) & ~(SLAT_4K - 1);
        uint64_t *a = g->alloc(bytes), *b = g->alloc(bytes);
        /* Both or neither: a log with one bitmap cannot work, and the one
         * that was allocated goes back (heap.h: a NULL is ignored). */
        if (!a || !b) {
            if (g->free) {
                g->free(a);
                g->free(b);
            }
            return SLAT_ENOMEM;
        }
        dirty_init(&g->dirty, g->ram->size, a, b);
    }
    return dirty_start(&g->dirty, &g->slat, g->map);
}

uint64_t guestmem_dirty_harvest(struct guestmem *g, uint64_t first, uint64_t n, uint64_t *out,
                                bool clear)
{
    /* Never started: nothing is dirty. */
    if (!g->dirty.dirty) {
        memset(out, 0, (size_t)((n + 63) / 64 * 8));
        return 0;
    }
    return dirty_harvest(&g->dirty, &g->slat, first, n, out, clear);
}

/* Stopping a log that never started is allowed and does nothing, so a
 * guest's cleanup path need not remember whether its start succeeded. */
void guestmem_dirty_stop(struct guestmem *g)
{
    if (g->dirty.dirty)
        dirty_stop(&g->dirty, &g->slat);
}
