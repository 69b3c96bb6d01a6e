/*
 * gva.c - guest memory as the guest sees it (gva.h): guest-linear to
 * guest-physical translation in software, for the times hv must touch
 * memory the way the guest does (INS/OUTS address memory through DS:RSI /
 * ES:RDI; an instruction is fetched at CS:RIP; the monitor reads what a
 * pointer points at).  hv's guests use flat segments, so linear = the
 * register's value; with paging on we walk the guest's tables as the CPU
 * would (AMD APM vol 2 5.3 "Long-Mode Page Translation" and 5.2 "Legacy-Mode
 * Page Translation"; SDM vol 3A 4.3 "32-Bit Paging", 4.4 "PAE Paging", 4.5
 * "4-Level Paging and 5-Level Paging").  Permissions are not checked.
 *
 * All four modes are one walk with different numbers: how many levels, how
 * wide an entry, how many index bits per level, where large pages may be.
 */
#include "klib.h"

#include "cpu.h"
#include "domain.h"
#include "gva.h"
#include "hv.h"

/* Entry bits every mode shares: present, page size, and the address bits
 * 51:12 of a 64-bit entry (31:12 of a 32-bit one). */
#define PTE_P        (1ull << 0)
#define PTE_PS       (1ull << 7)
#define ADDR_MASK_64 0x000ffffffffff000ull
#define ADDR_MASK_32 0xfffff000ull

/* CR4.LA57 (SDM vol 3A 2.5 "Control Registers"): 5-level paging in long
 * mode. */
#define CR4_LA57 (1ull << 12)

/* A paging mode's numbers (SDM vol 3A 4.1.1 "Four Paging Modes"). */
struct mode {
    const char *name;
    int top;             /* the level CR3 points at */
    unsigned entry_size; /* 4 or 8 bytes */
    unsigned bits;       /* index bits per level: 10 (32-bit) or 9 */
    uint64_t root;       /* guest-physical address of the top table */
    uint64_t addr_mask;  /* an entry's address bits */
    bool large1, large2; /* PS allowed at level 1 (4/2 MiB), level 2 (1 GiB) */
};

/* The mode is chosen exactly as the CPU chooses it: CR0.PG, then EFER.LMA
 * (4 or, with CR4.LA57, 5 levels), then CR4.PAE (3 levels), else 2-level
 * 32-bit paging.  Returns false with paging off. */
static bool pick_mode(const struct gva_ctx *c, struct mode *m)
{
    if (!(c->cr0 & CR0_PG))
        return false;
    if (c->efer & EFER_LMA) {
        /* 512 8-byte entries a level; 2 MiB and 1 GiB pages. */
        bool la57 = (c->cr4 & CR4_LA57) != 0;
        *m = (struct mode){la57 ? "5-level" : "4-level", la57 ? 4 : 3, 8,    9,
                           c->cr3 & ADDR_MASK_64,        ADDR_MASK_64, true, true};
    } else if (c->cr4 & CR4_PAE) {
        /* Four PDPTEs at CR3[31:5], then 512-entry PD and PT; PAE always
         * allows 2 MiB pages. */
        *m = (struct mode){"PAE", 2, 8, 9, c->cr3 & 0xffffffe0u, ADDR_MASK_64, true, false};
    } else {
        /* 1024 4-byte entries a level; 4 MiB pages only with CR4.PSE.
         * PSE-36's address bits 39:32 (PDE bits 20:13) are not used: hv's
         * guest RAM is below 4 GiB. */
        *m = (struct mode){
            "32-bit", 1, 4, 10, c->cr3 & ADDR_MASK_32, ADDR_MASK_32, (c->cr4 & CR4_PSE) != 0,
            false};
    }
    return true;
}

struct gva_ctx gva_ctx_of(struct vcpu *v)
{
    /* The paging mode and tables: control registers and EFER. */
    vcpu_need(v, VCPU_CR | VCPU_EFER);
    return (struct gva_ctx){v->cr0, v->cr3, v->cr4, v->efer, &v->dom->mem};
}

const char *gva_fault_name(enum gva_fault f)
{
    switch (f) {
    case GVA_OK:
        return "ok";
    case GVA_NONCANONICAL:
        return "non-canonical address";
    case GVA_NOT_PRESENT:
        return "not present";
    case GVA_RESERVED_BIT:
        return "reserved bit set";
    case GVA_OUTSIDE_RAM:
        return "outside guest RAM";
    case GVA_WRITE_PROTECTED:
        return "write-protected";
    }
    return "?";
}

/* Long mode: bits 63 down to the top translated bit (47, or 56 with five
 * levels) must all be copies of that bit, or the CPU raises #GP (SDM vol 1
 * 3.3.7.1 "Canonical Addressing"). */
static bool canonical(uint64_t gva, int top)
{
    unsigned width = 12 + 9 * (unsigned)(top + 1);
    return (uint64_t)((int64_t)(gva << (64 - width)) >> (64 - width)) == gva;
}

/* Is bit 7 (PS) of an entry at `level` reserved in this mode?  In a PML4E
 * and a PML5E it must be 0; a PAE PDPTE has no PS either. */
static bool ps_reserved(const struct mode *m, int level)
{
    return (m->entry_size == 8 && level >= 3) || (m->top == 2 && level == 2);
}

/* Walk the tables of mode m for gva, filling w.  Returns w->fault. */
static enum gva_fault walk(const struct gva_ctx *c, const struct mode *m, uint64_t gva,
                           struct gva_walk *w)
{
    uint64_t table = m->root;
    for (int level = m->top; level >= 0; level--) {
        unsigned shift = 12 + m->bits * (unsigned)level;
        /* PAE's top table has only four entries (address bits 31:30). */
        uint64_t mask = (m->top == 2 && level == 2) ? 3 : (1ull << m->bits) - 1;
        w->level = level;
        w->entry_gpa = table + ((gva >> shift) & mask) * m->entry_size;
        /* The guest's tables are in guest-physical memory: the entry must be
         * in RAM, or the CPU would take a nested page fault. */
        const uint8_t *p = gmem_ptr(c->mem, w->entry_gpa, m->entry_size);
        /* A 4-byte entry lands in the low half (x86 is little-endian). */
        w->entry = 0;
        if (!p)
            return w->fault = GVA_OUTSIDE_RAM;
        memcpy(&w->entry, p, m->entry_size);
        uint64_t e = w->entry;
        if (!(e & PTE_P))
            return w->fault = GVA_NOT_PRESENT;
        bool ps = (e & PTE_PS) != 0;
        if (ps && ps_reserved(m, level))
            return w->fault = GVA_RESERVED_BIT;
        /* A large page where the mode allows one, or the last level. */
        if (level == 0 || (ps && ((level == 1 && m->large1) || (level == 2 && m->large2)))) {
            w->page_size = 1ull << shift;
            w->gpa = (e & m->addr_mask & ~(w->page_size - 1)) | (gva & (w->page_size - 1));
            return w->fault = GVA_OK;
        }
        /* Not a page: the entry points at the next table. */
        table = e & m->addr_mask;
    }
    /* Not reached: level 0 always returns. */
    return w->fault = GVA_NOT_PRESENT;
}

enum gva_fault gva_translate(const struct gva_ctx *c, uint64_t gva, struct gva_walk *w)
{
    memset(w, 0, sizeof(*w));
    struct mode m;
    if (!pick_mode(c, &m)) {
        /* No paging: linear = physical (32 bits outside long mode). */
        w->mode = "none";
        w->gpa = gva & 0xffffffffu;
        return w->fault = GVA_OK;
    }
    w->mode = m.name;
    w->level = m.top;
    if (m.entry_size == 8 && m.top >= 3 && !canonical(gva, m.top))
        return w->fault = GVA_NONCANONICAL;
    return walk(c, &m, gva, w);
}

/* The table names of SDM vol 3A 4.5 "4-Level Paging and 5-Level Paging", by level; 32-bit and PAE
 * use the lower ones too. */
static const char *const level_names[] = {"PT", "PD", "PDPT", "PML4", "PML5"};

void gva_explain(const struct gva_walk *w, char *buf, unsigned long len)
{
    if (w->fault == GVA_OK)
        ksnprintf(buf, len, "%s paging: gpa %#llx in a %llu KiB page", w->mode,
                  (unsigned long long)w->gpa, (unsigned long long)(w->page_size >> 10));
    else if (w->fault == GVA_NONCANONICAL)
        ksnprintf(buf, len, "%s paging: address not canonical", w->mode);
    else if (w->fault == GVA_OUTSIDE_RAM && w->page_size)
        ksnprintf(buf, len, "%s paging: maps gpa %#llx, outside guest RAM", w->mode,
                  (unsigned long long)w->gpa);
    else if (w->fault == GVA_WRITE_PROTECTED)
        ksnprintf(buf, len, "%s paging: maps gpa %#llx, a page the guest may not write", w->mode,
                  (unsigned long long)w->gpa);
    else if (w->fault == GVA_OUTSIDE_RAM)
        ksnprintf(buf, len, "%s paging: %s entry at gpa %#llx, outside guest RAM", w->mode,
                  level_names[w->level], (unsigned long long)w->entry_gpa);
    else
        ksnprintf(buf, len, "%s: %s paging, %s entry at gpa %#llx is %#llx",
                  gva_fault_name(w->fault), w->mode, level_names[w->level],
                  (unsigned long long)w->entry_gpa, (unsigned long long)w->entry);
}

int guest_read_phys(const struct guest_mem *mem, uint64_t gpa, void *buf, uint64_t len)
{
    const uint8_t *p = gmem_ptr(mem, gpa, len);
    if (!p)
        return -1;
    memcpy(buf, p, len);
    return 0;
}

/*
 * Copy between buf and the linear range [gva, gva + len), one piece per 4
 * KiB page so that each piece is contiguous in guest-physical memory.  A
 * failure part way leaves the pieces before it copied, as a CPU access
 * that faults on its second page may; the caller reports it.
 */
static int copy_virt(const struct gva_ctx *c, uint64_t gva, uint8_t *buf, uint64_t len, bool write,
                     struct gva_walk *why)
{
    struct gva_walk w;
    while (len) {
        /* The bytes left in this 4 KiB page. */
        uint64_t piece = 0x1000 - (gva & 0xfff);
        if (piece > len)
            piece = len;
        if (gva_translate(c, gva, &w) == GVA_OK) {
            /* A guest page table may point outside guest RAM: refuse it
             * here rather than let hv read or write host memory.  A store
             * asks gmem_write_ptr, which also keeps read-only pages so and
             * tells the dirty log. */
            uint8_t *p =
                write ? gmem_write_ptr(c->mem, w.gpa, piece) : gmem_ptr(c->mem, w.gpa, piece);
            if (!p)
                w.fault =
                    gmem_range_ok(c->mem, w.gpa, piece) ? GVA_WRITE_PROTECTED : GVA_OUTSIDE_RAM;
            else if (write)
                memcpy(p, buf, piece);
            else
                memcpy(buf, p, piece);
        }
        if (w.fault != GVA_OK) {
            if (why)
                *why = w;
            return -1;
        }
        gva += piece;
        buf += piece;
        len -= piece;
    }
    return 0;
}

int guest_read_virt(const struct gva_ctx *c, uint64_t gva, void *buf, uint64_t len,
                    struct gva_walk *why)
{
    return copy_virt(c, gva, buf, len, false, why);
}

int guest_read_linear(struct vcpu *v, uint64_t gva, void *buf, uint64_t len)
{
    struct gva_ctx c = gva_ctx_of(v);
    return copy_virt(&c, gva, buf, len, false, NULL);
}

/* Write protection is not checked: the guest is at CPL 0 when hv writes
 * for it (INS). */
int guest_write_linear(struct vcpu *v, uint64_t gva, const void *buf, uint64_t len)
{
    struct gva_ctx c = gva_ctx_of(v);
    return copy_virt(&c, gva, (uint8_t *)(uintptr_t)buf, len, true, NULL);
}
