/*
 * slat.c - the second-level table builder and walker (see slat.h).
 *
 * Reading order: the geometry helpers, descend() (find an entry, creating
 * or splitting tables on the way), apply() (map, unmap and protect as one
 * loop over the range), then the walk and the visit.
 *
 * Levels are numbered as in slat.h: 3 is the PML4, 2 the page-directory-
 * pointer table, 1 the page directory, 0 the page table.  An entry at level
 * L covers 2^(12 + 9L) bytes: 512 GiB, 1 GiB, 2 MiB, 4 KiB.
 */
#include "klib.h"

#include "slat.h"

/* Bits both formats share (APM vol 2 5.4.1 "Field Definitions" for NPT, which uses long-mode
 * entries (15.25.5 "Nested Table Walk"); SDM vol 3C 29.3.2 "EPT
 * Translation Mechanism" and its entry tables for EPT): the next table's or
 * the page's host-physical address in bits 51:12, and bit 7, which in a
 * level-1 or level-2 entry makes it a leaf mapping a 2 MiB or 1 GiB page. */
#define ENTRY_ADDR  0x000ffffffffff000ull
#define ENTRY_LARGE (1ull << 7)
/* One past the highest host-physical address bits 51:12 can hold. */
#define HPA_LIMIT (1ull << 52)

/* The bytes one entry at `level` covers. */
static uint64_t span(int level)
{
    return 1ull << (12 + 9 * level);
}

/* Which of the 512 entries of a level-`level` table translates gpa. */
static unsigned index_of(uint64_t gpa, int level)
{
    return (unsigned)(gpa >> (12 + 9 * level)) & 511;
}

/* The table an entry points at.  Entries hold host-physical addresses;
 * hv's identity map makes that number a pointer (alloc.h). */
static uint64_t *table_at(uint64_t entry)
{
    return (uint64_t *)(uintptr_t)(entry & ENTRY_ADDR);
}

/* A present entry at level 1 or 2 with bit 7 set maps a page itself. */
static bool is_large(uint64_t entry, int level)
{
    return (level == 1 || level == 2) && (entry & ENTRY_LARGE);
}

const char *slat_strerror(int err)
{
    switch (err) {
    case SLAT_EINVAL:
        return "range not 4 KiB aligned, empty, or beyond the 48-bit guest-physical space";
    case SLAT_EPERM:
        return "permissions the second-level tables of this CPU cannot express";
    case SLAT_ENOMEM:
        return "out of memory for second-level tables";
    default:
        return "no error";
    }
}

bool slat_perms_ok(const struct slat *s, unsigned perms)
{
    /* Only the three bits, and at least one: 0 is "not mapped". */
    if (perms == 0 || (perms & ~SLAT_RWX))
        return false;
    /* Writable but not readable: NPT cannot say it (present means
     * readable), and EPT calls it a misconfiguration (SDM vol 3C 29.3.3.1
     * "EPT Misconfigurations"). */
    if ((perms & SLAT_W) && !(perms & SLAT_R))
        return false;
    /* Execute-only: EPT only, and only when the CPU says so (SDM vol 3D
     * A.10 "VPID and EPT Capabilities", bit 0). */
    if (!(perms & SLAT_R))
        return (s->caps & SLAT_CAP_XONLY) != 0;
    /* Readable but not executable: EPT's X bit, or NPT's NX bit, which
     * needs the host's EFER.NXE (the nested walk uses the host's paging
     * mode, APM vol 2 15.25.5 "Nested Table Walk"). */
    if (!(perms & SLAT_X))
        return (s->caps & SLAT_CAP_NOEXEC) != 0;
    return true;
}

/* A new, empty table (all entries not present), counted. */
static uint64_t *new_table(struct slat *s)
{
    uint64_t *t = s->alloc_page();
    if (t)
        s->tables++;
    return t;
}

/* Give back the table an entry at `level` points at, with the tables below
 * it, when the entry is about to be overwritten. */
static void drop_table(struct slat *s, uint64_t entry, int level)
{
    /* Leaves and empty entries own no table. */
    if (level == 0 || !s->fmt->perms(entry) || is_large(entry, level))
        return;
    uint64_t *t = table_at(entry);
    /* The tables below first: a page directory's page tables. */
    for (unsigned i = 0; i < 512; i++)
        drop_table(s, t[i], level - 1);
    s->tables--;
    if (s->free_page)
        s->free_page(t);
}

/*
 * Split the large leaf *e at `level` into a table of 512 leaves one level
 * down with the same addresses and permissions, so that one piece of the
 * page can change without the guest noticing any difference in the rest.
 */
static int split(struct slat *s, uint64_t *e, int level)
{
    uint64_t *t = new_table(s);
    if (!t)
        return SLAT_ENOMEM;
    /* The page's base: a large page is aligned to its size, and the bits
     * below it (NPT's PAT bit 12, EPT's reserved bits) are not address. */
    uint64_t base = *e & ENTRY_ADDR & ~(span(level) - 1);
    unsigned perms = s->fmt->perms(*e);
    for (unsigned i = 0; i < 512; i++)
        t[i] = s->fmt->leaf(base + i * span(level - 1), perms, level - 1 > 0);
    /* The new table is complete before the entry points at it: a CPU
     * walking the tables meanwhile sees either the old page or the new
     * table, never half of one. */
    *e = s->fmt->table((uint64_t)(uintptr_t)t);
    return 0;
}

/*
 * The entry that translates gpa at level `want`.  On the way down, a
 * missing table is created when `create` is set; otherwise NULL is returned
 * with *skip the size of the region the missing entry covers (nothing in
 * it is mapped, so the caller can step over it).  A large leaf on the way
 * is split.  NULL with *rc set means no memory for a table.
 */
static uint64_t *descend(struct slat *s, uint64_t gpa, int want, bool create, uint64_t *skip,
                         int *rc)
{
    uint64_t *table = s->root;
    *rc = 0;
    for (int level = 3; level > want; level--) {
        uint64_t *e = &table[index_of(gpa, level)];
        if (!s->fmt->perms(*e)) {
            /* Nothing below: either build the table or report the gap. */
            if (!create) {
                *skip = span(level);
                return NULL;
            }
            uint64_t *t = new_table(s);
            if (!t) {
                *rc = SLAT_ENOMEM;
                return NULL;
            }
            *e = s->fmt->table((uint64_t)(uintptr_t)t);
        } else if (is_large(*e, level)) {
            /* A page bigger than the level we want: break it up. */
            *rc = split(s, e, level);
            if (*rc)
                return NULL;
        }
        table = table_at(*e);
    }
    return &table[index_of(gpa, want)];
}

int slat_init(struct slat *s, const struct slat_format *fmt, unsigned caps,
              void *(*alloc_page)(void), void (*free_page)(void *))
{
    memset(s, 0, sizeof(*s));
    s->fmt = fmt;
    s->caps = caps;
    s->alloc_page = alloc_page;
    s->free_page = free_page;
    /* An empty PML4: every guest-physical address misses. */
    s->root = new_table(s);
    return s->root ? 0 : SLAT_ENOMEM;
}

void slat_destroy(struct slat *s)
{
    if (!s->root)
        return;
    /* Every table under the root, then the root: the tree is gone, and
     * the pages go back to whoever free_page returns them to.  Without
     * free_page they cannot go anywhere; the tree is only forgotten. */
    for (unsigned i = 0; i < 512; i++)
        drop_table(s, s->root[i], 3);
    s->tables--;
    if (s->free_page)
        s->free_page(s->root);
    s->root = NULL;
}

/* The three operations share one loop over the range. */
enum slat_op { OP_MAP, OP_UNMAP, OP_PROTECT };

/* One 2 MiB-or-smaller step of apply() at gpa, with `left` bytes to go.
 * Returns the bytes done (> 0) or an error. */
static int64_t apply_step(struct slat *s, enum slat_op op, uint64_t gpa, uint64_t hpa,
                          uint64_t left, unsigned perms)
{
    uint64_t skip = 0;
    int rc;
    /* Does this step cover a whole, aligned 2 MiB page? */
    bool whole = !(gpa & (SLAT_2M - 1)) && left >= SLAT_2M;
    /* The page-directory entry first: it decides between a 2 MiB step
     * and 4 KiB steps.  Only mapping creates tables. */
    uint64_t *pde = descend(s, gpa, 1, op == OP_MAP, &skip, &rc);
    if (!pde) {
        if (rc)
            return rc;
        /* Nothing is mapped up to the next boundary of the missing level. */
        uint64_t step = skip - (gpa & (skip - 1));
        return (int64_t)(step < left ? step : left);
    }
    bool present = s->fmt->perms(*pde) != 0;
    if (op == OP_MAP && whole && !(hpa & (SLAT_2M - 1))) {
        /* One 2 MiB leaf; a page table that was there goes. */
        drop_table(s, *pde, 1);
        *pde = s->fmt->leaf(hpa, perms, true);
        return (int64_t)SLAT_2M;
    }
    if (op != OP_MAP && !present) {
        /* Nothing mapped in this 2 MiB region: step to its end. */
        uint64_t step = SLAT_2M - (gpa & (SLAT_2M - 1));
        return (int64_t)(step < left ? step : left);
    }
    if (op != OP_MAP && whole) {
        /* The whole 2 MiB: change the entry itself, not each piece.  A
         * page table's leaves are unmapped with it; protecting one goes
         * on below, leaf by leaf. */
        if (op == OP_UNMAP) {
            drop_table(s, *pde, 1);
            *pde = 0;
            return (int64_t)SLAT_2M;
        }
        if (is_large(*pde, 1)) {
            *pde = s->fmt->leaf(*pde & ENTRY_ADDR & ~(SLAT_2M - 1), perms, true);
            return (int64_t)SLAT_2M;
        }
    }
    /* A 4 KiB piece: down to the page table, splitting a 2 MiB leaf. */
    uint64_t *pte = descend(s, gpa, 0, op == OP_MAP, &skip, &rc);
    if (!pte)
        return rc ? rc : (int64_t)SLAT_4K;
    if (op == OP_MAP)
        *pte = s->fmt->leaf(hpa, perms, false);
    else if (s->fmt->perms(*pte))
        *pte = op == OP_UNMAP ? 0 : s->fmt->leaf(*pte & ENTRY_ADDR, perms, false);
    return (int64_t)SLAT_4K;
}

/* Check the range and the permissions, then step through the range. */
static int apply(struct slat *s, enum slat_op op, uint64_t gpa, uint64_t hpa, uint64_t len,
                 unsigned perms)
{
    /* 4 KiB granularity, no wrap, within the 48 bits a 4-level walk
     * translates, and host addresses an entry can hold (52 bits). */
    if (len == 0 || ((gpa | hpa | len) & (SLAT_4K - 1)) || gpa >= SLAT_GPA_LIMIT ||
        len > SLAT_GPA_LIMIT - gpa || hpa >= HPA_LIMIT || len > HPA_LIMIT - hpa)
        return SLAT_EINVAL;
    if (op != OP_UNMAP && !slat_perms_ok(s, perms))
        return SLAT_EPERM;
    while (len) {
        int64_t done = apply_step(s, op, gpa, hpa, len, perms);
        if (done < 0)
            return (int)done;
        gpa += (uint64_t)done;
        hpa += (uint64_t)done;
        len -= (uint64_t)done;
    }
    return 0;
}

int slat_map(struct slat *s, uint64_t gpa, uint64_t hpa, uint64_t len, unsigned perms)
{
    return apply(s, OP_MAP, gpa, hpa, len, perms);
}

int slat_unmap(struct slat *s, uint64_t gpa, uint64_t len)
{
    return apply(s, OP_UNMAP, gpa, 0, len, 0);
}

int slat_protect(struct slat *s, uint64_t gpa, uint64_t len, unsigned perms)
{
    return apply(s, OP_PROTECT, gpa, 0, len, perms);
}

/* LAB 02: BEGIN slat-walk (labs/02-second-level-paging, exercise 2) */
/* LAB 02: HINT Start at the root; at each level read the entry for gpa.
 * Not present: record the level and stop.  A leaf (level 0, or bit 7 at
 * level 1 or 2): the page's base is the entry's address bits without the
 * offset bits of a page that size; add gpa's offset within the page. */
/* LAB 02: STUB bool slat_walk(const struct slat *s, uint64_t gpa, struct slat_walk *w) */
/* LAB 02: STUB { (void)s; (void)gpa; memset(w, 0, sizeof(*w)); return false; } */
bool slat_walk(const struct slat *s, uint64_t gpa, struct slat_walk *w)
{
    memset(w, 0, sizeof(*w));
    w->level = 3;
    /* Beyond 48 bits the tables say nothing (the CPU would not even walk). */
    if (gpa >= SLAT_GPA_LIMIT)
        return false;
    const uint64_t *table = s->root;
    for (int level = 3; level >= 0; level--) {
        uint64_t e = table[index_of(gpa, level)];
        w->entry[level] = e;
        w->level = level;
        /* Not present: the CPU would exit here (NPF / EPT violation). */
        if (!s->fmt->perms(e))
            return false;
        if (level == 0 || is_large(e, level)) {
            /* A leaf: the page's base plus gpa's offset inside the page. */
            w->page_size = span(level);
            w->hpa = (e & ENTRY_ADDR & ~(w->page_size - 1)) | (gpa & (w->page_size - 1));
            w->perms = s->fmt->perms(e);
            return true;
        }
        table = table_at(e);
    }
    /* Not reached: level 0 always ends the loop. */
    return false;
}
/* LAB 02: END */

/* Visit the table at `level` that covers guest-physical addresses from
 * `base`, leaves in order. */
static void visit(const struct slat *s, const uint64_t *table, int level, uint64_t base,
                  void (*fn)(void *ctx, const struct slat_leaf *leaf), void *ctx)
{
    for (unsigned i = 0; i < 512; i++) {
        uint64_t e = table[i];
        uint64_t gpa = base + i * span(level);
        if (!s->fmt->perms(e))
            continue;
        if (level == 0 || is_large(e, level)) {
            struct slat_leaf leaf = {.gpa = gpa,
                                     .hpa = e & ENTRY_ADDR & ~(span(level) - 1),
                                     .size = span(level),
                                     .perms = s->fmt->perms(e)};
            fn(ctx, &leaf);
        } else {
            visit(s, table_at(e), level - 1, gpa, fn, ctx);
        }
    }
}

void slat_visit(const struct slat *s, void (*fn)(void *ctx, const struct slat_leaf *leaf),
                void *ctx)
{
    visit(s, s->root, 3, 0, fn, ctx);
}
