/*
 * paging.c - the extended page table entry format (SDM vol 3C 29.3 "The
 * Extended Page Table Mechanism (EPT)").
 *
 * Like SVM's nested paging, EPT translates every guest-physical address
 * through a second set of tables, rooted at the EPT pointer in the VMCS.
 * The core builds and walks the tables (core/slat.c); this file only says
 * how an entry looks.  Unlike NPT's, EPT entries have a format of their own
 * (29.3.2 "EPT Translation Mechanism", tables 29-1 to 29-6): bits 0, 1 and 2
 * are read, write and execute permissions instead of P, R/W and U/S, an
 * entry with all three clear is not present, and a leaf carries its memory
 * type in bits 5:3.  Put it beside hv/svm/paging.c.
 *
 * Pure code, compiled hosted too (tests/unit/test_hv_slat.c).
 */
#include "defs.h"
#include "paging.h"

/* A table pointer: read, write and execute allowed through it.  The CPU
 * ANDs the permissions of all levels (29.3.3.2 "EPT Violations"), so the
 * restrictions live in the leaves.  There is no U/S bit to remember, unlike
 * NPT. */
static uint64_t ept_table(uint64_t pa)
{
    return pa | EPT_READ | EPT_WRITE | EPT_EXEC;
}

/* A leaf: the permissions as they are (slat_perms_ok() has refused the
 * write-without-read misconfiguration, and execute-only where the CPU lacks
 * it), memory type write-back with IPAT = 0, so that the guest's own PAT
 * combines with it as under NPT (29.3.7.2 "Memory Type Used for Translated
 * Guest-Physical Addresses"), and bit 7 for a 2 MiB page. */
static uint64_t ept_leaf(uint64_t pa, unsigned perms, bool large)
{
    uint64_t e = pa | EPT_MEMTYPE_WB;
    if (perms & SLAT_R)
        e |= EPT_READ;
    if (perms & SLAT_W)
        e |= EPT_WRITE;
    if (perms & SLAT_X)
        e |= EPT_EXEC;
    if (large)
        e |= EPT_LARGE;
    return e;
}

/* What an entry allows: bits 2:0 themselves. */
static unsigned ept_perms(uint64_t e)
{
    return ((e & EPT_READ) ? SLAT_R : 0) | ((e & EPT_WRITE) ? SLAT_W : 0) |
           ((e & EPT_EXEC) ? SLAT_X : 0);
}

const struct slat_format vmx_ept_format = {
    .name = "EPT",
    .table = ept_table,
    .leaf = ept_leaf,
    .perms = ept_perms,
};
