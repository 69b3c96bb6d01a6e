/*
 * Unit tests of the imgtool library core: qcow2 round trips for every
 * cluster size and refcount width, extended L2, zeroing, resizing, lazy
 * refcounts, and hostile headers.  Images live in memory.
 */
#include "test_img_util.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"

/* Random writes mirrored into a shadow buffer, then read back before and
 * after a reopen, and the metadata checked. */
static void roundtrip(uint32_t cluster, int rbits, int compat, bool extl2)
{
    struct img_create_opts o;
    uint64_t size = 3 * 1024 * 1024 + 512;
    uint8_t *shadow = calloc(1, size), *buf = malloc(size);
    img_create_opts_init(&o);
    o.size = size;
    o.cluster_size = cluster;
    o.refcount_bits = rbits;
    o.compat = compat;
    o.extended_l2 = extl2;
    struct img *img = mem_qcow2(&o);
    ck_assert_uint_eq(img_size(img), size);
    srand(cluster * 131 + (unsigned)rbits);
    for (int i = 0; i < 60; i++) {
        uint64_t off = (uint64_t)rand() % size;
        uint64_t len = (uint64_t)rand() % 150000 + 1;
        if (len > size - off)
            len = size - off;
        pattern(buf, len, (uint64_t)i);
        ck_assert_msg(img_write(img, off, buf, len) == 0, "write: %s", img_strerror(img));
        memcpy(shadow + off, buf, len);
        if (i % 10 == 9) {
            /* Zero a range too (partial clusters at both ends). */
            uint64_t zo = (uint64_t)rand() % size, zl = (uint64_t)rand() % 300000;
            if (zl > size - zo)
                zl = size - zo;
            ck_assert_msg(img_write_zeroes(img, zo, zl, i % 20 == 9 ? IMG_ZERO_MAY_UNMAP : 0) == 0,
                          "zero: %s", img_strerror(img));
            memset(shadow + zo, 0, zl);
        }
    }
    ck_assert_int_eq(img_read(img, 0, buf, size), 0);
    ck_assert(memcmp(buf, shadow, size) == 0);
    img = mem_reopen(img, IMG_OPEN_RW);
    memset(buf, 0xaa, size);
    ck_assert_int_eq(img_read(img, 0, buf, size), 0);
    ck_assert(memcmp(buf, shadow, size) == 0);
    assert_clean(img);
    struct img_info info;
    ck_assert_int_eq(img_get_info(img, &info), 0);
    ck_assert_int_eq(info.refcount_bits, rbits);
    ck_assert_uint_eq(info.cluster_size, cluster);
    ck_assert_int_eq(info.qcow2_version, compat);
    ck_assert_int_eq(info.extended_l2, extl2);
    mem_free(img);
    free(shadow);
    free(buf);
}

START_TEST(test_roundtrip_refcount_widths)
{
    /* _i selects the refcount order 0..6, with 512-byte clusters (the
     * smallest, so refcount blocks and the refcount table must grow). */
    roundtrip(512, 1 << _i, 3, false);
    roundtrip(65536, 1 << _i, 3, false);
}
END_TEST

START_TEST(test_roundtrip_cluster_sizes)
{
    /* _i is the cluster size in bits: 9 (512 B) .. 21 (2 MiB). */
    roundtrip(1u << _i, 16, 3, false);
    roundtrip(1u << _i, 16, 2, false);
}
END_TEST

START_TEST(test_roundtrip_extended_l2)
{
    roundtrip(1u << _i, 16, 3, true);
}
END_TEST

START_TEST(test_unwritten_reads_zero)
{
    struct img_create_opts o;
    img_create_opts_init(&o);
    o.size = 1 << 20;
    struct img *img = mem_qcow2(&o);
    uint8_t buf[4096];
    memset(buf, 1, sizeof(buf));
    ck_assert_int_eq(img_read(img, 12345, buf, sizeof(buf)), 0);
    for (size_t i = 0; i < sizeof(buf); i++)
        ck_assert_int_eq(buf[i], 0);
    /* Out of range accesses are refused, not clamped. */
    ck_assert_int_eq(img_read(img, (1 << 20) - 10, buf, 20), -IMG_ERANGE);
    ck_assert_int_eq(img_write(img, 1 << 20, buf, 1), -IMG_ERANGE);
    mem_free(img);
}
END_TEST

START_TEST(test_read_only_refuses_writes)
{
    struct img_create_opts o;
    img_create_opts_init(&o);
    o.size = 1 << 20;
    struct img *img = mem_qcow2(&o);
    img = mem_reopen(img, 0);
    uint8_t b = 1;
    ck_assert_int_eq(img_write(img, 0, &b, 1), -IMG_EROFS);
    mem_free(img);
}
END_TEST

START_TEST(test_resize)
{
    struct img_create_opts o;
    img_create_opts_init(&o);
    o.size = 1 << 20;
    o.cluster_size = 4096;
    struct img *img = mem_qcow2(&o);
    uint8_t buf[8192], out[8192];
    pattern(buf, sizeof(buf), 7);
    ck_assert_int_eq(img_write(img, (1 << 20) - 8192, buf, 8192), 0);
    /* Grow far enough that the L1 table must move. */
    ck_assert_int_eq(img_resize(img, 1ull << 32, IMG_PREALLOC_OFF, false), 0);
    ck_assert_uint_eq(img_size(img), 1ull << 32);
    ck_assert_int_eq(img_write(img, (1ull << 32) - 8192, buf, 8192), 0);
    ck_assert_int_eq(img_read(img, (1 << 20) - 8192, out, 8192), 0);
    ck_assert(memcmp(buf, out, 8192) == 0);
    assert_clean(img);
    /* Shrinking needs the explicit permission. */
    ck_assert_int_eq(img_resize(img, 1 << 19, IMG_PREALLOC_OFF, false), -IMG_EINVAL);
    ck_assert_int_eq(img_resize(img, (1 << 20) - 4096, IMG_PREALLOC_OFF, true), 0);
    ck_assert_int_eq(img_read(img, (1 << 20) - 8192, out, 4096), 0);
    ck_assert(memcmp(buf, out, 4096) == 0);
    img = mem_reopen(img, IMG_OPEN_RW);
    ck_assert_uint_eq(img_size(img), (1 << 20) - 4096);
    assert_clean(img);
    mem_free(img);
}
END_TEST

START_TEST(test_prealloc_metadata)
{
    struct img_create_opts o;
    img_create_opts_init(&o);
    o.size = 4 << 20;
    o.prealloc = IMG_PREALLOC_METADATA;
    struct img *img = mem_qcow2(&o);
    struct img_extent e;
    ck_assert_int_eq(img_block_status(img, 0, o.size, true, &e), 0);
    ck_assert(e.flags & IMG_BS_ALLOCATED);
    ck_assert_uint_eq(e.length, o.size);
    assert_clean(img);
    mem_free(img);
}
END_TEST

START_TEST(test_lazy_refcounts_dirty_bit)
{
    struct img_create_opts o;
    img_create_opts_init(&o);
    o.size = 1 << 20;
    o.lazy_refcounts = true;
    struct img *img = mem_qcow2(&o);
    uint8_t buf[512] = {1};
    struct img_info info;
    ck_assert_int_eq(img_write(img, 0, buf, sizeof(buf)), 0);
    ck_assert_int_eq(img_get_info(img, &info), 0);
    ck_assert(info.lazy_refcounts);
    ck_assert(info.dirty);
    ck_assert_int_eq(img_flush(img), 0);
    ck_assert_int_eq(img_get_info(img, &info), 0);
    ck_assert(!info.dirty);
    mem_free(img);
}
END_TEST

START_TEST(test_create_option_errors)
{
    struct img_create_opts o;
    struct img_io io;
    struct img_err err;
    img_create_opts_init(&o);
    o.size = 1 << 20;
    ck_assert_int_eq(img_io_mem(&io), 0);
    o.cluster_size = 3000;
    ck_assert_int_eq(img_create(img_hosted_env(), &io, &o, &err), -IMG_EINVAL);
    ck_assert_str_eq(err.msg, "Cluster size must be a power of two between 512 and 2048k");
    o.cluster_size = 65536;
    o.compat = 2;
    o.lazy_refcounts = true;
    ck_assert_int_eq(img_create(img_hosted_env(), &io, &o, &err), -IMG_EINVAL);
    o.lazy_refcounts = false;
    o.refcount_bits = 8;
    ck_assert_int_eq(img_create(img_hosted_env(), &io, &o, &err), -IMG_EINVAL);
    o.compat = 3;
    o.refcount_bits = 3;
    ck_assert_int_eq(img_create(img_hosted_env(), &io, &o, &err), -IMG_EINVAL);
    o.refcount_bits = 16;
    o.extended_l2 = true;
    o.cluster_size = 4096;
    ck_assert_int_eq(img_create(img_hosted_env(), &io, &o, &err), -IMG_EINVAL);
    /* Nothing was written by the refused attempts. */
    uint64_t sz;
    ck_assert_int_eq(io.size(io.ctx, &sz), 0);
    ck_assert_uint_eq(sz, 0);
    io.close(io.ctx);
}
END_TEST

/* A relative backing name is relative to the directory of the image that
 * names it; the resolved name of one level is the referrer of the next. */
START_TEST(test_backing_path)
{
    char b[64];
    ck_assert(img_backing_path("w/c.qcow2", "d1/b.qcow2", b, sizeof(b)));
    ck_assert_str_eq(b, "w/d1/b.qcow2");
    ck_assert(img_backing_path(b, "d2/a.qcow2", b + 32, 32));
    ck_assert_str_eq(b + 32, "w/d1/d2/a.qcow2");
    ck_assert(img_backing_path("c.qcow2", "b.qcow2", b, sizeof(b)));
    ck_assert_str_eq(b, "b.qcow2");
    ck_assert(img_backing_path("/x/c.qcow2", "../b.qcow2", b, sizeof(b)));
    ck_assert_str_eq(b, "/x/../b.qcow2");
    ck_assert(img_backing_path("w/c.qcow2", "/abs/b.qcow2", b, sizeof(b)));
    ck_assert_str_eq(b, "/abs/b.qcow2");
    /* Too long for the buffer: refused, not cut. */
    ck_assert(!img_backing_path("w/c.qcow2", "b.qcow2", b, 9));
    ck_assert(img_backing_path("w/c.qcow2", "b.qcow2", b, 10));
}
END_TEST

Suite *basic_suite(void)
{
    Suite *s = suite_create("img_basic");
    TCase *t = tcase_create("qcow2");
    tcase_set_timeout(t, 120);
    tcase_add_loop_test(t, test_roundtrip_refcount_widths, 0, 7);
    tcase_add_loop_test(t, test_roundtrip_cluster_sizes, 9, 22);
    tcase_add_loop_test(t, test_roundtrip_extended_l2, 14, 22);
    tcase_add_test(t, test_unwritten_reads_zero);
    tcase_add_test(t, test_read_only_refuses_writes);
    tcase_add_test(t, test_resize);
    tcase_add_test(t, test_prealloc_metadata);
    tcase_add_test(t, test_lazy_refcounts_dirty_bit);
    tcase_add_test(t, test_create_option_errors);
    tcase_add_test(t, test_backing_path);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return check_main(basic_suite());
}
