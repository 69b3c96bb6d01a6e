/*
 * paging.c - extended page tables (SDM Vol. 3C 29.3 "The Extended Page Table
 * Mechanism (EPT)").
 *
 * Like SVM's nested paging, EPT translates every guest-physical address
 * through a second set of tables rooted at the EPT pointer in the VMCS.
 * Unlike NPT, EPT entries have their own format (29.3.2, tables 29-1 to
 * 29-6): bits 0/1/2 are read/write/execute permissions instead of P/RW/US,
 * and a leaf carries its memory type in bits 5:3.  The layout is the same
 * as hv/svm/paging.c: all of guest RAM at guest-physical 0 in 2-MiB pages on
 * one contiguous host block; any other address is an EPT violation (exit
 * reason 48), which the core reports as a nested page fault.
 */
#include "klib.h"

#include "core/alloc.h"
#include "core/log.h"
#include "internal.h"

/* A non-leaf entry: read, write and execute allowed through it (29.3.2).
 * The permissions of all levels are ANDed, so a table entry must grant
 * everything its leaves may grant.  There is no U/S bit to remember, unlike
 * NPT, where every level needs U/S = 1 because nested accesses count as
 * user accesses.  An entry with bits 2:0 all clear is "not present", so the
 * zero-filled pages page_alloc() hands out are empty tables. */
#define EPT_TABLE (EPT_READ | EPT_WRITE | EPT_EXEC)

/* The span of one page-directory entry and of one PDPT entry. */
#define SZ_2M (2ull << 20)
#define SZ_1G (1ull << 30)

/*
 * Build the EPT tables for `mem`, for vmx_vcpu_init(): the returned PML4's
 * physical address, with the memory type and walk length, becomes the EPT
 * pointer (25.6.11), the counterpart of the VMCB's N_CR3.  Returns NULL
 * when host memory runs out or guest RAM is misaligned.  The tables never
 * change afterwards.  VMX tags cached EPT translations with the EPTP
 * (29.4), and this EPTP was never used before the first entry, so no INVEPT
 * is needed either (SVM's backend asks for one flush at the first VMRUN).
 */
uint64_t *vmx_ept_build(const struct guest_mem *mem)
{
    /* hv only accepts up to 3 GiB of guest RAM (cmdline.h), so one PML4
     * entry (512 GiB) and one page-directory-pointer table are enough. */
    uint64_t *pml4 = page_alloc(4096, 4096);
    uint64_t *pdpt = page_alloc(4096, 4096);
    if (!pml4 || !pdpt)
        return NULL;
    /* Table pointers hold host-physical addresses: the CPU walks EPT by
     * physical address, never through hv's own paging.  Bits 11:0 of a
     * table pointer are flags, so the 4-KiB alignment leaves them free. */
    pml4[0] = virt_to_phys(pdpt) | EPT_TABLE;
    uint64_t host = virt_to_phys(mem->host);
    /* The host block must be 2 MiB aligned for 2 MiB pages. */
    if (host & (SZ_2M - 1)) {
        hv_log("vmx: guest RAM at %#llx is not 2 MiB aligned", (unsigned long long)host);
        return NULL;
    }
    /* cmdline.c rounds mem= up to a multiple of 2 MiB, so the last page
     * ends exactly at the end of guest RAM and of the host block. */
    for (uint64_t gpa = 0; gpa < mem->size; gpa += SZ_2M) {
        /* Which GiB, hence which PDPT entry, this 2 MiB page belongs to. */
        unsigned pdpt_i = (unsigned)(gpa / SZ_1G);
        /* A page directory per GiB, allocated when first needed. */
        if (!(pdpt[pdpt_i] & EPT_TABLE)) {
            uint64_t *pd = page_alloc(4096, 4096);
            if (!pd)
                return NULL;
            pdpt[pdpt_i] = virt_to_phys(pd) | EPT_TABLE;
        }
        /* Back from the entry's physical address to a pointer: the identity
         * map of boot/entry.S makes them the same number. */
        uint64_t *pd = (uint64_t *)(uintptr_t)(pdpt[pdpt_i] & ~0xfffull);
        /* A 2-MiB leaf (bit 7), all access allowed, memory type write-back;
         * IPAT = 0, so the guest's own PAT combines with it (29.3.7.2), as
         * it does under NPT. */
        pd[(gpa / SZ_2M) % 512] =
            (host + gpa) | EPT_READ | EPT_WRITE | EPT_EXEC | EPT_MEMTYPE_WB | EPT_LARGE;
    }
    return pml4;
}
