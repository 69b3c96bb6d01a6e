/*
 * paging.c - nested page tables (APM vol 2 15.25 "Nested Paging").
 *
 * With nested paging the CPU translates every guest-physical address through
 * a second set of page tables, in the same long-mode format as ordinary
 * ones (15.25.5), rooted at the VMCB's N_CR3.  hv maps all of guest RAM at
 * guest-physical 0 with 2 MiB pages onto one contiguous host block; any
 * other guest-physical address misses and causes a nested page fault
 * (VMEXIT_NPF), which the core reports.
 */
#include "klib.h"

#include "core/alloc.h"
#include "core/log.h"
#include "internal.h"

/* Entry bits (APM vol 2 5.4.1).  Nested-page accesses are treated as user
 * accesses (15.25.5), so every level needs U/S = 1. */
#define PTE_P  (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_PS (1ull << 7) /* in a PDE: this maps a 2 MiB page */

/* The span of one page-directory entry and of one PDPT entry. */
#define SZ_2M (2ull << 20)
#define SZ_1G (1ull << 30)

/*
 * Build the nested page tables for `mem`, for svm_vcpu_init(): the
 * returned PML4's physical address goes into the VMCB's N_CR3.  Returns
 * NULL when host memory runs out or guest RAM is misaligned (both are
 * reported by the caller ending hv).  The tables never change afterwards,
 * so no TLB flush is ever needed beyond the first VMRUN's.
 */
uint64_t *svm_npt_build(const struct guest_mem *mem)
{
    /* hv only accepts up to 3 GiB of guest RAM (cmdline.h), so one PML4
     * entry (512 GiB) and one page-directory-pointer table are enough. */
    uint64_t *pml4 = page_alloc(4096, 4096);
    uint64_t *pdpt = page_alloc(4096, 4096);
    if (!pml4 || !pdpt)
        return NULL;
    /* Table pointers hold physical addresses: the CPU walks the nested
     * tables by host-physical address, never through hv's own paging.
     * Zeroed pages mean every other entry is not present, so any address
     * outside guest RAM takes a nested page fault. */
    pml4[0] = virt_to_phys(pdpt) | PTE_P | PTE_RW | PTE_US;
    uint64_t host = virt_to_phys(mem->host);
    /* The host block must be 2 MiB aligned for 2 MiB pages. */
    if (host & (SZ_2M - 1)) {
        hv_log("svm: guest RAM at %#llx is not 2 MiB aligned", (unsigned long long)host);
        return NULL;
    }
    /* cmdline.c rounds mem= up to a multiple of 2 MiB, so the last page
     * ends exactly at the end of guest RAM and of the host block. */
    for (uint64_t gpa = 0; gpa < mem->size; gpa += SZ_2M) {
        /* Which GiB, hence which PDPT entry, this 2 MiB page belongs to. */
        unsigned pdpt_i = (unsigned)(gpa / SZ_1G);
        /* A page directory per GiB, allocated when first needed. */
        if (!(pdpt[pdpt_i] & PTE_P)) {
            uint64_t *pd = page_alloc(4096, 4096);
            if (!pd)
                return NULL;
            pdpt[pdpt_i] = virt_to_phys(pd) | PTE_P | PTE_RW | PTE_US;
        }
        /* Back from the entry's physical address to a pointer: the identity
         * map of boot/entry.S makes them the same number. */
        uint64_t *pd = (uint64_t *)(uintptr_t)(pdpt[pdpt_i] & ~0xfffull);
        /* Memory type: PAT index 0 (PWT = PCD = PAT = 0), write-back with the
         * default PAT; the guest's own PAT combines with it (15.25.8). */
        pd[(gpa / SZ_2M) % 512] = (host + gpa) | PTE_P | PTE_RW | PTE_US | PTE_PS;
    }
    return pml4;
}
