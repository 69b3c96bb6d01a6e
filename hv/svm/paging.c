/*
 * paging.c - the nested page table entry format (APM vol 2 15.25 "Nested
 * Paging").
 *
 * With nested paging the CPU translates every guest-physical address through
 * a second set of page tables rooted at the VMCB's N_CR3, in the host's own
 * long-mode format (15.25.5 "Nested Table Walk"): the same P, R/W, U/S and
 * NX bits as an ordinary page-table entry.  The core builds and walks the
 * tables (core/slat.c); this file only says how an entry looks.  Put it
 * beside hv/vmx/paging.c: that is all the vendors differ in.
 *
 * Pure code, compiled hosted too (tests/unit/test_hv_slat.c).
 */
#include "paging.h"

/* Entry bits (APM vol 2 5.4.1 "Field Definitions"). */
#define PTE_P  (1ull << 0)  /* present: readable */
#define PTE_RW (1ull << 1)  /* writable */
#define PTE_US (1ull << 2)  /* user accessible */
#define PTE_PS (1ull << 7)  /* in a page-directory entry: a 2 MiB page */
#define PTE_NX (1ull << 63) /* no execute (needs the host's EFER.NXE) */

/* LAB 02: BEGIN npt-entry (labs/02-second-level-paging, exercise 1) */
/* LAB 02: HINT Every nested access counts as a user access (APM vol 2
 * 15.25.5 "Nested Table Walk"), so every entry needs U/S as well as P.  A table pointer allows
 * everything (R/W set, NX clear); a leaf sets R/W only for SLAT_W, NX when
 * there is no SLAT_X, and PS for a 2 MiB page. */
/* LAB 02: STUB static uint64_t npt_table(uint64_t pa) { return pa; } */
/* LAB 02: STUB static uint64_t npt_leaf(uint64_t pa, unsigned perms, bool large) */
/* LAB 02: STUB { (void)perms; (void)large; return pa; } */
/* A table pointer: present, writable, user.  Nested-page accesses are
 * treated as user accesses (15.25.5 "Nested Table Walk"), so every level needs U/S = 1 or the
 * guest faults on everything; the restrictions live in the leaves. */
static uint64_t npt_table(uint64_t pa)
{
    return pa | PTE_P | PTE_RW | PTE_US;
}

/* A leaf.  Present is readable (NPT has no write-only or execute-only
 * pages; slat_perms_ok() keeps such requests away).  PWT = PCD = PAT = 0 is
 * PAT entry 0, write-back with the default PAT; the guest's own PAT then
 * combines with it (15.25.8 "Combining Memory Types, MTRRs"). */
static uint64_t npt_leaf(uint64_t pa, unsigned perms, bool large)
{
    uint64_t e = pa | PTE_P | PTE_US;
    if (perms & SLAT_W)
        e |= PTE_RW;
    if (!(perms & SLAT_X))
        e |= PTE_NX;
    if (large)
        e |= PTE_PS;
    return e;
}
/* LAB 02: END */

/* What an entry allows: nothing unless present; then read, write with R/W,
 * execute without NX. */
static unsigned npt_perms(uint64_t e)
{
    if (!(e & PTE_P))
        return 0;
    return SLAT_R | ((e & PTE_RW) ? SLAT_W : 0) | ((e & PTE_NX) ? 0 : SLAT_X);
}

const struct slat_format svm_npt_format = {
    .name = "NPT",
    .table = npt_table,
    .leaf = npt_leaf,
    .perms = npt_perms,
};
