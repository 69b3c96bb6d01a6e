/*
 * Unit tests for klib's formatter, checked against the host libc's snprintf
 * (the behaviour klib promises to copy for the conversions it supports).
 */
#include <check.h>
#include <stdio.h>
#include <klib.h>

#include "check_main.h"

#pragma GCC diagnostic ignored "-Wformat"

#define SAME_AS_LIBC(...)                                                                          \
    do {                                                                                           \
        char ours[256], libc[256];                                                                 \
        int n1 = ksnprintf(ours, sizeof ours, __VA_ARGS__);                                        \
        int n2 = snprintf(libc, sizeof libc, __VA_ARGS__);                                         \
        ck_assert_str_eq(ours, libc);                                                              \
        ck_assert_int_eq(n1, n2);                                                                  \
    } while (0)

START_TEST(test_integers)
{
    SAME_AS_LIBC("%d|%5d|%-5d|%05d|%+d|% d", -42, 42, 42, -42, 42, 42);
    SAME_AS_LIBC("%i %u %d", 0, 4294967295u, -2147483647 - 1);
    SAME_AS_LIBC("%lld|%llu|%zu|%ld", -1LL, ~0ULL, (size_t)7, -5L);
    SAME_AS_LIBC("%hhd|%hd|%hhu|%hu", -3, -4, 300, 70000);
    SAME_AS_LIBC("%.0d|%.3d|%8.3d|%-8.3d|", 0, 7, -7, 7);
}
END_TEST

START_TEST(test_hex_octal_pointer)
{
    SAME_AS_LIBC("%x|%#x|%08X|%#o|%o|%#x", 255u, 255u, 255u, 8u, 8u, 0u);
    SAME_AS_LIBC("%#010x|%-#10x|", 0xabcu, 0xabcu);
    SAME_AS_LIBC("%llx", 0xfedcba9876543210ULL);
    SAME_AS_LIBC("%p", (void *)0x1234);
}
END_TEST

START_TEST(test_strings_chars)
{
    SAME_AS_LIBC("%s|%10s|%-10s|%.2s|%c|%%", "abc", "abc", "abc", "abc", 'x');
    SAME_AS_LIBC("%*d|%-*d|%.*s", 4, 1, 4, 2, 2, "xyz");
}
END_TEST

START_TEST(test_truncation)
{
    char buf[5];
    int n = ksnprintf(buf, sizeof buf, "%s", "hello world");
    ck_assert_int_eq(n, 11);
    ck_assert_str_eq(buf, "hell");
    ck_assert_int_eq(ksnprintf(NULL, 0, "%d", 12345), 5);
}
END_TEST

START_TEST(test_strtoull)
{
    const char *end;
    ck_assert_uint_eq(kstrtoull("0x1fZ", &end, 0), 0x1f);
    ck_assert_str_eq(end, "Z");
    ck_assert_uint_eq(kstrtoull("0755", &end, 0), 0755);
    ck_assert_uint_eq(kstrtoull("123M", &end, 10), 123);
    ck_assert_str_eq(end, "M");
    ck_assert_uint_eq(kstrtoull("ff", NULL, 16), 255);
    ck_assert_uint_eq(kstrtoull("x", &end, 10), 0);
    ck_assert_str_eq(end, "x");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("klib");
    TCase *tc = tcase_create("format");
    tcase_add_test(tc, test_integers);
    tcase_add_test(tc, test_hex_octal_pointer);
    tcase_add_test(tc, test_strings_chars);
    tcase_add_test(tc, test_truncation);
    tcase_add_test(tc, test_strtoull);
    suite_add_tcase(s, tc);
    return check_main(s);
}
