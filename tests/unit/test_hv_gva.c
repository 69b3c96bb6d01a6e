/*
 * Unit tests for hv/core/gva.c: guest-linear addresses translated through
 * page tables built in guest memory, in each paging mode the guest may use
 * (none, 32-bit with 4 KiB and 4 MiB pages, PAE, long mode with 4 KiB,
 * 2 MiB and 1 GiB pages), and refusals for unmapped or out-of-RAM pages.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "core/hv.h"
#include "check_main.h"

#define RAM (8u << 20)

static struct vcpu v;

static void setup(void)
{
    memset(&v, 0, sizeof(v));
    v.mem.size = RAM;
    v.mem.host = calloc(1, RAM);
}

static void teardown(void)
{
    free(v.mem.host);
}

static void put64(uint64_t gpa, uint64_t val)
{
    memcpy(v.mem.host + gpa, &val, 8);
}

static void put32(uint64_t gpa, uint32_t val)
{
    memcpy(v.mem.host + gpa, &val, 4);
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
    v.mem.host[0x300ffe] = 0x11;
    v.mem.host[0x300fff] = 0x22;
    v.mem.host[0x100000] = 0x33;
    v.mem.host[0x100001] = 0x44;
    ck_assert_int_eq(rd(0x1ffe), 0x44332211);
    /* The second page missing: the whole access fails. */
    put32(0x11000 + 2 * 4, 0);
    ck_assert_int_eq(rd(0x1ffe), -1);
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
    suite_add_tcase(s, tc);
    return check_main(s);
}
