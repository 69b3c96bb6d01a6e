/*
 * gva.c - guest-linear to guest-physical translation, in software, for the
 * few times hv must touch memory the way the guest sees it (string I/O:
 * INS/OUTS address memory through DS:RSI / ES:RDI).  hv's guests use flat
 * segments, so linear = the register's value; with paging on we walk the
 * guest's tables as the CPU would (AMD APM vol 2 5.3 long mode, 5.2 PAE and
 * legacy; SDM vol 3A 4.3-4.5).  Permissions are not checked: the guest is
 * at CPL 0 when it does port I/O with IOPL/TSS permission anyway.
 */
#include "klib.h"

#include "cpu.h"
#include "hv.h"

/* Present, page size, and the address bits 51:12 of a 64-bit entry. */
#define PTE_P     (1ull << 0)
#define PTE_PS    (1ull << 7)
#define ADDR_MASK 0x000ffffffffff000ull

/* Read a page-table entry of `size` bytes at guest-physical `gpa`.  Returns
 * false when the entry is outside guest RAM (the CPU would take a nested page
 * fault there) or not present (the CPU would raise #PF). */
static bool read_pte(const struct vcpu *v, uint64_t gpa, unsigned size, uint64_t *pte)
{
    /* The guest's tables are in guest-physical memory: no second walk is
     * needed, guest RAM is one block at guest-physical 0 (gmem.h). */
    const uint8_t *p = gmem_ptr(&v->mem, gpa, size);
    if (!p)
        return false;
    /* A 4-byte legacy entry lands in the low half (x86 is little-endian);
     * zeroing first leaves the high half 0. */
    *pte = 0;
    memcpy(pte, p, size);
    return (*pte & PTE_P) != 0;
}

/* Translate one linear address; false when it is not mapped.  The mode is
 * chosen exactly as the CPU chooses it: CR0.PG, then EFER.LMA (4-level), then
 * CR4.PAE (3-level), else 2-level 32-bit paging. */
static bool translate(const struct vcpu *v, uint64_t gva, uint64_t *gpa)
{
    /* The entry read at the current level. */
    uint64_t e;
    if (!(v->cr0 & CR0_PG)) {
        /* No paging: linear = physical (32 bits outside long mode). */
        *gpa = gva & 0xffffffffu;
        return true;
    }
    if (v->efer & EFER_LMA) {
        /* Long mode: 4 levels of 512 8-byte entries, 9 bits each. */
        uint64_t table = v->cr3 & ADDR_MASK;
        /* level 3 = PML4, 2 = PDPT, 1 = PD, 0 = PT: the index of each is
         * the 9 address bits above the 12 + 9 * level below it. */
        for (int level = 3; level >= 0; level--) {
            unsigned idx = (unsigned)(gva >> (12 + 9 * level)) & 0x1ff;
            if (!read_pte(v, table + idx * 8, 8, &e))
                return false;
            /* A large page at the PDPT (1 GiB) or PD (2 MiB) level. */
            if ((level == 2 || level == 1) && (e & PTE_PS)) {
                uint64_t page = 1ull << (12 + 9 * level);
                *gpa = (e & ADDR_MASK & ~(page - 1)) | (gva & (page - 1));
                return true;
            }
            /* Not a large page: the entry points at the next table. */
            table = e & ADDR_MASK;
        }
        /* After the PT, `table` is the 4 KiB page itself. */
        *gpa = table | (gva & 0xfff);
        return true;
    }
    if (v->cr4 & CR4_PAE) {
        /* PAE: 4 PDPTEs at CR3[31:5], then 512-entry PD and PT. */
        if (!read_pte(v, (v->cr3 & 0xffffffe0u) + ((gva >> 30) & 3) * 8, 8, &e))
            return false;
        /* The page directory, indexed by bits 29:21. */
        if (!read_pte(v, (e & ADDR_MASK) + ((gva >> 21) & 0x1ff) * 8, 8, &e))
            return false;
        /* PS in a PAE PDE: a 2 MiB page (PAE always allows large pages). */
        if (e & PTE_PS) {
            *gpa = (e & ADDR_MASK & ~0x1fffffull) | (gva & 0x1fffff);
            return true;
        }
        /* The page table, indexed by bits 20:12. */
        if (!read_pte(v, (e & ADDR_MASK) + ((gva >> 12) & 0x1ff) * 8, 8, &e))
            return false;
        *gpa = (e & ADDR_MASK) | (gva & 0xfff);
        return true;
    }
    /* Legacy 32-bit paging: 1024 4-byte entries per level, 4 MiB pages when
     * CR4.PSE is set.  The page directory at CR3[31:12], indexed by bits
     * 31:22. */
    if (!read_pte(v, (v->cr3 & 0xfffff000u) + ((gva >> 22) & 0x3ff) * 4, 4, &e))
        return false;
    /* Without CR4.PSE the PS bit is ignored: the entry is a table. */
    if ((v->cr4 & CR4_PSE) && (e & PTE_PS)) {
        /* PSE-36's address bits 39:32 (PDE bits 20:13) are not used:
         * hv's guest RAM is below 4 GiB. */
        *gpa = (e & 0xffc00000u) | (gva & 0x3fffff);
        return true;
    }
    /* The page table, indexed by bits 21:12. */
    if (!read_pte(v, (e & 0xfffff000u) + ((gva >> 12) & 0x3ff) * 4, 4, &e))
        return false;
    *gpa = (e & 0xfffff000u) | (gva & 0xfff);
    return true;
}

/* Byte by byte, so that an access crossing a page boundary is translated
 * page by page (strings for port I/O are a few bytes at a time). */
static int copy_linear(const struct vcpu *v, uint64_t gva, uint8_t *buf, uint64_t len, bool write)
{
    /* A failure part way leaves the bytes before it copied, as a CPU's
     * access that faults on its second page may; the caller reports it. */
    for (uint64_t i = 0; i < len; i++) {
        uint64_t gpa;
        if (!translate(v, gva + i, &gpa))
            return -1;
        /* A guest page table may point outside guest RAM: refuse it here
         * rather than let hv read or write host memory. */
        uint8_t *p = gmem_ptr(&v->mem, gpa, 1);
        if (!p)
            return -1;
        if (write)
            *p = buf[i];
        else
            buf[i] = *p;
    }
    return 0;
}

/* Guest memory at a linear address into hv's buffer, for the dispatcher
 * (OUTS, fetching a CR0-writing instruction, reading IDT gate 8).  Returns
 * 0, or -1 when any byte is unmapped or outside guest RAM. */
int guest_read_linear(const struct vcpu *v, uint64_t gva, void *buf, uint64_t len)
{
    return copy_linear(v, gva, buf, len, false);
}

/* hv's buffer into guest memory at a linear address, for INS.  Returns 0
 * or -1 as guest_read_linear().  Write protection is not checked. */
int guest_write_linear(const struct vcpu *v, uint64_t gva, const void *buf, uint64_t len)
{
    return copy_linear(v, gva, (uint8_t *)(uintptr_t)buf, len, true);
}
