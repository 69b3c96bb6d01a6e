/*
 * Unit tests of the imgtool library: compressed clusters, snapshots,
 * check and repair, hostile headers, header extensions, backing chains and
 * xz images.
 */
#include "test_img_util.h"

#include <check.h>
#include <fcntl.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"

static struct img *fresh(uint64_t size, uint32_t cs)
{
    struct img_create_opts o;
    img_create_opts_init(&o);
    o.size = size;
    o.cluster_size = cs;
    return mem_qcow2(&o);
}

/* ---- compressed clusters ---- */

static void compressed_roundtrip(uint32_t cs, int type)
{
    struct img_create_opts o;
    img_create_opts_init(&o);
    o.size = 8 * (uint64_t)cs + 512; /* a short last cluster too */
    o.cluster_size = cs;
    o.compression_type = type;
    struct img *img = mem_qcow2(&o);
    uint8_t *data = malloc(o.size), *back = malloc(o.size);
    /* Even clusters compressible text, odd ones random (do not shrink). */
    for (uint64_t c = 0; c * cs < o.size; c++) {
        uint64_t n = o.size - c * cs < cs ? o.size - c * cs : cs;
        if (c % 2)
            pattern(data + c * cs, n, c);
        else
            for (uint64_t i = 0; i < n; i++)
                data[c * cs + i] = "compressible text "[i % 18];
        ck_assert_msg(img_write_compressed(img, c * cs, data + c * cs, n) == 0, "%s",
                      img_strerror(img));
    }
    ck_assert_int_eq(img_read(img, 0, back, o.size), 0);
    ck_assert(memcmp(data, back, o.size) == 0);
    /* Block status tells compressed from plain clusters. */
    struct img_extent e;
    ck_assert_int_eq(img_block_status(img, 0, o.size, true, &e), 0);
    ck_assert(e.flags & IMG_BS_COMPRESSED);
    ck_assert_int_eq(img_block_status(img, cs, o.size - cs, true, &e), 0);
    ck_assert(!(e.flags & IMG_BS_COMPRESSED));
    ck_assert(e.flags & IMG_BS_DATA);
    /* Overwrite part of a compressed cluster: it becomes a normal one. */
    memset(data + 100, 0x77, 1000);
    ck_assert_int_eq(img_write(img, 100, data + 100, 1000), 0);
    img = mem_reopen(img, IMG_OPEN_RW);
    ck_assert_int_eq(img_read(img, 0, back, o.size), 0);
    ck_assert(memcmp(data, back, o.size) == 0);
    struct img_check_result r;
    ck_assert_int_eq(img_check(img, 0, &r), 0);
    ck_assert_int_eq(r.corruptions + r.leaks, 0);
    /* Five even clusters were compressed; the overwrite of [100, 1100)
     * turned those it touched into normal clusters. */
    uint64_t touched = 0;
    for (uint64_t c = 0; c * cs < 1100; c += 2)
        touched++;
    ck_assert_uint_eq(r.compressed_clusters, 5 - touched);
    mem_free(img);
    free(data);
    free(back);
}

START_TEST(test_compressed)
{
    compressed_roundtrip(1u << _i, IMG_COMP_ZLIB);
    compressed_roundtrip(1u << _i, IMG_COMP_ZSTD);
}
END_TEST

/* ---- snapshots ---- */

START_TEST(test_snapshots)
{
    struct img *img = fresh(1 << 20, _i ? 512 : 65536);
    uint8_t a[65536], b[65536], out[65536];
    struct img_snapshot_info si;
    pattern(a, sizeof(a), 1);
    pattern(b, sizeof(b), 2);
    ck_assert_int_eq(img_write(img, 4096, a, sizeof(a)), 0);
    ck_assert_int_eq(img_snapshot_create(img, "first", 1000, 1), 0);
    ck_assert_int_eq(img_snapshot_create(img, "first", 1000, 1), -IMG_EEXIST);
    assert_clean(img);
    ck_assert_int_eq(img_write(img, 0, b, sizeof(b)), 0);
    ck_assert_int_eq(img_snapshot_create(img, "second", 2000, 0), 0);
    ck_assert_int_eq(img_snapshot_count(img), 2);
    ck_assert_int_eq(img_snapshot_get(img, 1, &si), 0);
    ck_assert_str_eq(si.id, "2");
    ck_assert_str_eq(si.name, "second");
    ck_assert_uint_eq(si.date_sec, 2000);
    ck_assert_uint_eq(si.disk_size, 1 << 20);
    img = mem_reopen(img, IMG_OPEN_RW);
    assert_clean(img);
    /* Back to the first state, by name; then the second, by id. */
    ck_assert_int_eq(img_snapshot_apply(img, "first"), 0);
    ck_assert_int_eq(img_read(img, 4096, out, sizeof(out)), 0);
    ck_assert(memcmp(out, a, sizeof(a)) == 0);
    assert_clean(img);
    ck_assert_int_eq(img_snapshot_apply(img, "2"), 0);
    ck_assert_int_eq(img_read(img, 0, out, sizeof(out)), 0);
    ck_assert(memcmp(out, b, sizeof(b)) == 0);
    ck_assert_int_eq(img_snapshot_delete(img, "first"), 0);
    ck_assert_int_eq(img_snapshot_delete(img, "first"), -IMG_ENOENT);
    ck_assert_int_eq(img_snapshot_delete(img, "second"), 0);
    ck_assert_int_eq(img_snapshot_count(img), 0);
    assert_clean(img);
    /* With every snapshot gone the clusters are ours again: written in
     * place, no new allocation. */
    uint64_t before, after;
    struct img_check_result r;
    ck_assert_int_eq(img_check(img, 0, &r), 0);
    before = r.image_end_offset;
    ck_assert_int_eq(img_write(img, 0, a, sizeof(a)), 0);
    ck_assert_int_eq(img_check(img, 0, &r), 0);
    after = r.image_end_offset;
    ck_assert_uint_eq(before, after);
    mem_free(img);
}
END_TEST

START_TEST(test_snapshot_refcount_overflow_refused_cleanly)
{
    /* 2-bit refcounts hold at most 3: the active image and one snapshot
     * fit (2), a second snapshot would need 3 for L2 tables shared by all
     * three trees plus copies, and is refused before anything changes. */
    struct img_create_opts o;
    img_create_opts_init(&o);
    o.size = 1 << 20;
    o.refcount_bits = 2;
    struct img *img = mem_qcow2(&o);
    uint8_t a[4096] = {3};
    ck_assert_int_eq(img_write(img, 0, a, sizeof(a)), 0);
    ck_assert_int_eq(img_snapshot_create(img, "s1", 0, 0), 0);
    ck_assert_int_eq(img_snapshot_create(img, "s2", 0, 0), -IMG_ERANGE);
    ck_assert(strstr(img_strerror(img), "refcount_bits=2"));
    ck_assert_int_eq(img_snapshot_count(img), 1);
    assert_clean(img);
    mem_free(img);
}
END_TEST

START_TEST(test_snapshot_load_tmp)
{
    struct img *img = fresh(1 << 20, 4096);
    uint8_t a[8192], b[8192], out[8192];
    pattern(a, sizeof(a), 1);
    pattern(b, sizeof(b), 2);
    ck_assert_int_eq(img_write(img, 0, a, sizeof(a)), 0);
    ck_assert_int_eq(img_snapshot_create(img, "old", 0, 0), 0);
    ck_assert_int_eq(img_write(img, 0, b, sizeof(b)), 0);
    ck_assert_int_eq(img_snapshot_load_tmp(img, NULL, "old"), -IMG_EINVAL);
    img = mem_reopen(img, 0);
    ck_assert_int_eq(img_snapshot_load_tmp(img, NULL, "nope"), -IMG_ENOENT);
    ck_assert_int_eq(img_snapshot_load_tmp(img, "1", "new"), -IMG_ENOENT);
    ck_assert_int_eq(img_snapshot_load_tmp(img, "1", "old"), 0);
    ck_assert_int_eq(img_read(img, 0, out, sizeof(out)), 0);
    ck_assert(memcmp(out, a, sizeof(a)) == 0);
    img = mem_reopen(img, 0);
    ck_assert_int_eq(img_read(img, 0, out, sizeof(out)), 0);
    ck_assert(memcmp(out, b, sizeof(b)) == 0);
    mem_free(img);
}
END_TEST

START_TEST(test_make_empty)
{
    /* _i = 0: version 3 (rebuilt from scratch), 1: version 2 (discard). */
    struct img_create_opts o;
    img_create_opts_init(&o);
    o.size = 4 << 20;
    o.cluster_size = 4096;
    o.compat = _i ? 2 : 3;
    struct img *img = mem_qcow2(&o);
    uint8_t a[100000], out[100000];
    pattern(a, sizeof(a), 5);
    ck_assert_int_eq(img_write(img, 12345, a, sizeof(a)), 0);
    ck_assert_int_eq(img_write_compressed(img, 1 << 20, a, 4096), 0);
    ck_assert_int_eq(img_make_empty(img), 0);
    assert_clean(img);
    ck_assert_int_eq(img_read(img, 12345, out, sizeof(out)), 0);
    for (size_t i = 0; i < sizeof(out); i++)
        ck_assert_int_eq(out[i], 0);
    struct img_extent e;
    ck_assert_int_eq(img_block_status(img, 0, o.size, false, &e), 0);
    ck_assert(!(e.flags & IMG_BS_ALLOCATED));
    ck_assert_uint_eq(e.length, o.size);
    /* Still fully usable afterwards. */
    ck_assert_int_eq(img_write(img, 0, a, sizeof(a)), 0);
    img = mem_reopen(img, IMG_OPEN_RW);
    ck_assert_int_eq(img_read(img, 0, out, sizeof(out)), 0);
    ck_assert(memcmp(out, a, sizeof(a)) == 0);
    assert_clean(img);
    mem_free(img);
}
END_TEST

START_TEST(test_snapshot_needs_refcount_bits)
{
    struct img_create_opts o;
    img_create_opts_init(&o);
    o.size = 1 << 20;
    o.refcount_bits = 1;
    struct img *img = mem_qcow2(&o);
    ck_assert_int_eq(img_snapshot_create(img, "s", 0, 0), -IMG_ENOTSUP);
    assert_clean(img);
    mem_free(img);
}
END_TEST

/* ---- check and repair ---- */

/* Refcount (16-bit) of cluster c in the memory image, by hand. */
static uint8_t *refcount_ptr(struct img *img, uint64_t c)
{
    uint64_t len;
    uint8_t *m = mem_bytes(img, &len);
    const struct img_qcow2_header *h = img_qcow2_get_header(img);
    uint64_t cs = 1ull << h->cluster_bits;
    uint64_t rt = h->refcount_table_offset;
    uint64_t blk = 0;
    for (int i = 0; i < 8; i++)
        blk = blk << 8 | m[rt + i];
    ck_assert(c < cs / 2);
    return m + blk + c * 2;
}

START_TEST(test_check_repairs_leak_and_corruption)
{
    struct img *img = fresh(1 << 20, 65536);
    uint8_t a[4096] = {1};
    struct img_check_result r;
    ck_assert_int_eq(img_write(img, 0, a, sizeof(a)), 0);
    img = mem_reopen(img, 0);
    /* Leak: raise the refcount of the data cluster from 1 to 2. */
    uint64_t e1, e2;
    const struct img_qcow2_header *h = img_qcow2_get_header(img);
    ck_assert_int_eq(img_qcow2_l1_entry(img, 0, &e1), 0);
    ck_assert_int_eq(img_qcow2_l2_entry(img, e1 & 0x00fffffffffffe00ull, 0, &e2, &e1), 0);
    uint64_t dc = (e2 & 0x00fffffffffffe00ull) >> h->cluster_bits;
    refcount_ptr(img, dc)[1] = 2;
    img = mem_reopen(img, IMG_OPEN_RW | IMG_OPEN_NO_REPAIR);
    ck_assert_int_eq(img_check(img, 0, &r), 0);
    ck_assert_int_eq(r.leaks, 1);
    ck_assert_int_eq(r.corruptions, 1); /* and COPIED no longer matches */
    ck_assert_int_eq(img_check(img, IMG_CHECK_FIX_LEAKS | IMG_CHECK_FIX_ERRORS, &r), 0);
    ck_assert_int_eq(r.leaks_fixed, 1);
    assert_clean(img);
    /* Corruption: refcount 0 for a cluster in use. */
    img = mem_reopen(img, 0);
    refcount_ptr(img, dc)[1] = 0;
    img = mem_reopen(img, IMG_OPEN_RW | IMG_OPEN_NO_REPAIR);
    ck_assert_int_eq(img_check(img, 0, &r), 0);
    ck_assert_int_ge(r.corruptions, 1);
    /* Only leaks may be fixed: a refcount of 0 needs a rebuild, refused
     * as in QEMU ("need to rebuild refcount structures"). */
    ck_assert_int_eq(img_check(img, IMG_CHECK_FIX_LEAKS, &r), -IMG_EIO);
    ck_assert_int_eq(r.check_errors, 1);
    /* -r all rebuilds the refcount structure, then frees the old one. */
    ck_assert_int_eq(img_check(img, IMG_CHECK_FIX_LEAKS | IMG_CHECK_FIX_ERRORS, &r), 0);
    ck_assert_int_ge(r.corruptions_fixed, 1);
    ck_assert_int_eq(r.leaks, 0);
    assert_clean(img);
    uint8_t out[4096];
    ck_assert_int_eq(img_read(img, 0, out, sizeof(out)), 0);
    ck_assert(memcmp(a, out, sizeof(a)) == 0);
    mem_free(img);
}
END_TEST

/*
 * A refcount table entry with reserved bits set, then one pointing past the
 * end of the file: the image opens read-only and reads, a plain read-write
 * open is refused without a write, and check -r all rebuilds the structure.
 */
START_TEST(test_damaged_refcount_table)
{
    for (int kind = 0; kind < 2; kind++) {
        struct img *img = fresh(1 << 20, 65536);
        uint8_t a[4096], out[4096];
        struct img_check_result r;
        uint64_t len, len2;
        pattern(a, sizeof(a), 7);
        ck_assert_int_eq(img_write(img, 0, a, sizeof(a)), 0);
        img = mem_reopen(img, 0);
        uint8_t *m = mem_bytes(img, &len);
        uint64_t rt = img_qcow2_get_header(img)->refcount_table_offset;
        if (kind == 0)
            m[rt + 7] |= 1; /* reserved bit 0 */
        else
            m[rt + 4] = 0x10; /* block at 0x10000000 + its old offset */
        uint8_t *copy = malloc(len);
        ck_assert_ptr_nonnull(copy);
        memcpy(copy, m, len);
        img = mem_reopen(img, 0);
        ck_assert_ptr_nonnull(img);
        ck_assert_int_eq(img_read(img, 0, out, sizeof(out)), 0);
        ck_assert(memcmp(a, out, sizeof(a)) == 0);
        ck_assert_int_eq(img_check(img, 0, &r), 0);
        ck_assert_int_ge(r.corruptions, 1);
        /* Writing through it is refused, and nothing was written. */
        {
            struct img_io io;
            struct img_err err;
            struct img *h;
            uint8_t *after = malloc(len);
            ck_assert_ptr_nonnull(after);
            ck_assert_int_eq(img_io_mem(&io), 0);
            ck_assert_int_eq(io.write(io.ctx, 0, copy, len), 0);
            ck_assert_int_eq(img_open(img_hosted_env(), &io, "m", "qcow2", IMG_OPEN_RW, &h, &err),
                             -IMG_ECORRUPT);
            ck_assert_msg(strstr(err.msg, "check -r all") != NULL, "%s", err.msg);
            ck_assert_int_eq(io.size(io.ctx, &len2), 0);
            ck_assert_uint_eq(len, len2);
            ck_assert_int_eq(io.read(io.ctx, 0, after, len), 0);
            ck_assert(memcmp(copy, after, len) == 0);
            io.close(io.ctx);
            free(after);
        }
        img = mem_reopen(img, IMG_OPEN_RW | IMG_OPEN_FORCE | IMG_OPEN_NO_REPAIR);
        ck_assert_int_eq(img_check(img, IMG_CHECK_FIX_LEAKS, &r), -IMG_EIO);
        ck_assert_int_eq(img_check(img, IMG_CHECK_FIX_LEAKS | IMG_CHECK_FIX_ERRORS, &r), 0);
        ck_assert_int_ge(r.corruptions_fixed, 1);
        assert_clean(img);
        /* Rebuilt: an ordinary read-write open works again. */
        img = mem_reopen(img, IMG_OPEN_RW);
        ck_assert_int_eq(img_write(img, 65536, a, sizeof(a)), 0);
        assert_clean(img);
        ck_assert_int_eq(img_read(img, 0, out, sizeof(out)), 0);
        ck_assert(memcmp(a, out, sizeof(a)) == 0);
        free(copy);
        mem_free(img);
    }
}
END_TEST

START_TEST(test_dirty_image_repaired_on_open)
{
    struct img_create_opts o;
    img_create_opts_init(&o);
    o.size = 1 << 20;
    o.lazy_refcounts = true;
    struct img *img = mem_qcow2(&o);
    uint8_t a[65536];
    pattern(a, sizeof(a), 5);
    ck_assert_int_eq(img_write(img, 0, a, sizeof(a)), 0);
    /* "Crash": copy the bytes while the dirty bit is set, and leak a
     * cluster the way lost refcount updates would look. */
    uint64_t len;
    uint8_t *m = mem_bytes(img, &len);
    uint8_t *copy = malloc(len);
    memcpy(copy, m, len);
    ck_assert(m[79] & 1);
    mem_free(img);
    struct img_io io;
    ck_assert_int_eq(img_io_mem(&io), 0);
    ck_assert_int_eq(io.write(io.ctx, 0, copy, len), 0);
    struct img_err err;
    ck_assert_int_eq(img_open(img_hosted_env(), &io, "m", NULL, IMG_OPEN_RW, &img, &err), 0);
    struct img_info info;
    ck_assert_int_eq(img_get_info(img, &info), 0);
    ck_assert(!info.dirty);
    assert_clean(img);
    uint8_t out[65536];
    ck_assert_int_eq(img_read(img, 0, out, sizeof(out)), 0);
    ck_assert(memcmp(a, out, sizeof(a)) == 0);
    img_close(img);
    free(copy);
}
END_TEST

/* ---- hostile headers ---- */

static void put_be(uint8_t *p, int n, uint64_t v)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* Mutate the header of a valid image and open it: read-only and
 * read-write opens must both fail with `code` (only the read-write one if
 * rw_only), and nothing is written. */
static void hostile_x(int field, int width, uint64_t value, int code, const char *msg, bool rw_only,
                      unsigned extra_flags)
{
    struct img *img = fresh(4 << 20, 65536);
    uint8_t a[65536];
    pattern(a, sizeof(a), 3);
    ck_assert_int_eq(img_write(img, 65536, a, sizeof(a)), 0);
    ck_assert_int_eq(img_snapshot_create(img, "s", 0, 0), 0);
    uint64_t len;
    uint8_t *m = mem_bytes(img, &len);
    uint8_t *copy = malloc(len), *after;
    memcpy(copy, m, len);
    mem_free(img);
    put_be(copy + field, width, value);
    for (int rw = rw_only; rw < 2; rw++) {
        struct img_io io;
        struct img_err err;
        struct img *h;
        ck_assert_int_eq(img_io_mem(&io), 0);
        ck_assert_int_eq(io.write(io.ctx, 0, copy, len), 0);
        int r = img_open(img_hosted_env(), &io, "h", "qcow2", (rw ? IMG_OPEN_RW : 0) | extra_flags,
                         &h, &err);
        ck_assert_msg(r == code, "field %d value %llx: got %d (%s), want %d", field,
                      (unsigned long long)value, r, err.msg, code);
        if (msg)
            ck_assert_msg(strstr(err.msg, msg), "message '%s' lacks '%s'", err.msg, msg);
        if (r == 0) {
            img_close(h); /* also closes io */
            continue;
        }
        after = malloc(len);
        io.read(io.ctx, 0, after, len);
        ck_assert_msg(memcmp(after, copy, len) == 0, "refused image was modified");
        free(after);
        io.close(io.ctx);
    }
    free(copy);
}

static void hostile(int field, int width, uint64_t value, int code, const char *msg)
{
    hostile_x(field, width, value, code, msg, false, 0);
}

START_TEST(test_hostile_headers)
{
    hostile(4, 4, 4, -IMG_ENOTSUP, "Unsupported qcow2 version 4");
    hostile(20, 4, 8, -IMG_ECORRUPT, "Unsupported cluster size");
    hostile(20, 4, 40, -IMG_ECORRUPT, "Unsupported cluster size");
    hostile(24, 8, 1ull << 62, -IMG_ECORRUPT, "Image is too big");
    hostile(24, 8, 1ull << 40, -IMG_ECORRUPT, "L1 table is too small");
    hostile(32, 4, 1, -IMG_ENOTSUP, "Encrypted");
    hostile(36, 4, 0xffffffff, -IMG_ECORRUPT, "Active L1 table too large");
    hostile(40, 8, 0x7fffffffff0000ull, -IMG_ECORRUPT, "Active L1 table");
    hostile(40, 8, 0x10001, -IMG_ECORRUPT, "Active L1 table offset invalid");
    hostile(40, 8, 0, -IMG_ECORRUPT, "overlaps the header");
    hostile(48, 8, 1ull << 50, -IMG_ECORRUPT, "Reference count table");
    hostile(56, 4, 0x10000000, -IMG_ECORRUPT, "Reference count table too large");
    hostile(56, 4, 0, -IMG_ECORRUPT, "does not contain a reference count table");
    hostile(60, 4, 1000000, -IMG_ECORRUPT, "Snapshot table too large");
    /* More entries than the file holds: as in QEMU the missing ones read
     * as zeros, the image opens, and check reports them as incomplete. */
    hostile(60, 4, 60000, 0, NULL);
    hostile(64, 8, 1ull << 45, 0, NULL); /* past the end: zeros, as above */
    hostile(64, 8, 0x10001, -IMG_ECORRUPT, "Snapshot table offset invalid");
    hostile(72, 8, 1ull << 40, -IMG_ENOTSUP, "Unknown incompatible feature: 10000000000");
    /* The external data file bit without the extension naming the file:
     * QEMU's words, and no write. */
    hostile(72, 8, 1ull << 2, -IMG_EINVAL, "'data-file' is required for this image");
    hostile(96, 4, 7, -IMG_ECORRUPT, "may not exceed 64 bits");
    hostile(100, 4, 50, -IMG_ECORRUPT, "header too short");
    hostile(100, 4, 1 << 20, -IMG_ECORRUPT, "exceeds cluster size");
    hostile(104, 1, 2, -IMG_ENOTSUP, "qcow2: unknown compression type: 2");
    hostile(104, 1, 1, -IMG_ECORRUPT, "Compression type incompatible feature bit must be set");
    hostile(8, 8, 70000, -IMG_ECORRUPT, "backing file");
}
END_TEST

START_TEST(test_corrupt_bit_refuses_rw)
{
    /* Read-only is allowed (to inspect it), read-write is not, unless
     * forced (check -r). */
    hostile_x(72, 8, 2, 0, NULL, false, IMG_OPEN_FORCE);
    hostile_x(72, 8, 2, -IMG_ECORRUPT, "Image is corrupt; cannot be opened read/write", true, 0);
}
END_TEST

START_TEST(test_bad_l2_offset_read_fails_cleanly)
{
    struct img *img = fresh(1 << 20, 65536);
    uint8_t a[512] = {1}, out[512];
    ck_assert_int_eq(img_write(img, 0, a, sizeof(a)), 0);
    uint64_t len, l1;
    const struct img_qcow2_header *h = img_qcow2_get_header(img);
    uint64_t l1off = h->l1_table_offset;
    ck_assert_int_eq(img_qcow2_l1_entry(img, 0, &l1), 0);
    uint8_t *m = mem_bytes(img, &len);
    uint64_t l2 = l1 & 0x00fffffffffffe00ull;
    /* An L2 entry pointing at an unaligned host offset. */
    put_be(m + l2, 8, (1ull << 63) | 0x10200);
    (void)l1off;
    img = mem_reopen(img, 0);
    ck_assert_int_eq(img_read(img, 0, out, sizeof(out)), -IMG_ECORRUPT);
    ck_assert(strstr(img_strerror(img), "unaligned"));
    struct img_check_result r;
    ck_assert_int_eq(img_check(img, 0, &r), 0);
    ck_assert_int_ge(r.corruptions, 1);
    mem_free(img);
}
END_TEST

START_TEST(test_overlap_write_refused)
{
    struct img *img = fresh(1 << 20, 65536);
    uint8_t a[512] = {1};
    ck_assert_int_eq(img_write(img, 0, a, sizeof(a)), 0);
    uint64_t len, l1;
    const struct img_qcow2_header *h = img_qcow2_get_header(img);
    uint64_t l1off = h->l1_table_offset;
    ck_assert_int_eq(img_qcow2_l1_entry(img, 0, &l1), 0);
    uint8_t *m = mem_bytes(img, &len);
    /* The data entry claims the L1 table's cluster as its own. */
    put_be(m + (l1 & 0x00fffffffffffe00ull), 8, (1ull << 63) | l1off);
    img = mem_reopen(img, IMG_OPEN_RW);
    m = mem_bytes(img, &len);
    uint8_t *before = malloc(len);
    memcpy(before, m, len);
    ck_assert_int_eq(img_write(img, 0, a, sizeof(a)), -IMG_ECORRUPT);
    ck_assert(strstr(img_strerror(img), "overlaps metadata"));
    m = mem_bytes(img, &len);
    ck_assert(memcmp(before, m, len) == 0);
    free(before);
    mem_free(img);
}
END_TEST

START_TEST(test_refused_open_writes_nothing)
{
    /* Autoclear bits would be cleared on a read-write open, but the
     * backing file is missing: the open fails and the file is unchanged.
     * Likewise a dirty image whose metadata is damaged. */
    struct img *img = fresh(1 << 20, 65536);
    uint8_t a[4096] = {1};
    ck_assert_int_eq(img_write(img, 0, a, sizeof(a)), 0);
    ck_assert_int_eq(img_set_backing(img, "/nonexistent/base.raw", "raw"), 0);
    img = mem_reopen(img, 0 | IMG_OPEN_NO_BACKING);
    uint64_t len, l1;
    uint8_t *m = mem_bytes(img, &len);
    put_be(m + 88, 8, 1); /* autoclear: bitmaps */
    for (int pass = 0; pass < 2; pass++) {
        uint8_t *copy = malloc(len), *after = malloc(len);
        struct img_io io;
        struct img_err err;
        struct img *h;
        memcpy(copy, m, len);
        if (pass == 1) {
            /* Dirty, and the L2 entry points past the end of the file. */
            ck_assert_int_eq(img_qcow2_l1_entry(img, 0, &l1), 0);
            put_be(copy + 72, 8, 1);
            put_be(copy + 80, 8, 1);
            put_be(copy + (l1 & 0x00fffffffffffe00ull), 8, (1ull << 63) | (1ull << 40));
        }
        ck_assert_int_eq(img_io_mem(&io), 0);
        ck_assert_int_eq(io.write(io.ctx, 0, copy, len), 0);
        int r = img_open(img_hosted_env(), &io, "m", "qcow2",
                         IMG_OPEN_RW | (pass ? IMG_OPEN_NO_BACKING : 0), &h, &err);
        ck_assert_msg(r < 0, "pass %d: open should fail", pass);
        io.read(io.ctx, 0, after, len);
        ck_assert_msg(memcmp(after, copy, len) == 0, "pass %d: refused image was modified", pass);
        io.close(io.ctx);
        free(copy);
        free(after);
    }
    mem_free(img);
}
END_TEST

/* ---- header extensions ---- */

START_TEST(test_unknown_extension_preserved_autoclear_cleared)
{
    struct img *img = fresh(1 << 20, 65536);
    uint64_t len;
    img = mem_reopen(img, 0);
    uint8_t *m = mem_bytes(img, &len);
    /* Insert an unknown extension in front of the feature table. */
    uint32_t hl = 112;
    memmove(m + hl + 16, m + hl, 4096);
    put_be(m + hl, 4, 0x12345678);
    put_be(m + hl + 4, 4, 5);
    memcpy(m + hl + 8, "hello", 5);
    put_be(m + 88, 8, 0x8001); /* autoclear: bitmaps + an unknown bit */
    img = mem_reopen(img, IMG_OPEN_RW);
    ck_assert_int_eq(img_set_backing(img, "base.raw", "raw"), 0);
    img = mem_reopen(img, IMG_OPEN_RW | IMG_OPEN_NO_BACKING);
    struct img_info info;
    ck_assert_int_eq(img_get_info(img, &info), 0);
    ck_assert_uint_eq(info.autoclear_features, 0);
    ck_assert_str_eq(info.backing_file, "base.raw");
    ck_assert_str_eq(info.backing_fmt, "raw");
    bool found = false;
    for (int i = 0; i < img_qcow2_ext_count(img); i++) {
        uint32_t t, l;
        const void *d;
        ck_assert_int_eq(img_qcow2_ext_get(img, i, &t, &l, &d), 0);
        if (t == 0x12345678 && l == 5 && !memcmp(d, "hello", 5))
            found = true;
    }
    ck_assert(found);
    mem_free(img);
}
END_TEST

/* ---- backing chains (real files in a temporary directory) ---- */

static char dir[64];

static void mkdir_tmp(void)
{
    strcpy(dir, "/tmp/test_img_XXXXXX");
    ck_assert(mkdtemp(dir) != NULL);
}

static void rm_tmp(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void path(char *out, const char *name)
{
    snprintf(out, 256, "%s/%s", dir, name);
}

START_TEST(test_backing_chain)
{
    char base[256], mid[256], top[256];
    struct img_create_opts o;
    struct img_err err;
    struct img *img;
    uint8_t a[200000], out[200000];
    mkdir_tmp();
    path(base, "base.raw");
    path(mid, "mid.qcow2");
    path(top, "top.qcow2");
    img_create_opts_init(&o);
    o.format = IMG_FMT_RAW;
    o.size = 1 << 20;
    ck_assert_int_eq(img_create_file(base, &o, &err), 0);
    ck_assert_int_eq(img_open_file(base, "raw", IMG_OPEN_RW, &img, &err), 0);
    pattern(a, sizeof(a), 9);
    ck_assert_int_eq(img_write(img, 0, a, sizeof(a)), 0);
    img_close(img);
    img_create_opts_init(&o);
    o.size = 2 << 20; /* longer than its backing file */
    o.cluster_size = 4096;
    o.backing_file = "base.raw"; /* relative to mid's directory */
    o.backing_fmt = "raw";
    ck_assert_msg(img_create_file(mid, &o, &err) == 0, "%s", err.msg);
    o.backing_file = mid;
    o.backing_fmt = "qcow2";
    ck_assert_int_eq(img_create_file(top, &o, &err), 0);
    ck_assert_msg(img_open_file(top, NULL, IMG_OPEN_RW, &img, &err) == 0, "%s", err.msg);
    ck_assert(img_backing(img) && img_backing(img_backing(img)));
    ck_assert_int_eq(img_read(img, 0, out, sizeof(out)), 0);
    ck_assert(memcmp(a, out, sizeof(a)) == 0);
    /* Beyond the backing file's end: zeros. */
    ck_assert_int_eq(img_read(img, 1 << 20, out, 4096), 0);
    for (int i = 0; i < 4096; i++)
        ck_assert_int_eq(out[i], 0);
    /* A partial-cluster write copies the rest of the cluster up. */
    ck_assert_int_eq(img_write(img, 5000, "XY", 2), 0);
    memcpy(a + 5000, "XY", 2);
    ck_assert_int_eq(img_read(img, 4096, out, 4096), 0);
    ck_assert(memcmp(a + 4096, out, 4096) == 0);
    struct img_extent e;
    ck_assert_int_eq(img_block_status(img, 4096, 4096, true, &e), 0);
    ck_assert_int_eq(e.depth, 0);
    ck_assert(e.flags & IMG_BS_ALLOCATED);
    ck_assert_int_eq(img_block_status(img, 0, 4096, true, &e), 0);
    ck_assert_int_eq(e.depth, 2);
    ck_assert(!(e.flags & IMG_BS_ALLOCATED));
    ck_assert(e.flags & IMG_BS_DATA);
    /* Zeroing over a backing file must hide the backing data. */
    ck_assert_int_eq(img_write_zeroes(img, 8192, 8192, IMG_ZERO_MAY_UNMAP), 0);
    ck_assert_int_eq(img_read(img, 8192, out, 8192), 0);
    for (int i = 0; i < 8192; i++)
        ck_assert_int_eq(out[i], 0);
    assert_clean(img);
    img_close(img);
    /* A loop: mid now names top as its backing file. */
    ck_assert_int_eq(img_open_file(mid, NULL, IMG_OPEN_RW | IMG_OPEN_NO_BACKING, &img, &err), 0);
    ck_assert_int_eq(img_set_backing(img, "top.qcow2", "qcow2"), 0);
    img_close(img);
    ck_assert_int_eq(img_open_file(top, NULL, 0, &img, &err), -IMG_ELOOP);
    ck_assert(strstr(err.msg, "loop"));
    /* A missing backing file. */
    ck_assert_int_eq(img_open_file(mid, NULL, IMG_OPEN_RW | IMG_OPEN_NO_BACKING, &img, &err), 0);
    ck_assert_int_eq(img_set_backing(img, "nonexistent.qcow2", NULL), 0);
    img_close(img);
    ck_assert_int_eq(img_open_file(mid, NULL, 0, &img, &err), -IMG_ENOENT);
    ck_assert(strstr(err.msg, "nonexistent.qcow2"));
    rm_tmp();
}
END_TEST

/* ---- xz ---- */

/* Compress data into out (appended as a further stream if append) in
 * blocks of `block` bytes (0: one block), as xz --block-size does. */
static void write_xz_stream(const char *out, const uint8_t *data, size_t len, uint64_t block,
                            bool append)
{
    lzma_mt mt;
    memset(&mt, 0, sizeof(mt));
    mt.threads = 1;
    mt.block_size = block;
    mt.preset = 1;
    mt.check = LZMA_CHECK_CRC64;
    lzma_stream s = LZMA_STREAM_INIT;
    ck_assert_int_eq(lzma_stream_encoder_mt(&s, &mt), LZMA_OK);
    size_t cap = len + len / 2 + 65536;
    uint8_t *buf = malloc(cap);
    s.next_in = data;
    s.avail_in = len;
    s.next_out = buf;
    s.avail_out = cap;
    ck_assert_int_eq(lzma_code(&s, LZMA_FINISH), LZMA_STREAM_END);
    FILE *f = fopen(out, append ? "ab" : "wb");
    fwrite(buf, 1, cap - s.avail_out, f);
    fclose(f);
    lzma_end(&s);
    free(buf);
}

static void write_xz(const char *out, const uint8_t *data, size_t len, uint64_t block)
{
    write_xz_stream(out, data, len, block, false);
}

/* Block layouts for test_xz_blocks: blocks as large as the backend's
 * 64 KiB read chunks, blocks of an odd size (so they start inside a chunk
 * and every chunk near a boundary spans two blocks), tiny odd blocks (many
 * blocks per chunk), one block, and two concatenated streams whose second
 * one starts at an odd offset. */
static const struct {
    uint64_t block, split, block2;
} xz_layouts[] = {
    {65536, 0, 0}, {100000, 0, 0}, {4097, 0, 0}, {0, 0, 0}, {0, 1000001, 70000},
};

START_TEST(test_xz_blocks)
{
    char xz[256];
    struct img_err err;
    struct img *img;
    size_t size = (3 << 20) + 12345;
    uint64_t block = xz_layouts[_i].block, split = xz_layouts[_i].split;
    uint8_t *data = malloc(size), *out = malloc(size);
    mkdir_tmp();
    path(xz, "b.raw.xz");
    pattern(data, size, 7);
    if (split) {
        write_xz_stream(xz, data, split, block, false);
        write_xz_stream(xz, data + split, size - split, xz_layouts[_i].block2, true);
    } else {
        write_xz(xz, data, size, block);
    }
    ck_assert_msg(img_open_file(xz, NULL, 0, &img, &err) == 0, "%s", err.msg);
    /* A raw image's virtual size is its length rounded up to a 512-byte
     * sector, as in qemu-img; the tail past the data reads as zeros. */
    uint64_t vsize = (size + 511) & ~(uint64_t)511;
    ck_assert_uint_eq(img_size(img), vsize);
    uint8_t tail[512];
    memset(tail, 0xee, sizeof tail);
    ck_assert_int_eq(img_read(img, size, tail, vsize - size), 0);
    for (uint64_t i = 0; i < vsize - size; i++)
        ck_assert_uint_eq(tail[i], 0);
    /* The whole image at once. */
    ck_assert_int_eq(img_read(img, 0, out, size), 0);
    ck_assert(memcmp(out, data, size) == 0);
    /* The backend caches what it decoded: open again before each phase so
     * the reads below really decode, in their own order. */
    img_close(img);
    ck_assert_int_eq(img_open_file(xz, NULL, 0, &img, &err), 0);
    /* Around every block boundary (and stream boundary): a few bytes and
     * a long read on each side, taken from the end backwards so each one
     * starts a block again. */
    uint64_t step = block ? block : 1000001;
    for (uint64_t b = (size / step) * step; b > 0; b -= step) {
        uint64_t lo = b > 70000 ? b - 70000 : 0, hi = b + 70000 < size ? b + 70000 : size;
        ck_assert_int_eq(img_read(img, b - 7, out, 14), 0);
        ck_assert_msg(memcmp(out, data + b - 7, 14) == 0, "boundary %llu", (unsigned long long)b);
        ck_assert_int_eq(img_read(img, lo, out, hi - lo), 0);
        ck_assert_msg(memcmp(out, data + lo, hi - lo) == 0, "around %llu", (unsigned long long)b);
    }
    img_close(img);
    ck_assert_int_eq(img_open_file(xz, NULL, 0, &img, &err), 0);
    /* Random reads, in no order, then the last bytes of the last block. */
    uint64_t r = 12345;
    for (int i = 0; i < 300; i++) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t off = (r >> 20) % size, len = (r >> 8) % 200000;
        if (off + len > size)
            len = size - off;
        ck_assert_int_eq(img_read(img, off, out, len), 0);
        ck_assert_msg(memcmp(out, data + off, len) == 0, "read %llu+%llu", (unsigned long long)off,
                      (unsigned long long)len);
    }
    ck_assert_int_eq(img_read(img, size - 100, out, 100), 0);
    ck_assert(memcmp(out, data + size - 100, 100) == 0);
    img_close(img);
    free(data);
    free(out);
    rm_tmp();
}
END_TEST

START_TEST(test_xz_images)
{
    char raw[256], xz[256], q[256], qxz[256];
    struct img_create_opts o;
    struct img_err err;
    struct img *img;
    size_t size = 3 << 20;
    uint8_t *data = malloc(size), *out = malloc(size);
    mkdir_tmp();
    path(raw, "a.raw");
    path(xz, "a.raw.xz");
    path(q, "a.qcow2");
    path(qxz, "a.qcow2.xz");
    pattern(data, size / 2, 4);
    for (size_t i = size / 2; i < size; i++)
        data[i] = (uint8_t)(i / 1000);
    /* Multi-block xz of a raw image: seekable through the index. */
    write_xz(xz, data, size, 256 << 10);
    ck_assert(img_file_is_xz(xz));
    ck_assert_msg(img_open_file(xz, NULL, 0, &img, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(img_size(img), size);
    /* Backwards reads force block restarts. */
    for (int k = 11; k >= 0; k--) {
        size_t off = (size_t)k * 250000;
        ck_assert_int_eq(img_read(img, off, out, 100000), 0);
        ck_assert(memcmp(out, data + off, 100000) == 0);
    }
    img_close(img);
    ck_assert_int_eq(img_open_file(xz, NULL, IMG_OPEN_RW, &img, &err), -IMG_EROFS);
    /* A qcow2 image compressed with xz as one block. */
    img_create_opts_init(&o);
    o.size = size;
    o.cluster_size = 4096;
    ck_assert_int_eq(img_create_file(q, &o, &err), 0);
    ck_assert_int_eq(img_open_file(q, NULL, IMG_OPEN_RW, &img, &err), 0);
    ck_assert_int_eq(img_write(img, 0, data, size), 0);
    img_close(img);
    FILE *f = fopen(q, "rb");
    fseek(f, 0, SEEK_END);
    long ql = ftell(f);
    uint8_t *qb = malloc((size_t)ql);
    fseek(f, 0, SEEK_SET);
    ck_assert_int_eq(fread(qb, 1, (size_t)ql, f), ql);
    fclose(f);
    write_xz(qxz, qb, (size_t)ql, 0);
    ck_assert_msg(img_open_file(qxz, NULL, 0, &img, &err) == 0, "%s", err.msg);
    struct img_info info;
    ck_assert_int_eq(img_get_info(img, &info), 0);
    ck_assert_int_eq(info.format, IMG_FMT_QCOW2);
    ck_assert_int_eq(img_read(img, 0, out, size), 0);
    ck_assert(memcmp(out, data, size) == 0);
    img_close(img);
    /* A truncated .xz is refused with a message. */
    ck_assert_int_eq(truncate(qxz, 100), 0);
    ck_assert_int_eq(img_open_file(qxz, NULL, 0, &img, &err), -IMG_ECORRUPT);
    ck_assert(strstr(err.msg, "xz"));
    free(qb);
    free(data);
    free(out);
    rm_tmp();
}
END_TEST

START_TEST(test_measure_matches_qemu)
{
    /* qemu-img measure -O qcow2 --size 1G: required 393216, fully
     * allocated 1074135040 (QEMU 7.2, 64 KiB clusters, 16-bit refcounts). */
    struct img_create_opts o;
    uint64_t req, full;
    img_create_opts_init(&o);
    o.size = 1ull << 30;
    ck_assert_int_eq(img_measure(&o, 0, &req, &full, NULL), 0);
    ck_assert_uint_eq(req, 393216);
    ck_assert_uint_eq(full, 1074135040);
}
END_TEST

/* ---- amend refcount_bits: the refcount structure rewritten ---- */

/* Every width from 16 to _i bits and back: data, snapshot and counts
 * survive, the image stays clean, and a width too narrow for a shared
 * cluster is refused leaving the image as it was. */
START_TEST(test_amend_refcount_width)
{
    static const int widths[] = {1, 2, 4, 8, 32, 64};
    struct img *img = fresh(8 << 20, 4096);
    uint8_t a[65536], b[65536], out[65536];
    struct img_create_opts o;
    struct img_info info;
    pattern(a, sizeof(a), 7);
    pattern(b, sizeof(b), 8);
    ck_assert_int_eq(img_write(img, 0, a, sizeof(a)), 0);
    ck_assert_int_eq(img_write(img, 5 << 20, b, sizeof(b)), 0);
    ck_assert_int_eq(img_snapshot_create(img, "s", 1, 0), 0);
    ck_assert_int_eq(img_write(img, 0, b, sizeof(b)), 0);
    img_create_opts_init(&o);
    o.compat = 0;       /* keep the version */
    o.cluster_size = 0; /* and the cluster size */
    o.refcount_bits = widths[_i];
    if (widths[_i] == 1) {
        /* The snapshot shares clusters: a refcount of 2 needs 2 bits. */
        ck_assert_int_eq(img_amend(img, &o), -IMG_EINVAL);
        ck_assert_ptr_nonnull(strstr(img_strerror(img), "Cannot decrease refcount entry width"));
        ck_assert_int_eq(img_get_info(img, &info), 0);
        ck_assert_int_eq(info.refcount_bits, 16);
        assert_clean(img);
        mem_free(img);
        return;
    }
    ck_assert_int_eq(img_amend(img, &o), 0);
    ck_assert_int_eq(img_get_info(img, &info), 0);
    ck_assert_int_eq(info.refcount_bits, widths[_i]);
    assert_clean(img);
    /* The new structure is what a fresh open finds, and it allocates. */
    img = mem_reopen(img, IMG_OPEN_RW);
    assert_clean(img);
    ck_assert_int_eq(img_write(img, 7 << 20, a, sizeof(a)), 0);
    ck_assert_int_eq(img_read(img, 0, out, sizeof(out)), 0);
    ck_assert(memcmp(out, b, sizeof(b)) == 0);
    /* Applying the snapshot needs room for one more reference, which the
     * library wants 4 bits for (qemu-img manages with 2). */
    if (widths[_i] >= 4) {
        ck_assert_int_eq(img_snapshot_apply(img, "s"), 0);
        ck_assert_int_eq(img_read(img, 0, out, sizeof(out)), 0);
        ck_assert(memcmp(out, a, sizeof(a)) == 0);
        ck_assert_int_eq(img_read(img, 5 << 20, out, sizeof(out)), 0);
        ck_assert(memcmp(out, b, sizeof(b)) == 0);
        assert_clean(img);
    }
    /* And back to 16 bits. */
    o.refcount_bits = 16;
    ck_assert_int_eq(img_amend(img, &o), 0);
    img = mem_reopen(img, IMG_OPEN_RW);
    assert_clean(img);
    ck_assert_int_eq(img_get_info(img, &info), 0);
    ck_assert_int_eq(info.refcount_bits, 16);
    mem_free(img);
}
END_TEST

Suite *features_suite(void)
{
    Suite *s = suite_create("img_features");
    TCase *t = tcase_create("features");
    tcase_set_timeout(t, 120);
    tcase_add_loop_test(t, test_compressed, 9, 22);
    tcase_add_loop_test(t, test_snapshots, 0, 2);
    tcase_add_test(t, test_snapshot_needs_refcount_bits);
    tcase_add_test(t, test_snapshot_load_tmp);
    tcase_add_loop_test(t, test_make_empty, 0, 2);
    tcase_add_test(t, test_snapshot_refcount_overflow_refused_cleanly);
    tcase_add_test(t, test_check_repairs_leak_and_corruption);
    tcase_add_test(t, test_dirty_image_repaired_on_open);
    tcase_add_test(t, test_hostile_headers);
    tcase_add_test(t, test_corrupt_bit_refuses_rw);
    tcase_add_test(t, test_bad_l2_offset_read_fails_cleanly);
    tcase_add_test(t, test_overlap_write_refused);
    tcase_add_test(t, test_refused_open_writes_nothing);
    tcase_add_test(t, test_damaged_refcount_table);
    tcase_add_test(t, test_unknown_extension_preserved_autoclear_cleared);
    tcase_add_test(t, test_backing_chain);
    tcase_add_test(t, test_xz_images);
    tcase_add_loop_test(t, test_xz_blocks, 0, (int)(sizeof(xz_layouts) / sizeof(xz_layouts[0])));
    tcase_add_test(t, test_measure_matches_qemu);
    tcase_add_loop_test(t, test_amend_refcount_width, 0, 6);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return check_main(features_suite());
}
