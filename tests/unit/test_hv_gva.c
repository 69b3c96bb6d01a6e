/*
 * Unit tests for hv/core/gva.c: guest-linear addresses translated through
 * page tables built in guest memory, in each paging mode the guest may use
 * (none, 32-bit with 4 KiB and 4 MiB pages, PAE, long mode with 4 KiB,
 * 2 MiB and 1 GiB pages, 5-level), and refusals for unmapped or out-of-RAM
 * pages with the reason the walk gives (gva_translate, gva_explain).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "core/domain.h"
#include "core/gva.h"
#include "check_main.h"

#define RAM (8u << 20)

/* One vCPU in a domain that owns the RAM (gva.c reads v->dom->mem). */
static struct domain d;
static struct vcpu v;

static void setup(void)
{
    memset(&d, 0, sizeof(d));
    memset(&v, 0, sizeof(v));
    /* Every group of guest state in struct vcpu (no backend to ask). */
    v.loaded = VCPU_STATE_ALL;
    d.mem.size = RAM;
    d.mem.host = calloc(1, RAM);
    v.dom = &d;
}

static void teardown(void)
{
    free(d.mem.host);
}

static void put64(uint64_t gpa, uint64_t val)
{
    memcpy(d.mem.host + gpa, &val, 8);
}

static void put32(uint64_t gpa, uint32_t val)
{
    memcpy(d.mem.host + gpa, &val, 4);
}

/* Read 4 bytes at a linear address, -1 on failure. */
static long long rd(uint64_t gva)
{
    uint32_t x;
    if (guest_read_linear(&v, gva, &x, 4) < 0)
        return -1;
    return x;
}

START_TEST(paging_off_is_identity)
{
    put32(0x5000, 0x11223344);
    v.cr0 = CR0_PE;
    ck_assert_int_eq(rd(0x5000), 0x11223344);
    /* Outside guest RAM: refused, not read. */
    ck_assert_int_eq(rd(RAM + 0x1000), -1);
    /* Writes land where reads find them. */
    uint32_t w = 0xcafe;
    ck_assert_int_eq(guest_write_linear(&v, 0x6000, &w, 4), 0);
    ck_assert_int_eq(rd(0x6000), 0xcafe);
}
END_TEST

START_TEST(legacy_32bit_paging)
{
    /* PD at 0x10000, PT at 0x11000: linear 0x00400000 -> 0x00200000 (4 KiB
     * page); PDE 2 is a 4 MiB page at 0x00400000 when CR4.PSE is set. */
    v.cr0 = CR0_PE | CR0_PG;
    v.cr3 = 0x10000;
    put32(0x10000 + 1 * 4, 0x11000 | 1);
    put32(0x11000 + 0 * 4, 0x200000 | 1);
    put32(0x10000 + 2 * 4, 0x400000 | 0x80 | 1);
    put32(0x200010, 0xabcd);
    put32(0x400000 + 0x1234, 0x5678);
    ck_assert_int_eq(rd(0x400010), 0xabcd);
    /* Without PSE the PS bit is ignored and 0x400000 is read as a PT. */
    ck_assert_int_ne(rd(0x800000 + 0x1234), 0x5678);
    v.cr4 = CR4_PSE;
    ck_assert_int_eq(rd(0x800000 + 0x1234), 0x5678);
    /* A PDE that is not present. */
    ck_assert_int_eq(rd(0xc00000), -1);
}
END_TEST

START_TEST(pae_paging)
{
    /* PDPT at 0x10020 (32-byte aligned), PD at 0x11000, PT at 0x12000. */
    v.cr0 = CR0_PE | CR0_PG;
    v.cr4 = CR4_PAE;
    v.cr3 = 0x10020;
    put64(0x10020 + 1 * 8, 0x11000 | 1); /* 1..2 GiB */
    put64(0x11000 + 0 * 8, 0x12000 | 1);
    put64(0x12000 + 3 * 8, 0x300000 | 1);
    put64(0x11000 + 1 * 8, 0x600000 | 0x80 | 1); /* a 2 MiB page */
    put32(0x300000 + 0x44, 0x4444);
    put32(0x600000 + 0x1004, 0x6666);
    ck_assert_int_eq(rd(0x40000000 + 0x3000 + 0x44), 0x4444);
    ck_assert_int_eq(rd(0x40200000 + 0x1004), 0x6666);
    ck_assert_int_eq(rd(0x80000000), -1);
}
END_TEST

START_TEST(long_mode_paging)
{
    /* PML4 0x10000, PDPT 0x11000, PD 0x12000, PT 0x13000. */
    v.cr0 = CR0_PE | CR0_PG;
    v.cr4 = CR4_PAE;
    v.efer = EFER_LME | EFER_LMA;
    v.cr3 = 0x10000;
    put64(0x10000 + 1 * 8, 0x11000 | 3); /* PML4[1]: 512 GiB up */
    put64(0x11000 + 0 * 8, 0x12000 | 3);
    put64(0x12000 + 0 * 8, 0x13000 | 3);
    put64(0x13000 + 5 * 8, 0x700000 | 3);        /* 4 KiB page */
    put64(0x12000 + 1 * 8, 0x400000 | 0x80 | 3); /* 2 MiB page */
    put64(0x11000 + 2 * 8, 0x0 | 0x80 | 3);      /* 1 GiB page at 0 */
    put32(0x700000 + 0x10, 0x7777);
    put32(0x400000 + 0x20, 0x2222);
    put32(0x5000, 0x1111);
    uint64_t base = 1ull << 39;
    ck_assert_int_eq(rd(base + 0x5000 + 0x10), 0x7777);
    ck_assert_int_eq(rd(base + 0x200000 + 0x20), 0x2222);
    ck_assert_int_eq(rd(base + 0x80000000ull + 0x5000), 0x1111);
    /* Not present at the PML4 level. */
    ck_assert_int_eq(rd(0x1000), -1);
    /* A mapping to guest-physical memory beyond RAM is refused. */
    put64(0x13000 + 6 * 8, 0x10000000ull | 3);
    ck_assert_int_eq(rd(base + 0x6000), -1);
}
END_TEST

START_TEST(access_across_pages)
{
    /* Two adjacent linear pages mapped to distant physical pages: a 4-byte
     * read straddling them takes 2 bytes from each. */
    v.cr0 = CR0_PE | CR0_PG;
    v.cr3 = 0x10000;
    put32(0x10000, 0x11000 | 1);
    put32(0x11000 + 1 * 4, 0x300000 | 1);
    put32(0x11000 + 2 * 4, 0x100000 | 1);
    d.mem.host[0x300ffe] = 0x11;
    d.mem.host[0x300fff] = 0x22;
    d.mem.host[0x100000] = 0x33;
    d.mem.host[0x100001] = 0x44;
    ck_assert_int_eq(rd(0x1ffe), 0x44332211);
    /* The second page missing: the whole access fails. */
    put32(0x11000 + 2 * 4, 0);
    ck_assert_int_eq(rd(0x1ffe), -1);
}
END_TEST

/* Translate through v's current state; returns the fault. */
static enum gva_fault tr(uint64_t gva, struct gva_walk *w)
{
    struct gva_ctx c = gva_ctx_of(&v);
    return gva_translate(&c, gva, w);
}

/* Long mode with tables at 0x10000.. (see long_mode_paging). */
static void long_mode(void)
{
    v.cr0 = CR0_PE | CR0_PG;
    v.cr4 = CR4_PAE;
    v.efer = EFER_LME | EFER_LMA;
    v.cr3 = 0x10000;
}

START_TEST(walk_reports_level_and_page_size)
{
    long_mode();
    put64(0x10000 + 0 * 8, 0x11000 | 3);
    put64(0x11000 + 0 * 8, 0x12000 | 3);
    put64(0x12000 + 2 * 8, 0x13000 | 3);
    put64(0x13000 + 7 * 8, 0x345000 | 3);
    put64(0x12000 + 3 * 8, 0x600000 | 0x80 | 3);
    put64(0x11000 + 1 * 8, 0x40000000 | 0x80 | 3);
    struct gva_walk w;
    ck_assert_int_eq(tr(0x407123, &w), GVA_OK);
    ck_assert_uint_eq(w.gpa, 0x345123);
    ck_assert_uint_eq(w.page_size, 0x1000);
    ck_assert_int_eq(w.level, 0);
    ck_assert_str_eq(w.mode, "4-level");
    ck_assert_int_eq(tr(0x6abcde, &w), GVA_OK);
    ck_assert_uint_eq(w.gpa, 0x6abcde);
    ck_assert_uint_eq(w.page_size, 2u << 20);
    ck_assert_int_eq(tr(0x40000000 + 0x1234567, &w), GVA_OK);
    ck_assert_uint_eq(w.gpa, 0x41234567);
    ck_assert_uint_eq(w.page_size, 1u << 30);
    /* Not present in the page directory: entry 4 at 0x12020. */
    ck_assert_int_eq(tr(0x800000, &w), GVA_NOT_PRESENT);
    ck_assert_int_eq(w.level, 1);
    ck_assert_uint_eq(w.entry_gpa, 0x12020);
    char why[120];
    gva_explain(&w, why, sizeof(why));
    ck_assert_str_eq(why, "not present: 4-level paging, PD entry at gpa 0x12020 is 0");
    /* Not canonical: bit 47 set, bits 63:48 clear. */
    ck_assert_int_eq(tr(0x0000800000000000ull, &w), GVA_NONCANONICAL);
    ck_assert_int_eq(tr(0xffff800000000000ull, &w), GVA_NOT_PRESENT);
    ck_assert_int_eq(w.level, 3);
    /* PS in a PML4 entry is reserved. */
    put64(0x10000 + 2 * 8, 0x11000 | 0x80 | 3);
    ck_assert_int_eq(tr(2ull << 39, &w), GVA_RESERVED_BIT);
    ck_assert_int_eq(w.level, 3);
    /* A page table outside guest RAM. */
    put64(0x12000 + 5 * 8, 0x40000000 | 3);
    ck_assert_int_eq(tr(0xa00000, &w), GVA_OUTSIDE_RAM);
    ck_assert_uint_eq(w.entry_gpa, 0x40000000);
    gva_explain(&w, why, sizeof(why));
    ck_assert_str_eq(why, "4-level paging: PT entry at gpa 0x40000000, outside guest RAM");
}
END_TEST

START_TEST(five_level_paging)
{
    long_mode();
    v.cr4 |= 1ull << 12; /* CR4.LA57 */
    /* PML5 0x10000, PML4 0x11000, PDPT 0x12000, PD 0x13000 (2 MiB page). */
    put64(0x10000 + 1 * 8, 0x11000 | 3); /* PML5[1]: from 2^48 */
    put64(0x11000 + 0 * 8, 0x12000 | 3);
    put64(0x12000 + 0 * 8, 0x13000 | 3);
    put64(0x13000 + 0 * 8, 0x200000 | 0x80 | 3);
    put32(0x200000 + 0x88, 0x5555);
    struct gva_walk w;
    ck_assert_int_eq(tr((1ull << 48) + 0x88, &w), GVA_OK);
    ck_assert_str_eq(w.mode, "5-level");
    ck_assert_uint_eq(w.gpa, 0x200088);
    ck_assert_int_eq(rd((1ull << 48) + 0x88), 0x5555);
    /* With 57 bits, bit 47 alone is canonical; bit 56 alone is not. */
    ck_assert_int_eq(tr(1ull << 47, &w), GVA_NOT_PRESENT);
    ck_assert_int_eq(w.level, 4);
    ck_assert_int_eq(tr(1ull << 56, &w), GVA_NONCANONICAL);
    /* PS in a PML5 entry is reserved. */
    put64(0x10000 + 2 * 8, 0x11000 | 0x80 | 3);
    ck_assert_int_eq(tr(2ull << 48, &w), GVA_RESERVED_BIT);
}
END_TEST

START_TEST(pae_pdpte_ps_is_reserved)
{
    v.cr0 = CR0_PE | CR0_PG;
    v.cr4 = CR4_PAE;
    v.cr3 = 0x10000;
    put64(0x10000, 0x11000 | 0x80 | 1);
    struct gva_walk w;
    ck_assert_int_eq(tr(0x1000, &w), GVA_RESERVED_BIT);
    ck_assert_int_eq(w.level, 2);
    ck_assert_str_eq(w.mode, "PAE");
}
END_TEST

START_TEST(read_virt_and_phys)
{
    long_mode();
    put64(0x10000, 0x11000 | 3);
    put64(0x11000, 0x12000 | 3);
    put64(0x12000, 0x13000 | 3);
    put64(0x13000 + 1 * 8, 0x300000 | 3);
    put64(0x13000 + 2 * 8, 0x7ff000 | 3);      /* the last page of RAM */
    put64(0x13000 + 3 * 8, (uint64_t)RAM | 3); /* just past RAM */
    memcpy(d.mem.host + 0x300ffc, "abcd", 4);
    memcpy(d.mem.host + 0x7ff000, "efgh", 4);
    struct gva_ctx c = gva_ctx_of(&v);
    char buf[9] = {0};
    struct gva_walk why;
    ck_assert_int_eq(guest_read_virt(&c, 0x1ffc, buf, 8, &why), 0);
    ck_assert_str_eq(buf, "abcdefgh");
    /* The third page maps past RAM: the walk succeeded, the access not. */
    ck_assert_int_eq(guest_read_virt(&c, 0x2ffe, buf, 4, &why), -1);
    ck_assert_int_eq(why.fault, GVA_OUTSIDE_RAM);
    ck_assert_uint_eq(why.gpa, RAM);
    char text[100];
    gva_explain(&why, text, sizeof(text));
    ck_assert_str_eq(text, "4-level paging: maps gpa 0x800000, outside guest RAM");
    /* The fourth page is not mapped. */
    ck_assert_int_eq(guest_read_virt(&c, 0x4000, buf, 1, &why), -1);
    ck_assert_int_eq(why.fault, GVA_NOT_PRESENT);
    /* By physical address: RAM only. */
    ck_assert_int_eq(guest_read_phys(&d.mem, 0x7ff000, buf, 4), 0);
    ck_assert_int_eq(memcmp(buf, "efgh", 4), 0);
    ck_assert_int_eq(guest_read_phys(&d.mem, RAM - 2, buf, 4), -1);
    ck_assert_int_eq(guest_read_phys(&d.mem, ~0ull, buf, 2), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hv_gva");
    TCase *tc = tcase_create("translate");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, paging_off_is_identity);
    tcase_add_test(tc, legacy_32bit_paging);
    tcase_add_test(tc, pae_paging);
    tcase_add_test(tc, long_mode_paging);
    tcase_add_test(tc, access_across_pages);
    tcase_add_test(tc, walk_reports_level_and_page_size);
    tcase_add_test(tc, five_level_paging);
    tcase_add_test(tc, pae_pdpte_ps_is_reserved);
    tcase_add_test(tc, read_virt_and_phys);
    suite_add_tcase(s, tc);
    return check_main(s);
}
