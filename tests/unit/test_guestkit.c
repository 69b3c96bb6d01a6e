/*
 * Unit tests for guestkit/runtime/parse.c: the same code the guests run,
 * compiled hosted.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "guestkit/parse.h"
#include "check_main.h"

START_TEST(split_plain_words)
{
    char buf[] = "build/guestkit/hello.elf world";
    char *argv[5];
    int argc = gk_split_args(buf, argv, 4, NULL);
    ck_assert_int_eq(argc, 2);
    ck_assert_str_eq(argv[0], "build/guestkit/hello.elf");
    ck_assert_str_eq(argv[1], "world");
    ck_assert_ptr_null(argv[2]);
}
END_TEST

START_TEST(split_collapses_whitespace)
{
    /* Leading, repeated and trailing blanks of all kinds separate words and
     * never produce empty ones. */
    char buf[] = "  \tk  one\t\ttwo \n three \r ";
    char *argv[8];
    int argc = gk_split_args(buf, argv, 7, NULL);
    ck_assert_int_eq(argc, 4);
    ck_assert_str_eq(argv[0], "k");
    ck_assert_str_eq(argv[1], "one");
    ck_assert_str_eq(argv[2], "two");
    ck_assert_str_eq(argv[3], "three");
    ck_assert_ptr_null(argv[4]);
}
END_TEST

START_TEST(split_empty_line)
{
    char buf[] = "   ";
    char *argv[3] = {(char *)"x", (char *)"y", (char *)"z"};
    bool dropped = true;
    ck_assert_int_eq(gk_split_args(buf, argv, 2, &dropped), 0);
    ck_assert_ptr_null(argv[0]);
    ck_assert(!dropped);
}
END_TEST

START_TEST(split_too_many_words)
{
    char buf[] = "a b c d e";
    char *argv[4];
    bool dropped = false;
    int argc = gk_split_args(buf, argv, 3, &dropped);
    ck_assert_int_eq(argc, 3);
    ck_assert(dropped);
    ck_assert_str_eq(argv[2], "c");
    ck_assert_ptr_null(argv[3]);
}
END_TEST

START_TEST(split_exactly_full)
{
    char buf[] = "a b c";
    char *argv[4];
    bool dropped = true;
    ck_assert_int_eq(gk_split_args(buf, argv, 3, &dropped), 3);
    ck_assert(!dropped);
}
END_TEST

/* A memory map as a loader lays it out: entries of 'size' + 4 bytes. */
static size_t put_entry(unsigned char *map, size_t off, uint32_t size, uint64_t addr, uint64_t len,
                        uint32_t type)
{
    struct mb_mmap_entry e = {.size = size, .addr = addr, .len = len, .type = type};
    memcpy(map + off, &e, sizeof(e));
    return off + size + 4;
}

START_TEST(mmap_walks_all_entries)
{
    unsigned char map[256] = {0};
    size_t len = 0;
    len = put_entry(map, len, 20, 0, 0x9fc00, MB_MEMORY_AVAILABLE);
    len = put_entry(map, len, 20, 0x100000, 0x7ee0000, MB_MEMORY_AVAILABLE);
    len = put_entry(map, len, 20, 0xfffc0000, 0x40000, MB_MEMORY_RESERVED);
    uintptr_t base = (uintptr_t)map;

    const struct mb_mmap_entry *e = gk_mmap_walk(base, (uint32_t)len, NULL);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(e->len, 0x9fc00);
    e = gk_mmap_walk(base, (uint32_t)len, e);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(e->addr, 0x100000);
    e = gk_mmap_walk(base, (uint32_t)len, e);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(e->type, MB_MEMORY_RESERVED);
    ck_assert_ptr_null(gk_mmap_walk(base, (uint32_t)len, e));
}
END_TEST

START_TEST(mmap_honours_larger_size_field)
{
    /* A loader may use bigger entries (size 24); the walker must step by
     * size + 4, not by sizeof(struct mb_mmap_entry). */
    unsigned char map[256] = {0};
    size_t len = 0;
    len = put_entry(map, len, 24, 0x1000, 0x2000, MB_MEMORY_AVAILABLE);
    len = put_entry(map, len, 24, 0x100000, 0x3000, MB_MEMORY_NVS);
    const struct mb_mmap_entry *e = gk_mmap_walk((uintptr_t)map, (uint32_t)len, NULL);
    e = gk_mmap_walk((uintptr_t)map, (uint32_t)len, e);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(e->addr, 0x100000);
    ck_assert_uint_eq(e->type, MB_MEMORY_NVS);
    ck_assert_ptr_null(gk_mmap_walk((uintptr_t)map, (uint32_t)len, e));
}
END_TEST

START_TEST(mmap_refuses_truncated_entry)
{
    /* A length that cuts the second entry short: only the first is seen. */
    unsigned char map[256] = {0};
    size_t len = 0;
    len = put_entry(map, len, 20, 0, 0x1000, MB_MEMORY_AVAILABLE);
    len = put_entry(map, len, 20, 0x100000, 0x1000, MB_MEMORY_AVAILABLE);
    const struct mb_mmap_entry *e = gk_mmap_walk((uintptr_t)map, (uint32_t)(len - 4), NULL);
    ck_assert_ptr_nonnull(e);
    ck_assert_ptr_null(gk_mmap_walk((uintptr_t)map, (uint32_t)(len - 4), e));
    /* An empty map has no entries at all. */
    ck_assert_ptr_null(gk_mmap_walk((uintptr_t)map, 0, NULL));
}
END_TEST

static Suite *guestkit_suite(void)
{
    Suite *s = suite_create("guestkit");
    TCase *args = tcase_create("args");
    tcase_add_test(args, split_plain_words);
    tcase_add_test(args, split_collapses_whitespace);
    tcase_add_test(args, split_empty_line);
    tcase_add_test(args, split_too_many_words);
    tcase_add_test(args, split_exactly_full);
    suite_add_tcase(s, args);
    TCase *mmap = tcase_create("mmap");
    tcase_add_test(mmap, mmap_walks_all_entries);
    tcase_add_test(mmap, mmap_honours_larger_size_field);
    tcase_add_test(mmap, mmap_refuses_truncated_entry);
    suite_add_tcase(s, mmap);
    return s;
}

int main(void)
{
    return check_main(guestkit_suite());
}
