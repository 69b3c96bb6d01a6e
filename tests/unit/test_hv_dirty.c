/*
 * Unit tests for hv/core/dirty.c over real second-level tables in both
 * formats (core/slat.c with hv/svm/paging.c and hv/vmx/paging.c): start
 * write-protects RAM, the first write to a page is logged and allowed,
 * harvest reports and re-arms, stop gives write back; pages the core made
 * read-only for other reasons stay so.  Loop tests: _i = 0 NPT, 1 EPT.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "core/dirty.h"
#include "svm/paging.h"
#include "vmx/paging.h"

#define RAM (4ull << 20)

static void *page(void)
{
    void *p;
    if (posix_memalign(&p, 4096, 4096))
        return NULL;
    memset(p, 0, 4096);
    return p;
}

static struct slat s;
static struct memmap m;
static struct dirty_log d;
static uint64_t dirty_bits[RAM / 4096 / 64], guarded_bits[RAM / 4096 / 64];

/* 4 MiB of RAM mapped read/write/execute, the first 2 MiB page with a hole
 * (as lazy mode leaves pages unmapped), and a log that is off. */
static void setup_format(int i)
{
    const struct slat_format *f = i ? &vmx_ept_format : &svm_npt_format;
    ck_assert_int_eq(slat_init(&s, f, SLAT_CAP_NOEXEC, page, NULL), 0);
    ck_assert_int_eq(slat_map(&s, 0, 64ull << 20, RAM, SLAT_RWX), 0);
    ck_assert_int_eq(slat_unmap(&s, 0x7000, 0x1000), 0);
    char err[100];
    memmap_init(&m, RAM);
    struct mem_range ram = {0, RAM, MEM_RAM, MEM_REPORT_AVAILABLE, "RAM", NULL};
    ck_assert_int_eq(memmap_add(&m, &ram, err, sizeof(err)), 0);
    ck_assert_uint_eq(dirty_bitmap_bytes(RAM), sizeof(dirty_bits));
    dirty_init(&d, RAM, dirty_bits, guarded_bits);
}

static unsigned perms(uint64_t gpa)
{
    struct slat_walk w;
    return slat_walk(&s, gpa, &w) ? w.perms : 0;
}

START_TEST(first_write_is_logged_once)
{
    setup_format(_i);
    ck_assert_int_eq(dirty_start(&d, &s, &m), 0);
    /* Every mapped page lost write, nothing else; the hole stays a hole. */
    ck_assert_uint_eq(perms(0), SLAT_R | SLAT_X);
    ck_assert_uint_eq(perms(RAM - 1), SLAT_R | SLAT_X);
    ck_assert_uint_eq(perms(0x7000), 0);
    /* The guest writes four pages: each first write is the log's. */
    static const uint64_t written[] = {0x1000, 0x5123, 0x201000, RAM - 8};
    for (unsigned k = 0; k < 4; k++) {
        ck_assert(dirty_write_fault(&d, &s, written[k]));
        ck_assert_uint_eq(perms(written[k]), SLAT_RWX);
    }
    /* A second write to a page would not exit; if something else refused
     * it, it is not the log's business. */
    ck_assert(!dirty_write_fault(&d, &s, 0x1000));
    /* A write to the unmapped page is not the log's either (lazy mode's). */
    ck_assert(!dirty_write_fault(&d, &s, 0x7000));
    ck_assert(!dirty_write_fault(&d, &s, RAM));
    ck_assert_uint_eq(d.writes_caught, 4);
    /* Harvest: pages 1, 5, 0x201 and 0x3ff. */
    uint64_t out[RAM / 4096 / 64];
    ck_assert_uint_eq(dirty_harvest(&d, &s, 0, RAM / 4096, out, false), 4);
    ck_assert_uint_eq(out[0], (1ull << 1) | (1ull << 5));
    ck_assert_uint_eq(out[0x201 / 64], 1ull << (0x201 % 64));
    ck_assert_uint_eq(out[0x3ff / 64], 1ull << (0x3ff % 64));
    /* A window of the bitmap: pages 4..7 only. */
    ck_assert_uint_eq(dirty_harvest(&d, &s, 4, 4, out, false), 1);
    ck_assert_uint_eq(out[0], 1ull << 1);
    /* Harvest and clear: the pages are protected again ... */
    ck_assert_uint_eq(dirty_harvest(&d, &s, 0, RAM / 4096, out, true), 4);
    ck_assert_uint_eq(perms(0x5000), SLAT_R | SLAT_X);
    ck_assert_uint_eq(dirty_harvest(&d, &s, 0, RAM / 4096, out, false), 0);
    /* ... and the next write is caught again. */
    ck_assert(dirty_write_fault(&d, &s, 0x5000));
    ck_assert_uint_eq(dirty_harvest(&d, &s, 0, RAM / 4096, out, false), 1);
}
END_TEST

START_TEST(read_only_pages_stay_read_only)
{
    setup_format(_i);
    ck_assert_int_eq(dirty_start(&d, &s, &m), 0);
    /* The core makes page 9 read-only for its own reasons. */
    ck_assert_int_eq(slat_protect(&s, 0x9000, 0x1000, SLAT_R | SLAT_X), 0);
    dirty_forget(&d, 9);
    ck_assert(!dirty_write_fault(&d, &s, 0x9000));
    ck_assert_uint_eq(perms(0x9000), SLAT_R | SLAT_X);
    /* Stop: every page the log protected is writable again, page 9 not. */
    dirty_stop(&d, &s);
    ck_assert_uint_eq(perms(0), SLAT_RWX);
    ck_assert_uint_eq(perms(0x200000), SLAT_RWX);
    ck_assert_uint_eq(perms(0x9000), SLAT_R | SLAT_X);
    ck_assert(!dirty_write_fault(&d, &s, 0x1000));
}
END_TEST

int main(void)
{
    Suite *st = suite_create("hv_dirty");
    TCase *tc = tcase_create("both formats");
    tcase_add_loop_test(tc, first_write_is_logged_once, 0, 2);
    tcase_add_loop_test(tc, read_only_pages_stay_read_only, 0, 2);
    suite_add_tcase(st, tc);
    return check_main(st);
}
