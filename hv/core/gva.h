/*
 * gva.h - reading and writing guest memory the way the guest sees it: by
 * guest-physical address, and by guest-linear (virtual) address through the
 * guest's own page tables, with the reason when a translation fails.
 *
 * Users: the dispatcher's string I/O and instruction fetches (through the
 * *_linear functions), and the exit trace; later the monitor's x/xp, info
 * mem and info tlb.  Pure code over guest RAM, compiled hosted too
 * (tests/unit/test_hv_gva.c).
 */
#ifndef HV_CORE_GVA_H
#define HV_CORE_GVA_H

#include <stdint.h>

#include "gmem.h"
#include "vcpu.h"

/* What the CPU would see when it translates: the paging controls and the
 * guest's RAM.  gva_ctx_of() fills it from a vCPU. */
struct gva_ctx {
    uint64_t cr0, cr3, cr4, efer;
    const struct guest_mem *mem;
};

/* Why a translation failed, or GVA_OK. */
enum gva_fault {
    GVA_OK,
    /* Not canonical in long mode: the CPU raises #GP before paging. */
    GVA_NONCANONICAL,
    /* An entry has P = 0: the guest would take a #PF. */
    GVA_NOT_PRESENT,
    /* An entry sets a bit that must be 0 at its level (PS in a PML4E or
     * PML5E, or in a PAE PDPTE): #PF with the RSVD error code bit. */
    GVA_RESERVED_BIT,
    /* A table, or the page itself, lies outside guest RAM: the CPU would
     * take a nested page fault there; hv refuses rather than read or
     * write host memory. */
    GVA_OUTSIDE_RAM,
    /* hv was to store into a page the guest may not write (gmem.h,
     * gmem_write_ptr): the guest's own store would have faulted too. */
    GVA_WRITE_PROTECTED,
};

/* One translation, level by level, for the trace and the monitor. */
struct gva_walk {
    enum gva_fault fault;
    /* "none", "32-bit", "PAE", "4-level" or "5-level". */
    const char *mode;
    /* Result when GVA_OK: the guest-physical address and the page size
     * that mapped it (0 with paging off). */
    uint64_t gpa;
    uint64_t page_size;
    /* The level that ended the walk (0 = page table, 1 = page directory,
     * ... 4 = PML5), the guest-physical address of its entry and the
     * entry's value (for GVA_OUTSIDE_RAM on the page itself: the leaf). */
    int level;
    uint64_t entry_gpa;
    uint64_t entry;
};

/* The context of a vCPU's current paging state. */
struct gva_ctx gva_ctx_of(struct vcpu *v);

/* Translate one linear address as the CPU would (permissions are not
 * checked).  Returns w->fault. */
enum gva_fault gva_translate(const struct gva_ctx *c, uint64_t gva, struct gva_walk *w);

/* A fault's meaning in a few words, e.g. "not present". */
const char *gva_fault_name(enum gva_fault f);

/* One line describing a failed walk, e.g. "not present: 4-level PD entry
 * at gpa 0x12008 is 0" (at most `len` bytes). */
void gva_explain(const struct gva_walk *w, char *buf, unsigned long len);

/* Copy guest-physical memory into buf: 0, or -1 when any byte is outside
 * guest RAM. */
int guest_read_phys(const struct guest_mem *mem, uint64_t gpa, void *buf, uint64_t len);

/* Copy guest memory at a linear address into buf, page by page.  Returns 0,
 * or -1 with the failing translation in *why (may be NULL). */
int guest_read_virt(const struct gva_ctx *c, uint64_t gva, void *buf, uint64_t len,
                    struct gva_walk *why);

/* The same for a vCPU, for the dispatcher: string I/O, fetching the
 * instruction at RIP, reading IDT gate 8.  Returns 0 or -1. */
int guest_read_linear(struct vcpu *v, uint64_t gva, void *buf, uint64_t len);
int guest_write_linear(struct vcpu *v, uint64_t gva, const void *buf, uint64_t len);

#endif
