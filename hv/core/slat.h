/*
 * slat.h - second-level address translation tables: the one builder and
 * walker behind AMD's nested page tables (NPT, APM vol 2 15.25 "Nested
 * Paging") and Intel's extended page tables (EPT, SDM vol 3C 29.3 "The
 * Extended Page Table Mechanism (EPT)").
 *
 * With second-level translation the CPU translates every guest-physical
 * address (what the guest thinks is physical memory) through a second set
 * of tables that hv owns, to a host-physical address.  Both vendors use the
 * same shape: four levels of 512 eight-byte entries, indexed by 9 bits of
 * the guest-physical address each (bits 47:39, 38:30, 29:21, 20:12); an
 * entry holds the host-physical address of the next table or of the page
 * in bits 51:12, and bit 7 in a level-1 entry (the "page directory") says it
 * maps a whole 2 MiB page itself.  Only the permission and memory-type bits
 * differ, so a backend supplies just those (struct slat_format: hv/svm/
 * paging.c, hv/vmx/paging.c) and everything else is here: map, unmap,
 * protect and walk, with 4 KiB and 2 MiB pages, splitting a 2 MiB page when
 * a 4 KiB piece of it changes.
 *
 * After unmap or protect the CPU may still hold the old translation in its
 * TLB: the caller asks the backend to flush (INVEPT, or SVM's TLB control).
 *
 * Pure code over memory the caller allocates, compiled hosted too
 * (tests/unit/test_hv_slat.c builds and walks tables in both formats).
 */
#ifndef HV_CORE_SLAT_H
#define HV_CORE_SLAT_H

#include <stdbool.h>
#include <stdint.h>

/* What a mapping allows, vendor-neutral.  0 means not mapped. */
#define SLAT_R   1u
#define SLAT_W   2u
#define SLAT_X   4u
#define SLAT_RWX (SLAT_R | SLAT_W | SLAT_X)

/* The two page sizes the builder uses, and the span of a level-2 entry. */
#define SLAT_4K 0x1000ull
#define SLAT_2M 0x200000ull
#define SLAT_1G 0x40000000ull

/* The tables translate 48-bit guest-physical addresses (a 4-level walk). */
#define SLAT_GPA_LIMIT (1ull << 48)

/* What a format can express besides read/write/execute together.  Both
 * can always take write away (read-only and read-execute pages). */
#define SLAT_CAP_NOEXEC 1u /* pages without execute: EPT always; NPT with host EFER.NXE */
#define SLAT_CAP_XONLY  2u /* execute-only pages: EPT when IA32_VMX_EPT_VPID_CAP bit 0 */

/* A vendor's entry format. */
struct slat_format {
    /* "NPT" or "EPT", for messages and the table graph. */
    const char *name;
    /* A non-leaf entry pointing at the table at host-physical `pa`.  It
     * grants everything: the CPU combines the permissions of all levels,
     * so restrictions live in the leaves only. */
    uint64_t (*table)(uint64_t pa);
    /* A leaf mapping the page at host-physical `pa` with `perms` (never 0,
     * always one the caps allow), write-back; `large`: a 2 MiB page in a
     * level-1 entry (bit 7 set). */
    uint64_t (*leaf)(uint64_t pa, unsigned perms, bool large);
    /* The permissions an entry grants; 0 when it is not present. */
    unsigned (*perms)(uint64_t entry);
};

/* One tree of tables. */
struct slat {
    const struct slat_format *fmt;
    unsigned caps;  /* SLAT_CAP_* this CPU supports */
    uint64_t *root; /* the level-3 table (PML4): N_CR3 / the EPT pointer */
    /* A zeroed, 4 KiB aligned page whose address is also its host-physical
     * address (hv identity-maps its memory; alloc.h), or NULL when memory
     * runs out.  free_page may be NULL: tables are then never given back. */
    void *(*alloc_page)(void);
    void (*free_page)(void *page);
    unsigned tables; /* table pages in use, the root included */
};

/* Errors (negative) the operations return. */
#define SLAT_EINVAL (-1) /* misaligned, empty or out of range */
#define SLAT_EPERM  (-2) /* permissions this format/CPU cannot express */
#define SLAT_ENOMEM (-3) /* no page for a table */

/* An error's meaning in words. */
const char *slat_strerror(int err);

/* Can the format express `perms` on this CPU?  (Write needs read; execute
 * without read needs SLAT_CAP_XONLY; read without execute SLAT_CAP_NOEXEC.) */
bool slat_perms_ok(const struct slat *s, unsigned perms);

/* An empty tree (the root table only).  Returns 0 or SLAT_ENOMEM. */
int slat_init(struct slat *s, const struct slat_format *fmt, unsigned caps,
              void *(*alloc_page)(void), void (*free_page)(void *));

/* Give back every table of the tree, the root last (with free_page), when
 * its domain is torn down; tables becomes 0 and root NULL.  The CPU must
 * no longer use the tables: no vCPU on them runs again. */
void slat_destroy(struct slat *s);

/* Map [gpa, gpa + len) to [hpa, hpa + len) with perms, replacing whatever
 * was mapped there: with 2 MiB pages where both addresses are 2 MiB aligned
 * and the range covers the whole page, else 4 KiB pages.  gpa, hpa and len
 * must be 4 KiB aligned.  On SLAT_ENOMEM part of the range may be mapped. */
int slat_map(struct slat *s, uint64_t gpa, uint64_t hpa, uint64_t len, unsigned perms);

/* Unmap [gpa, gpa + len) (4 KiB aligned); what was not mapped stays so. */
int slat_unmap(struct slat *s, uint64_t gpa, uint64_t len);

/* Give the mapped pages of [gpa, gpa + len) (4 KiB aligned) the
 * permissions perms (not 0: use slat_unmap), leaving their addresses and
 * the unmapped pages as they are. */
int slat_protect(struct slat *s, uint64_t gpa, uint64_t len, unsigned perms);

/* What a walk of one guest-physical address found, level by level. */
struct slat_walk {
    /* The entries read: entry[3] from the PML4, entry[0] from a page
     * table; those below the level that ended the walk are 0. */
    uint64_t entry[4];
    /* The level that ended the walk: the leaf's (0 for a 4 KiB page, 1 for
     * 2 MiB, 2 for 1 GiB) or the one whose entry was not present. */
    int level;
    /* When mapped: the host-physical address, the page size and what the
     * page allows. */
    uint64_t hpa;
    uint64_t page_size;
    unsigned perms;
};

/* Walk the tables for gpa as the CPU would.  True when it is mapped. */
bool slat_walk(const struct slat *s, uint64_t gpa, struct slat_walk *w);

/* One leaf, for slat_visit. */
struct slat_leaf {
    uint64_t gpa, hpa, size;
    unsigned perms;
};

/* Call fn for every leaf, in guest-physical order. */
void slat_visit(const struct slat *s, void (*fn)(void *ctx, const struct slat_leaf *leaf),
                void *ctx);

#endif
