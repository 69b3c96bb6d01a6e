/*
 * Unit tests for hv/core/guestmem.c: the tables built from the PC memory
 * map (eager), demand paging (lazy), run-time permissions and dirty logging
 * through guestmem_violation(), in both entry formats (loop tests: _i = 0
 * NPT, 1 EPT).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "core/guestmem.h"
#include "svm/paging.h"
#include "vmx/paging.h"

#define MB (1ull << 20)

static void *zalloc(size_t bytes)
{
    void *p;
    if (posix_memalign(&p, 4096, bytes))
        return NULL;
    memset(p, 0, bytes);
    return p;
}

/* Zeroed memory for the first request only. */
static int one_page_given;
static void *one_page(size_t bytes)
{
    return one_page_given++ ? NULL : zalloc(bytes);
}

static struct guestmem g;
static struct guest_mem ram;
static struct memmap map;
static char err[200];

/* 64 MiB of guest RAM (never touched: only its address is used). */
static void init(int i, bool lazy)
{
    ram.size = 64 * MB;
    ram.host = (uint8_t *)(uintptr_t)(512 * MB);
    const struct slat_format *f = i ? &vmx_ept_format : &svm_npt_format;
    ck_assert_int_eq(guestmem_layout(&map, ram.size, err, sizeof(err)), 0);
    ck_assert_int_eq(
        guestmem_init(&g, &ram, &map, lazy, f, SLAT_CAP_NOEXEC, zalloc, free, err, sizeof(err)), 0);
}

/* What gpa maps to: its host address, or 0 when not mapped. */
static uint64_t where(uint64_t gpa, uint64_t *page, unsigned *perms)
{
    struct slat_walk w;
    if (!slat_walk(&g.slat, gpa, &w))
        return 0;
    if (page)
        *page = w.page_size;
    if (perms)
        *perms = w.perms;
    return w.hpa;
}

START_TEST(eager_maps_ram_and_nothing_else)
{
    init(_i, false);
    uint64_t page;
    /* Low memory, the EBDA, the legacy window (RAM the map does not
     * report) and the BIOS area make the first 2 MiB one RAM stretch: one
     * 2 MiB page. */
    ck_assert_uint_eq(where(0x1000, &page, NULL), 512 * MB + 0x1000);
    ck_assert_uint_eq(page, 2 * MB);
    ck_assert_uint_eq(where(0x9fc10, NULL, NULL), 512 * MB + 0x9fc10);
    ck_assert_uint_eq(where(0xb8000, NULL, NULL), 512 * MB + 0xb8000);
    ck_assert_uint_eq(where(0xf0000, NULL, NULL), 512 * MB + 0xf0000);
    /* Above 2 MiB: 2 MiB pages up to the top, the reserved top included. */
    ck_assert_uint_eq(where(0x200000, &page, NULL), 512 * MB + 0x200000);
    ck_assert_uint_eq(page, 2 * MB);
    ck_assert_uint_eq(where(64 * MB - 1, NULL, NULL), 512 * MB + 64 * MB - 1);
    ck_assert_uint_eq(where(64 * MB, NULL, NULL), 0);
    ck_assert_uint_eq(where(0xfee00000, NULL, NULL), 0);
    /* Nothing for the violation handler to do in eager mode. */
    uint64_t flush = 0;
    ck_assert_int_eq(guestmem_violation(&g, 0xb8000, false, false, &flush), GM_NOT_RAM);
    ck_assert_int_eq(guestmem_violation(&g, 0xfffc0000, false, false, &flush), GM_NOT_RAM);
    ck_assert_int_eq(guestmem_violation(&g, 64 * MB, true, false, &flush), GM_NOT_RAM);
}
END_TEST

START_TEST(lazy_maps_on_first_touch)
{
    init(_i, true);
    ck_assert_uint_eq(where(0x100000, NULL, NULL), 0);
    uint64_t flush = 0, page;
    ck_assert_int_eq(guestmem_violation(&g, 0x123456, false, false, &flush), GM_LAZY_MAPPED);
    ck_assert_uint_eq(flush, 0x123000);
    ck_assert_uint_eq(where(0x123456, &page, NULL), 512 * MB + 0x123456);
    ck_assert_uint_eq(page, 0x1000);
    /* Only that page. */
    ck_assert_uint_eq(where(0x124000, NULL, NULL), 0);
    /* The EBDA and the legacy window are RAM too; holes and MMIO are not. */
    ck_assert_int_eq(guestmem_violation(&g, 0x9fc00, true, false, &flush), GM_LAZY_MAPPED);
    ck_assert_int_eq(guestmem_violation(&g, 0xb8000, true, false, &flush), GM_LAZY_MAPPED);
    ck_assert_int_eq(guestmem_violation(&g, 0xfffc0000, false, false, &flush), GM_NOT_RAM);
    ck_assert_int_eq(guestmem_violation(&g, 0xfee00000, true, false, &flush), GM_NOT_RAM);
    ck_assert_int_eq(guestmem_violation(&g, 64 * MB, false, false, &flush), GM_NOT_RAM);
    ck_assert_uint_eq(g.lazy_maps, 3);
    /* A present translation that forbade the access is no first touch. */
    ck_assert_int_eq(guestmem_violation(&g, 0x123456, true, true, &flush), GM_NOT_RAM);
}
END_TEST

START_TEST(protect_makes_violations_real)
{
    init(_i, false);
    unsigned perms;
    ck_assert_int_eq(guestmem_protect(&g, 0x300000, 0x1000, SLAT_R | SLAT_X), 0);
    where(0x300000, NULL, &perms);
    ck_assert_uint_eq(perms, SLAT_R | SLAT_X);
    where(0x301000, NULL, &perms);
    ck_assert_uint_eq(perms, SLAT_RWX);
    ck_assert_int_eq(guestmem_protect(&g, 0x400000, 0x1000, SLAT_R), 0);
    where(0x400000, NULL, &perms);
    ck_assert_uint_eq(perms, SLAT_R);
    /* The write or fetch is the guest's fault, not RAM's business. */
    uint64_t flush;
    ck_assert_int_eq(guestmem_violation(&g, 0x300010, true, true, &flush), GM_NOT_RAM);
    /* Even while the dirty log runs. */
    ck_assert_int_eq(guestmem_dirty_start(&g), 0);
    ck_assert_int_eq(guestmem_violation(&g, 0x300010, true, true, &flush), GM_NOT_RAM);
    ck_assert_int_eq(guestmem_violation(&g, 0x302000, true, true, &flush), GM_DIRTY);
    /* The EBDA and the legacy window are RAM: a range across them is
     * taken; ranges that are not all RAM are refused. */
    ck_assert_int_eq(guestmem_protect(&g, 0x9f000, 0x2000, SLAT_R | SLAT_X), 0);
    ck_assert_int_eq(guestmem_protect(&g, 64 * MB - 0x1000, 0x2000, SLAT_R | SLAT_X), SLAT_EINVAL);
    ck_assert_int_eq(guestmem_protect(&g, 0x1000, 0x1000, SLAT_W), SLAT_EPERM);
}
END_TEST

START_TEST(dirty_log_in_lazy_mode)
{
    init(_i, true);
    uint64_t flush, out[1];
    /* Harvest before any start: nothing. */
    ck_assert_uint_eq(guestmem_dirty_harvest(&g, 0, 64, out, true), 0);
    ck_assert_int_eq(guestmem_dirty_start(&g), 0);
    /* A page touched for the first time by a write: mapped first (without
     * write, the log is on), then the retried write is logged. */
    ck_assert_int_eq(guestmem_violation(&g, 0x5008, true, false, &flush), GM_LAZY_MAPPED);
    ck_assert_int_eq(guestmem_violation(&g, 0x5008, true, true, &flush), GM_DIRTY);
    ck_assert_uint_eq(flush, 0x5000);
    /* A page only read stays clean. */
    ck_assert_int_eq(guestmem_violation(&g, 0x6000, false, false, &flush), GM_LAZY_MAPPED);
    ck_assert_uint_eq(guestmem_dirty_harvest(&g, 0, 64, out, true), 1);
    ck_assert_uint_eq(out[0], 1ull << 5);
    guestmem_dirty_stop(&g);
    unsigned perms;
    where(0x6000, NULL, &perms);
    ck_assert_uint_eq(perms, SLAT_RWX);
}
END_TEST

/* hv's own stores into guest RAM (gmem_write_ptr -> guestmem_hv_write):
 * logged dirty like the guest's, refused on a page the guest made
 * read-only and outside RAM, allowed on a page the log guards. */
START_TEST(hv_writes_are_logged_and_checked)
{
    init(_i, false);
    ram.before_write = guestmem_hv_write;
    ram.write_ctx = &g;
    uint64_t out[1];
    /* Log off: allowed, nothing recorded. */
    ck_assert(gmem_write_ptr(&ram, 0x3000, 8) == ram.host + 0x3000);
    ck_assert_int_eq(guestmem_dirty_start(&g), 0);
    /* A store across two pages dirties both; the log's guard stays. */
    ck_assert(gmem_write_ptr(&ram, 0x7ffc, 8) == ram.host + 0x7ffc);
    ck_assert(guestmem_hv_write(&g, 0x9000, 1));
    ck_assert_uint_eq(guestmem_dirty_harvest(&g, 0, 64, out, true), 3);
    ck_assert_uint_eq(out[0], (1ull << 7) | (1ull << 8) | (1ull << 9));
    unsigned perms;
    where(0x7000, NULL, &perms);
    ck_assert_uint_eq(perms, SLAT_R | SLAT_X);
    /* A read-only page (HC_MEM_PROTECT) is refused, and so is a store
     * running into it; nothing is recorded then. */
    ck_assert_int_eq(guestmem_protect(&g, 0x20000, 0x1000, SLAT_R | SLAT_X), 0);
    ck_assert_ptr_null(gmem_write_ptr(&ram, 0x20010, 4));
    ck_assert_ptr_null(gmem_write_ptr(&ram, 0x1fffe, 4));
    ck_assert_uint_eq(guestmem_dirty_harvest(&g, 0, 64, out, true), 0);
    /* Beyond RAM: refused before anything else. */
    ck_assert_ptr_null(gmem_write_ptr(&ram, 64 * MB - 4, 8));
    ck_assert(!guestmem_hv_write(&g, 64 * MB - 4, 8));
    guestmem_dirty_stop(&g);
    ram.before_write = NULL;
}
END_TEST

START_TEST(too_little_ram_is_refused)
{
    ck_assert_int_eq(guestmem_layout(&map, MB, err, sizeof(err)), -1);
    ck_assert(strstr(err, "does not fit a PC"));
}
END_TEST

START_TEST(out_of_table_memory_is_reported)
{
    /* An allocator that gives the root and nothing more. */
    ram.size = 64 * MB;
    ram.host = (uint8_t *)(uintptr_t)(512 * MB);
    ck_assert_int_eq(guestmem_layout(&map, ram.size, err, sizeof(err)), 0);
    ck_assert_int_eq(
        guestmem_init(&g, &ram, &map, false, &svm_npt_format, 0, one_page, NULL, err, sizeof(err)),
        -1);
    ck_assert_str_eq(err, "NPT: cannot map 64 MiB of guest RAM: out of memory for second-level "
                          "tables");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hv_guestmem");
    TCase *tc = tcase_create("both formats");
    tcase_add_loop_test(tc, eager_maps_ram_and_nothing_else, 0, 2);
    tcase_add_loop_test(tc, lazy_maps_on_first_touch, 0, 2);
    tcase_add_loop_test(tc, protect_makes_violations_real, 0, 2);
    tcase_add_loop_test(tc, dirty_log_in_lazy_mode, 0, 2);
    tcase_add_loop_test(tc, hv_writes_are_logged_and_checked, 0, 2);
    tcase_add_test(tc, too_little_ram_is_refused);
    tcase_add_test(tc, out_of_table_memory_is_reported);
    suite_add_tcase(s, tc);
    return check_main(s);
}
