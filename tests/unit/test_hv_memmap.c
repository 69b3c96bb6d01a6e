/*
 * Unit tests for hv/core/memmap.c: adding ranges (sorted, overlaps and
 * RAM outside the block refused by name), lookups, the PC layout and the
 * firmware's report of it.  The PC report is compared with what the mbinfo
 * guest prints on plain QEMU 7.2 (-m 128, -cpu max, an AMD CPU model with
 * 40 physical address bits); tests/integration compares it with a fresh
 * run of both.
 */
#include <check.h>
#include <string.h>

#include "check_main.h"
#include "core/memmap.h"

#define KB (1ull << 10)
#define MB (1ull << 20)

static struct memmap m;
static char err[200];

static int add(uint64_t base, uint64_t size, enum mem_kind kind, const char *name)
{
    struct mem_range r = {.base = base, .size = size, .kind = kind, .name = name};
    return memmap_add(&m, &r, err, sizeof(err));
}

START_TEST(ranges_stay_sorted_and_disjoint)
{
    memmap_init(&m, 16 * MB);
    ck_assert_int_eq(add(8 * MB, MB, MEM_RAM, "b"), 0);
    ck_assert_int_eq(add(0, MB, MEM_RAM, "a"), 0);
    ck_assert_int_eq(add(0xfee00000, 0x1000, MEM_MMIO, "local APIC"), 0);
    ck_assert_str_eq(m.r[0].name, "a");
    ck_assert_str_eq(m.r[1].name, "b");
    ck_assert_str_eq(m.r[2].name, "local APIC");
    /* Overlaps with the range before and the range after are refused. */
    ck_assert_int_eq(add(MB - 0x1000, 0x2000, MEM_RAM, "c"), -1);
    ck_assert_str_eq(err, "c 0xff000..0x100fff overlaps a 0..0xfffff");
    ck_assert_int_eq(add(7 * MB, MB + 1, MEM_RAM, "d"), -1);
    ck_assert_str_eq(err, "d 0x700000..0x800000 overlaps b 0x800000..0x8fffff");
    /* Touching is fine. */
    ck_assert_int_eq(add(MB, 7 * MB, MEM_RAM, "e"), 0);
    ck_assert_uint_eq(m.n, 4);
}
END_TEST

START_TEST(bad_ranges_are_refused)
{
    memmap_init(&m, 16 * MB);
    ck_assert_int_eq(add(0, 0, MEM_RAM, "empty"), -1);
    ck_assert_str_eq(err, "empty: empty range at 0");
    ck_assert_int_eq(add(~0ull - 0xfff, 0x2000, MEM_MMIO, "wrap"), -1);
    ck_assert_int_eq(add(15 * MB, 2 * MB, MEM_RAM, "big"), -1);
    ck_assert_str_eq(err, "big: RAM range 0xf00000..0x10fffff lies outside the 16 MiB RAM block");
    /* A range up to the very last byte of the address space is fine. */
    ck_assert_int_eq(add(~0ull - 0xfff, 0x1000, MEM_RESERVED, "top"), 0);
    for (unsigned i = 1; i < MEMMAP_MAX; i++)
        ck_assert_int_eq(add(i * 0x1000, 0x1000, MEM_RAM, "x"), 0);
    ck_assert_int_eq(add(0, 0x1000, MEM_RAM, "one too many"), -1);
    ck_assert_str_eq(err, "one too many: the memory map is full (32 ranges)");
}
END_TEST

START_TEST(pc_layout_matches_qemu)
{
    ck_assert_int_eq(memmap_pc(&m, 128 * MB, true, err, sizeof(err)), 0);
    struct memmap_report_entry e[10];
    unsigned n = memmap_report(&m, e, 10);
    /* What the mbinfo guest prints on plain QEMU with -m 128:
     *   0x000000000000-0x00000009fbff available
     *   0x00000009fc00-0x00000009ffff reserved
     *   0x0000000f0000-0x0000000fffff reserved
     *   0x000000100000-0x000007fdffff available
     *   0x000007fe0000-0x000007ffffff reserved
     *   0x0000fffc0000-0x0000ffffffff reserved
     *   0x00fd00000000-0x00ffffffffff reserved */
    static const struct memmap_report_entry want[] = {
        {0, 0x9fc00, MEM_REPORT_AVAILABLE},
        {0x9fc00, 0x400, MEM_REPORT_RESERVED},
        {0xf0000, 0x10000, MEM_REPORT_RESERVED},
        {0x100000, 0x7ee0000, MEM_REPORT_AVAILABLE},
        {0x7fe0000, 0x20000, MEM_REPORT_RESERVED},
        {0xfffc0000, 0x40000, MEM_REPORT_RESERVED},
        {0xfd00000000, 0x300000000, MEM_REPORT_RESERVED},
    };
    ck_assert_uint_eq(n, 7);
    for (unsigned i = 0; i < n; i++) {
        ck_assert_uint_eq(e[i].addr, want[i].addr);
        ck_assert_uint_eq(e[i].len, want[i].len);
        ck_assert_int_eq(e[i].type, want[i].type);
    }
    /* Without the AMD window: one entry less.  A short buffer still
     * learns the count. */
    ck_assert_int_eq(memmap_pc(&m, 64 * MB, false, err, sizeof(err)), 0);
    ck_assert_uint_eq(memmap_report(&m, e, 2), 6);
    ck_assert_uint_eq(e[1].addr, 0x9fc00);
    /* What lies where: the legacy window is RAM the map does not report
     * (memmap.c: a VGA text buffer writer must not be ended). */
    ck_assert_int_eq(memmap_find(&m, 0xb8000)->kind, MEM_RAM);
    ck_assert_int_eq(memmap_find(&m, 0xb8000)->report, MEM_REPORT_NONE);
    ck_assert_int_eq(memmap_find(&m, 0x9fc00)->kind, MEM_RAM);
    ck_assert_int_eq(memmap_find(&m, 64 * MB - 1)->kind, MEM_RAM);
    ck_assert_ptr_null(memmap_find(&m, 64 * MB));
    ck_assert_ptr_null(memmap_find(&m, 0xfee00000));
}
END_TEST

START_TEST(pc_layout_refuses_odd_sizes)
{
    ck_assert_int_eq(memmap_pc(&m, MB + 128 * KB, false, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "guest RAM of 1152 KiB does not fit a PC: more than 1 MiB plus the "
                          "reserved top 128 KiB, at most 3584 MiB");
    ck_assert_int_eq(memmap_pc(&m, 3584 * MB + 4096, false, err, sizeof(err)), -1);
    ck_assert_int_eq(memmap_pc(&m, 3584 * MB, false, err, sizeof(err)), 0);
}
END_TEST

START_TEST(reported_as_joins_adjacent_ranges)
{
    ck_assert_int_eq(memmap_pc(&m, 64 * MB, false, err, sizeof(err)), 0);
    ck_assert(memmap_reported_as(&m, MB, 63 * MB - 128 * KB, MEM_REPORT_AVAILABLE));
    ck_assert(!memmap_reported_as(&m, MB, 63 * MB, MEM_REPORT_AVAILABLE));
    ck_assert(memmap_reported_as(&m, 0x9fc00, 0x400, MEM_REPORT_RESERVED));
    ck_assert(!memmap_reported_as(&m, 0x9f000, 0x1000, MEM_REPORT_AVAILABLE));
    /* The legacy window is RAM the guest is not told of: never available. */
    ck_assert(!memmap_reported_as(&m, 0xa0000, 0x1000, MEM_REPORT_AVAILABLE));
    ck_assert(memmap_reported_as(&m, 0xa0000, 0x50000, MEM_REPORT_NONE));
    ck_assert(!memmap_reported_as(&m, 64 * MB, 0x1000, MEM_REPORT_NONE));
    /* Two touching available ranges count as one. */
    memmap_init(&m, 16 * MB);
    struct mem_range a = {0, MB, MEM_RAM, MEM_REPORT_AVAILABLE, "a", NULL};
    struct mem_range b = {MB, MB, MEM_RAM, MEM_REPORT_AVAILABLE, "b", NULL};
    ck_assert_int_eq(memmap_add(&m, &a, err, sizeof(err)), 0);
    ck_assert_int_eq(memmap_add(&m, &b, err, sizeof(err)), 0);
    ck_assert(memmap_reported_as(&m, MB - 0x1000, 0x2000, MEM_REPORT_AVAILABLE));
    struct memmap_report_entry e[2];
    ck_assert_uint_eq(memmap_report(&m, e, 2), 1);
    ck_assert_uint_eq(e[0].len, 2 * MB);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hv_memmap");
    TCase *tc = tcase_create("memmap");
    tcase_add_test(tc, ranges_stay_sorted_and_disjoint);
    tcase_add_test(tc, bad_ranges_are_refused);
    tcase_add_test(tc, pc_layout_matches_qemu);
    tcase_add_test(tc, pc_layout_refuses_odd_sizes);
    tcase_add_test(tc, reported_as_joins_adjacent_ranges);
    suite_add_tcase(s, tc);
    return check_main(s);
}
