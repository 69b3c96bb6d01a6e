/*
 * Unit tests for hv/core/heap.c: allocations are aligned, inside the heap,
 * never overlap and keep their contents; freeing in any order coalesces
 * back to one block; page-aligned allocations leave the gap before them
 * usable; double frees and foreign pointers are refused without harm; a
 * long random run against a shadow record keeps every promise.
 */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/heap.h"
#include "check_main.h"

#define ARENA (4u << 20)

static struct heap h;
static uint8_t *arena;

static void setup(void)
{
    /* 2 MiB aligned, so that aligned requests are predictable: with only page
     * alignment, an arena starting just below a 2 MiB boundary has no room
     * for a 2 MiB-aligned 2 MiB block after a few small ones, and
     * page_aligned_keeps_the_gap failed now and then, by where libc put it. */
    arena = aligned_alloc(2u << 20, ARENA);
    heap_init(&h);
    heap_add(&h, arena, ARENA);
}

static void teardown(void)
{
    free(arena);
}

/* Everything free again is exactly one block of the whole arena. */
static void assert_all_free(void)
{
    struct heap_stats s;
    heap_stats(&h, &s);
    ck_assert_uint_eq(s.used_bytes, 0);
    ck_assert_uint_eq(s.free_blocks, 1);
    ck_assert_uint_eq(s.free_bytes, ARENA);
    ck_assert_uint_eq(s.largest_free, ARENA);
}

START_TEST(alloc_and_free_one)
{
    char *p = heap_alloc(&h, 100, 0);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq((uintptr_t)p % HEAP_ALIGN, 0);
    ck_assert((uint8_t *)p > arena && (uint8_t *)p + 100 <= arena + ARENA);
    ck_assert_uint_ge(heap_size_of(&h, p), 100);
    memset(p, 0xab, 100);
    ck_assert_int_eq(heap_free(&h, p), 0);
    assert_all_free();
}
END_TEST

START_TEST(bad_requests_refused)
{
    ck_assert_ptr_null(heap_alloc(&h, 0, 0));
    ck_assert_ptr_null(heap_alloc(&h, 16, 48));
    ck_assert_ptr_null(heap_alloc(&h, ARENA, 0));
    ck_assert_ptr_null(heap_alloc(&h, SIZE_MAX - 8, 0));
    ck_assert_int_eq(heap_free(&h, NULL), 0);
    assert_all_free();
}
END_TEST

START_TEST(page_aligned_keeps_the_gap)
{
    /* A small block first, then a page: the page must be aligned and the
     * room between them must still serve small requests. */
    void *a = heap_alloc(&h, 16, 0);
    void *pg = heap_alloc(&h, 4096, 4096);
    ck_assert_ptr_nonnull(pg);
    ck_assert_uint_eq((uintptr_t)pg % 4096, 0);
    void *b = heap_alloc(&h, 1000, 0);
    ck_assert((uintptr_t)b < (uintptr_t)pg);
    /* 2 MiB alignment, as guest RAM asks. */
    void *big = heap_alloc(&h, 2u << 20, 2u << 20);
    ck_assert_ptr_nonnull(big);
    ck_assert_uint_eq((uintptr_t)big % (2u << 20), 0);
    /* Any order of freeing coalesces back to one block. */
    ck_assert_int_eq(heap_free(&h, pg), 0);
    ck_assert_int_eq(heap_free(&h, big), 0);
    ck_assert_int_eq(heap_free(&h, a), 0);
    ck_assert_int_eq(heap_free(&h, b), 0);
    assert_all_free();
}
END_TEST

START_TEST(double_free_and_foreign_pointers_refused)
{
    char *p = heap_alloc(&h, 64, 0);
    char *q = heap_alloc(&h, 64, 0);
    ck_assert_int_eq(heap_free(&h, p), 0);
    ck_assert_int_eq(heap_free(&h, p), -1);
    /* Inside an allocation, outside the heap, misaligned. */
    ck_assert_int_eq(heap_free(&h, q + 16), -1);
    static char elsewhere[64];
    ck_assert_int_eq(heap_free(&h, elsewhere + 16), -1);
    ck_assert_int_eq(heap_free(&h, q + 1), -1);
    /* The heap is intact: q frees and all is one block again. */
    ck_assert_int_eq(heap_free(&h, q), 0);
    ck_assert_int_eq(heap_free(&h, q), -1);
    assert_all_free();
}
END_TEST

START_TEST(exhaustion_and_reuse)
{
    /* Fill with 64 KiB blocks until it refuses, then free every other one
     * and check the holes are reused for requests that fit them. */
    static void *p[128];
    unsigned n = 0;
    while (n < 128 && (p[n] = heap_alloc(&h, 65536 - 16, 0)))
        n++;
    ck_assert_uint_ge(n, 60);
    ck_assert_uint_lt(n, 128);
    for (unsigned i = 0; i < n; i += 2)
        ck_assert_int_eq(heap_free(&h, p[i]), 0);
    for (unsigned i = 0; i < n; i += 2) {
        p[i] = heap_alloc(&h, 65536 - 16, 0);
        ck_assert_ptr_nonnull(p[i]);
    }
    for (unsigned i = 0; i < n; i++)
        ck_assert_int_eq(heap_free(&h, p[i]), 0);
    assert_all_free();
}
END_TEST

START_TEST(two_regions)
{
    /* A second region not touching the first: both serve requests, and
     * the statistics count both. */
    uint8_t *more = aligned_alloc(4096, 65536);
    heap_add(&h, more, 65536);
    struct heap_stats s;
    heap_stats(&h, &s);
    ck_assert_uint_eq(s.free_bytes, ARENA + 65536);
    /* Too big for the second region, fits the first. */
    void *a = heap_alloc(&h, 1u << 20, 0);
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(heap_free(&h, a), 0);
    /* A tiny region is ignored. */
    heap_add(&h, more, 8);
    heap_stats(&h, &s);
    ck_assert_uint_eq(s.free_bytes, ARENA + 65536);
    free(more);
}
END_TEST

/* One live allocation of the random run. */
struct rec {
    uint8_t *p;
    size_t size;
    uint8_t fill;
};

/* True when the block still holds its fill: nothing else wrote over it. */
static bool intact(const struct rec *r)
{
    for (size_t k = 0; k < r->size; k++)
        if (r->p[k] != r->fill)
            return false;
    return true;
}

START_TEST(random_run_against_shadow)
{
    static struct rec live[512];
    unsigned n = 0;
    srand(12345);
    for (int step = 0; step < 20000; step++) {
        if (n < 512 && (n == 0 || rand() % 3)) {
            size_t size = 1 + (size_t)rand() % (rand() % 8 ? 512 : 40000);
            size_t align = rand() % 6 ? 0 : (size_t)1 << (4 + rand() % 9);
            uint8_t *p = heap_alloc(&h, size, align);
            if (!p)
                continue;
            if (align)
                ck_assert_uint_eq((uintptr_t)p % align, 0);
            ck_assert(p >= arena && p + size <= arena + ARENA);
            /* No overlap with any live block (their fill is intact after
             * this one is filled). */
            live[n] = (struct rec){p, size, (uint8_t)(step & 0xff)};
            memset(p, live[n].fill, size);
            n++;
        } else {
            unsigned i = (unsigned)rand() % n;
            ck_assert(intact(&live[i]));
            ck_assert_int_eq(heap_free(&h, live[i].p), 0);
            live[i] = live[--n];
        }
    }
    while (n) {
        ck_assert(intact(&live[n - 1]));
        ck_assert_int_eq(heap_free(&h, live[--n].p), 0);
    }
    assert_all_free();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hv_heap");
    TCase *tc = tcase_create("heap");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, alloc_and_free_one);
    tcase_add_test(tc, bad_requests_refused);
    tcase_add_test(tc, page_aligned_keeps_the_gap);
    tcase_add_test(tc, double_free_and_foreign_pointers_refused);
    tcase_add_test(tc, exhaustion_and_reuse);
    tcase_add_test(tc, two_regions);
    tcase_add_test(tc, random_run_against_shadow);
    suite_add_tcase(s, tc);
    return check_main(s);
}
