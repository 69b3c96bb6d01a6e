/*
 * Unit tests for hv/core/inflate.c, hv's DEFLATE decoder, with zlib as the
 * oracle: data compressed by zlib's deflate as QEMU compresses qcow2
 * clusters (raw stream, window bits -12), with every strategy zlib has
 * (stored, fixed codes, dynamic codes, Huffman only, run lengths) and at
 * every level, must come back byte for byte; damaged streams (cut short,
 * bytes flipped, back-references before the start, random bytes) must be
 * refused or decoded without a store outside the output buffer, which is
 * allocated to its exact size with a guard after it.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "check_main.h"
#include "core/inflate.h"

#define CLUSTER 65536

/* Compress `in` as QEMU's qcow2_compress does: raw deflate, window -12. */
static size_t qemu_deflate(const uint8_t *in, size_t len, uint8_t *out, size_t cap, int level,
                           int strategy)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    ck_assert_int_eq(deflateInit2(&z, level, Z_DEFLATED, -12, 9, strategy), Z_OK);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t n = z.total_out;
    deflateEnd(&z);
    return n;
}

/* Test data: text-like runs, repeats at many distances, and noise. */
static void make_data(uint8_t *p, size_t len, unsigned seed)
{
    srand(seed);
    for (size_t i = 0; i < len; i++) {
        unsigned kind = (unsigned)(i / 4096 + seed) % 4;
        if (kind == 0)
            p[i] = (uint8_t)("sector 0000abcd\n"[i % 16]);
        else if (kind == 1 && i >= 300)
            p[i] = p[i - 1 - (unsigned)rand() % 300];
        else if (kind == 2)
            p[i] = 0;
        else
            p[i] = (uint8_t)rand();
    }
}

START_TEST(matches_zlib)
{
    static uint8_t in[CLUSTER], comp[2 * CLUSTER], out[CLUSTER + 1];
    const int strategies[] = {Z_DEFAULT_STRATEGY, Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE, Z_FIXED};
    for (unsigned seed = 0; seed < 4; seed++) {
        make_data(in, CLUSTER, seed);
        for (int level = 0; level <= 9; level += 3) {
            for (unsigned st = 0; st < sizeof(strategies) / sizeof(strategies[0]); st++) {
                size_t n = qemu_deflate(in, CLUSTER, comp, sizeof(comp), level, strategies[st]);
                out[CLUSTER] = 0xa5;
                ck_assert_msg(inflate_raw(out, CLUSTER, comp, n) == 0,
                              "seed %u level %d strategy %u", seed, level, st);
                ck_assert_int_eq(memcmp(out, in, CLUSTER), 0);
                ck_assert_uint_eq(out[CLUSTER], 0xa5);
                /* QEMU pads a compressed cluster to whole sectors: the
                 * garbage after the stream is not looked at. */
                memset(comp + n, 0xff, 600);
                ck_assert_int_eq(inflate_raw(out, CLUSTER, comp, n + 600), 0);
            }
        }
    }
}
END_TEST

START_TEST(short_and_partial)
{
    static uint8_t in[CLUSTER], comp[2 * CLUSTER], out[CLUSTER];
    make_data(in, CLUSTER, 7);
    size_t n = qemu_deflate(in, CLUSTER, comp, sizeof(comp), 6, Z_DEFAULT_STRATEGY);
    /* The input cut short: the output cannot be filled. */
    ck_assert_int_eq(inflate_raw(out, CLUSTER, comp, n / 2), -1);
    ck_assert_int_eq(inflate_raw(out, CLUSTER, comp, 0), -1);
    /* The stream ends before the output is full: refused. */
    ck_assert_int_eq(inflate_raw(out, CLUSTER + 0, comp,
                                 qemu_deflate(in, 1000, comp, sizeof(comp), 6, Z_DEFAULT_STRATEGY)),
                     -1);
    /* A smaller output is filled from the start of a longer stream. */
    n = qemu_deflate(in, CLUSTER, comp, sizeof(comp), 6, Z_DEFAULT_STRATEGY);
    ck_assert_int_eq(inflate_raw(out, 5000, comp, n), 0);
    ck_assert_int_eq(memcmp(out, in, 5000), 0);
}
END_TEST

START_TEST(hostile_streams)
{
    /* Reserved block type 11. */
    static const uint8_t bad_type[] = {0x07};
    /* A stored block whose NLEN is not LEN's complement. */
    static const uint8_t bad_stored[] = {0x01, 0x05, 0x00, 0x00, 0x00, 'a', 'b', 'c', 'd', 'e'};
    /* Fixed codes: a length/distance pair at the very start (distance 1
     * with nothing output yet): 0x03 sets BFINAL and BTYPE 01, then length
     * symbol 257 (code 0000001) and distance 0 (00000). */
    static const uint8_t early_ref[] = {0x03, 0x02, 0x00, 0x00};
    uint8_t *out = malloc(64);
    ck_assert_int_eq(inflate_raw(out, 64, bad_type, sizeof(bad_type)), -1);
    ck_assert_int_eq(inflate_raw(out, 64, bad_stored, sizeof(bad_stored)), -1);
    ck_assert_int_eq(inflate_raw(out, 64, early_ref, sizeof(early_ref)), -1);
    free(out);
    /* Damaged real streams and random bytes: any answer but a crash; the
     * exact-size output (checked by the guard byte) is never overrun. */
    static uint8_t in[8192], comp[16384];
    make_data(in, sizeof(in), 3);
    size_t n = qemu_deflate(in, sizeof(in), comp, sizeof(comp), 9, Z_DEFAULT_STRATEGY);
    uint8_t *buf = malloc(sizeof(in) + 1);
    srand(42);
    for (int round = 0; round < 3000; round++) {
        static uint8_t damaged[16384];
        memcpy(damaged, comp, n);
        if (round % 3 == 2) {
            for (size_t i = 0; i < n; i++)
                damaged[i] = (uint8_t)rand();
        } else {
            for (int k = 0; k < 1 + round % 5; k++)
                damaged[(size_t)rand() % n] ^= (uint8_t)(1u << (rand() % 8));
        }
        buf[sizeof(in)] = 0x5a;
        (void)inflate_raw(buf, sizeof(in), damaged, n);
        ck_assert_uint_eq(buf[sizeof(in)], 0x5a);
    }
    free(buf);
}
END_TEST

Suite *inflate_suite(void)
{
    Suite *s = suite_create("hv_inflate");
    TCase *tc = tcase_create("inflate");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, matches_zlib);
    tcase_add_test(tc, short_and_partial);
    tcase_add_test(tc, hostile_streams);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_main(inflate_suite());
}
