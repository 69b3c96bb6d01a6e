/*
 * The page-table walks of `info tlb` and `info mem` (pagewalk.h).  The
 * entry bits are those of SDM vol 3A 4.5 "4-Level Paging and 5-Level
 * Paging" (tables 4-15 to 4-20): P 0, R/W 1, U/S 2, PWT 3, PCD 4, A 5,
 * D 6, PS 7, G 8, XD 63; the address bits run from 12 to MAXPHYADDR-1,
 * which QEMU takes as 52 bits for the monitor.
 */
#include "pagewalk.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>

#define PG_P    (1ull << 0)
#define PG_RW   (1ull << 1)
#define PG_US   (1ull << 2)
#define PG_PWT  (1ull << 3)
#define PG_PCD  (1ull << 4)
#define PG_A    (1ull << 5)
#define PG_D    (1ull << 6)
#define PG_PS   (1ull << 7)
#define PG_G    (1ull << 8)
#define PG_XD   (1ull << 63)
#define ADDR_4K 0x3fffffffff000ull /* a table's or a 4 KiB page's address */
#define ADDR_2M 0x3ffffffe00000ull /* a 2 MiB page's address */
#define ADDR_1G 0x3ffffc0000000ull /* a 1 GiB page's address */

/* A linear address in canonical form: bits 63:48 copy bit 47 (SDM vol 3A
 * 3.3.7.1 "Canonical Addressing"). */
static uint64_t canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16);
}

/* One `info tlb` line: the page, its frame, and the entry's bits. */
static void print_pte(FILE *out, uint64_t addr, uint64_t pte, uint64_t mask)
{
    fprintf(out, "%016" PRIx64 ": %016" PRIx64 " %c%c%c%c%c%c%c%c%c\n", canonical(addr), pte & mask,
            pte & PG_XD ? 'X' : '-', pte & PG_G ? 'G' : '-', pte & PG_PS ? 'P' : '-',
            pte & PG_D ? 'D' : '-', pte & PG_A ? 'A' : '-', pte & PG_PCD ? 'C' : '-',
            pte & PG_PWT ? 'T' : '-', pte & PG_US ? 'U' : '-', pte & PG_RW ? 'W' : '-');
}

/* The tables of one walk: four levels of 512 entries, on the heap. */
struct tables {
    uint64_t t[4][512];
};

/* Read a table; an unreadable one reads as all zeros (nothing present). */
static void load(hmp_table_fn read, void *ctx, uint64_t addr, uint64_t *t)
{
    if (read(ctx, addr & ADDR_4K, t) < 0)
        for (int i = 0; i < 512; i++)
            t[i] = 0;
}

void hmp_tlb_info(FILE *out, uint64_t cr3, hmp_table_fn read, void *ctx)
{
    struct tables *tb = malloc(sizeof(*tb));
    if (!tb)
        return;
    load(read, ctx, cr3, tb->t[0]);
    for (uint64_t l1 = 0; l1 < 512; l1++) {
        uint64_t e1 = tb->t[0][l1];
        if (!(e1 & PG_P))
            continue;
        load(read, ctx, e1, tb->t[1]);
        for (uint64_t l2 = 0; l2 < 512; l2++) {
            uint64_t e2 = tb->t[1][l2], a2 = l1 << 39 | l2 << 30;
            if (!(e2 & PG_P))
                continue;
            if (e2 & PG_PS) {
                print_pte(out, a2, e2, ADDR_1G);
                continue;
            }
            load(read, ctx, e2, tb->t[2]);
            for (uint64_t l3 = 0; l3 < 512; l3++) {
                uint64_t e3 = tb->t[2][l3], a3 = a2 | l3 << 21;
                if (!(e3 & PG_P))
                    continue;
                if (e3 & PG_PS) {
                    print_pte(out, a3, e3, ADDR_2M);
                    continue;
                }
                load(read, ctx, e3, tb->t[3]);
                for (uint64_t l4 = 0; l4 < 512; l4++)
                    if (tb->t[3][l4] & PG_P)
                        print_pte(out, a3 | l4 << 12, tb->t[3][l4] & ~PG_PS, ADDR_4K);
            }
        }
    }
    free(tb);
}

/* `info mem`'s running range: where it started (or none) and its rights. */
struct range {
    FILE *out;
    bool open;
    uint64_t start;
    uint64_t prot;
};

/* The rights change at `end`: print the range that ends there, if any,
 * and start a new one unless the new rights are "not mapped". */
static void mem_at(struct range *r, uint64_t end, uint64_t prot)
{
    if (prot == r->prot)
        return;
    if (r->open)
        fprintf(r->out, "%016" PRIx64 "-%016" PRIx64 " %016" PRIx64 " %c%c%c\n",
                canonical(r->start), canonical(end), canonical(end - r->start),
                r->prot & PG_US ? 'u' : '-', 'r', r->prot & PG_RW ? 'w' : '-');
    r->open = prot != 0;
    r->start = end;
    r->prot = prot;
}

/* The rights an entry gives, limited by the levels above it (`above`):
 * user and write only if every level allows them (SDM vol 3A 4.6.1
 * "Determination of Access Rights"). */
static uint64_t rights(uint64_t e, uint64_t above)
{
    return e & (PG_US | PG_RW | PG_P) & above;
}

/* The last level: 512 entries of 4 KiB pages. */
static void mem_pt(struct range *r, const uint64_t *pt, uint64_t base, uint64_t above)
{
    for (uint64_t l4 = 0; l4 < 512; l4++) {
        uint64_t e = pt[l4];
        mem_at(r, base | l4 << 12, e & PG_P ? rights(e, above) : 0);
    }
}

void hmp_mem_info(FILE *out, uint64_t cr3, hmp_table_fn read, void *ctx)
{
    struct tables *tb = malloc(sizeof(*tb));
    struct range r = {.out = out};
    if (!tb)
        return;
    load(read, ctx, cr3, tb->t[0]);
    for (uint64_t l1 = 0; l1 < 512; l1++) {
        uint64_t e1 = tb->t[0][l1];
        if (!(e1 & PG_P)) {
            mem_at(&r, l1 << 39, 0);
            continue;
        }
        load(read, ctx, e1, tb->t[1]);
        for (uint64_t l2 = 0; l2 < 512; l2++) {
            uint64_t e2 = tb->t[1][l2], a2 = l1 << 39 | l2 << 30;
            if (!(e2 & PG_P) || (e2 & PG_PS)) {
                mem_at(&r, a2, e2 & PG_P ? rights(e2, e1) : 0);
                continue;
            }
            load(read, ctx, e2, tb->t[2]);
            for (uint64_t l3 = 0; l3 < 512; l3++) {
                uint64_t e3 = tb->t[2][l3], a3 = a2 | l3 << 21;
                if (!(e3 & PG_P) || (e3 & PG_PS)) {
                    mem_at(&r, a3, e3 & PG_P ? rights(e3, e1 & e2) : 0);
                    continue;
                }
                load(read, ctx, e3, tb->t[3]);
                mem_pt(&r, tb->t[3], a3, e1 & e2 & e3);
            }
        }
    }
    /* The end of the 48-bit address space closes the last range. */
    mem_at(&r, 1ull << 48, 0);
    free(tb);
}
