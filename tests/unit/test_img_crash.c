/*
 * Crash points, exhaustively: every metadata-changing operation is run once
 * to count its writes, then again and again with the file "dying" after
 * the first n writes (n = 0 .. all; later writes fail and are lost, which
 * is what a kill -9 leaves in the page cache).  Each truncated result must
 * open and check without refcount corruption: leaked clusters are allowed
 * (the qcow2 spec's price of ordering) and so, for the snapshot operations
 * only, are stale COPIED flags (QEMU has the same window: refcounts and
 * flags live in different clusters); check -r all must then leave a clean
 * image.  Every 512-byte sector must read as before or after the operation.
 */
#include "test_img_util.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* A memory file that accepts only its first `budget` writes. */
struct crashy {
    uint8_t *p;
    uint64_t len, cap;
    long budget; /* < 0: unlimited */
    long writes;
};

static int c_read(void *ctx, uint64_t off, void *buf, size_t n)
{
    struct crashy *c = ctx;
    size_t k = 0;
    if (off < c->len)
        k = c->len - off < n ? (size_t)(c->len - off) : n;
    memcpy(buf, c->p + off, k);
    memset((uint8_t *)buf + k, 0, n - k);
    return 0;
}

static int c_write(void *ctx, uint64_t off, const void *buf, size_t n)
{
    struct crashy *c = ctx;
    if (c->budget >= 0 && c->writes >= c->budget)
        return -IMG_EIO;
    c->writes++;
    if (off + n > c->cap) {
        uint64_t cap = (off + n) * 2;
        c->p = realloc(c->p, (size_t)cap);
        memset(c->p + c->cap, 0, (size_t)(cap - c->cap));
        c->cap = cap;
    }
    memcpy(c->p + off, buf, n);
    if (off + n > c->len)
        c->len = off + n;
    return 0;
}

static int c_flush(void *ctx)
{
    (void)ctx;
    return 0;
}

static int c_size(void *ctx, uint64_t *s)
{
    *s = ((struct crashy *)ctx)->len;
    return 0;
}

static int c_truncate(void *ctx, uint64_t s)
{
    struct crashy *c = ctx;
    if (c->budget >= 0 && c->writes >= c->budget)
        return -IMG_EIO;
    c->writes++;
    if (s > c->cap) {
        c->p = realloc(c->p, (size_t)s);
        memset(c->p + c->cap, 0, (size_t)(s - c->cap));
        c->cap = s;
    }
    if (s < c->len)
        memset(c->p + s, 0, (size_t)(c->len - s));
    c->len = s;
    return 0;
}

static struct img_io crashy_io(struct crashy *c)
{
    struct img_io io = {0};
    io.ctx = c;
    io.read = c_read;
    io.write = c_write;
    io.flush = c_flush;
    io.size = c_size;
    io.truncate = c_truncate;
    return io;
}

/* check's report lines, sorted by kind. */
static int copied_errors, refcount_errors;
static void count_report(void *ctx, const char *line)
{
    (void)ctx;
    if (!strncmp(line, "ERROR OFLAG_COPIED", 18))
        copied_errors++;
    else if (!strncmp(line, "ERROR", 5))
        refcount_errors++;
}
static struct img_env counting_env;

static struct img *open_c(struct crashy *c, unsigned flags)
{
    struct img_io io = crashy_io(c);
    struct img_err err;
    struct img *img;
    counting_env = *img_hosted_env();
    counting_env.report = count_report;
    if (img_open(&counting_env, &io, "crash", "qcow2", flags, &img, &err) < 0)
        return NULL;
    return img;
}

typedef int (*op_fn)(struct img *img);

#define SIZE (2u << 20)

static int op_snap_create(struct img *img)
{
    return img_snapshot_create(img, "new", 1, 2);
}
static int op_snap_apply(struct img *img)
{
    return img_snapshot_apply(img, "base");
}
static int op_snap_delete(struct img *img)
{
    return img_snapshot_delete(img, "base");
}
static int op_grow(struct img *img)
{
    return img_resize(img, 1ull << 34, IMG_PREALLOC_OFF, false);
}
static int op_shrink(struct img *img)
{
    return img_resize(img, SIZE / 2 + 512, IMG_PREALLOC_OFF, true);
}
static int op_make_empty(struct img *img)
{
    return img_make_empty(img);
}
static int op_cow_write(struct img *img)
{
    static uint8_t b[300000];
    memset(b, 0x77, sizeof(b));
    return img_write(img, 4096 + 100, b, sizeof(b));
}
static int op_compressed(struct img *img)
{
    static uint8_t b[4096];
    memset(b, 0x33, sizeof(b));
    return img_write_compressed(img, 8192, b, sizeof(b));
}
static int op_zero(struct img *img)
{
    return img_write_zeroes(img, 1000, 200000, IMG_ZERO_MAY_UNMAP);
}
static int op_big_write(struct img *img)
{
    /* Enough 512-byte clusters to need new refcount blocks and a larger
     * refcount table. */
    static uint8_t b[SIZE];
    pattern(b, sizeof(b), 99);
    return img_write(img, 0, b, sizeof(b));
}

static int op_bitmap_add(struct img *img)
{
    return img_bitmap_add(img, "new", 512, true);
}
static int op_bitmap_remove(struct img *img)
{
    return img_bitmap_remove(img, "b0");
}
static int op_bitmap_merge(struct img *img)
{
    return img_bitmap_merge(img, "b1", img, "b0");
}

static const struct {
    const char *name;
    op_fn fn;
    bool with_snapshot; /* base image has snapshot "base" */
    bool flags_may_lag; /* a crash may leave stale COPIED flags */
    uint32_t cs;
    int rbits;
    bool with_bitmaps; /* base image has bitmaps b0 (enabled, dirty) and b1 */
} ops[] = {
    {"snapshot create", op_snap_create, true, true, 4096, 16, false},
    {"snapshot apply", op_snap_apply, true, true, 4096, 16, false},
    {"snapshot delete", op_snap_delete, true, true, 4096, 16, false},
    {"grow (L1 moves)", op_grow, false, false, 4096, 16, false},
    {"shrink", op_shrink, false, false, 4096, 16, false},
    {"make empty", op_make_empty, false, false, 4096, 16, false},
    {"write over snapshot (COW)", op_cow_write, true, false, 4096, 16, false},
    {"compressed over data", op_compressed, false, false, 4096, 16, false},
    {"zero with unmap", op_zero, true, false, 4096, 16, false},
    {"big write, refcount table grows", op_big_write, false, false, 512, 64, false},
    /* Bitmaps are stored at close: new tables, directory, header, frees. */
    {"bitmap add", op_bitmap_add, false, false, 512, 16, true},
    {"bitmap remove", op_bitmap_remove, false, false, 512, 16, true},
    {"bitmap merge", op_bitmap_merge, false, false, 512, 16, true},
    {"write recorded by bitmaps", op_cow_write, false, false, 512, 16, true},
    {"grow with bitmaps", op_grow, false, false, 4096, 16, true},
};

/* The base image: data everywhere in the first 1 MiB, maybe a snapshot. */
static struct crashy make_base(int k)
{
    struct crashy c = {0};
    struct img_create_opts o;
    struct img_err err;
    struct img_io io = crashy_io(&c);
    c.budget = -1;
    img_create_opts_init(&o);
    o.size = SIZE;
    o.cluster_size = ops[k].cs;
    o.refcount_bits = ops[k].rbits;
    ck_assert_msg(img_create(img_hosted_env(), &io, &o, &err) == 0, "%s", err.msg);
    struct img *img = open_c(&c, IMG_OPEN_RW);
    ck_assert(img);
    uint8_t *b = malloc(SIZE / 2);
    pattern(b, SIZE / 2, 7);
    ck_assert_int_eq(img_write(img, 0, b, SIZE / 2), 0);
    if (ops[k].with_bitmaps) {
        ck_assert_int_eq(img_bitmap_add(img, "b0", 512, true), 0);
        ck_assert_int_eq(img_bitmap_add(img, "b1", 4096, false), 0);
        ck_assert_int_eq(img_close(img), 0);
        img = open_c(&c, IMG_OPEN_RW);
        ck_assert(img);
        pattern(b, 70000, 9);
        ck_assert_int_eq(img_write(img, 300000, b, 70000), 0);
    }
    if (ops[k].with_snapshot) {
        ck_assert_int_eq(img_snapshot_create(img, "base", 0, 0), 0);
        pattern(b, 65536, 8);
        ck_assert_int_eq(img_write(img, 0, b, 65536), 0);
    }
    ck_assert_int_eq(img_close(img), 0);
    free(b);
    return c;
}

static uint8_t *contents(struct crashy *c, uint64_t *size)
{
    struct img *img = open_c(c, 0);
    ck_assert(img);
    *size = img_size(img);
    uint64_t n = *size < SIZE ? *size : SIZE;
    uint8_t *b = calloc(1, SIZE);
    ck_assert_int_eq(img_read(img, 0, b, n), 0);
    img_close(img);
    return b;
}

START_TEST(test_every_crash_point)
{
    struct crashy base = make_base(_i), c;
    uint64_t sz_before, sz_after;
    uint8_t *before = contents(&base, &sz_before), *after;

    /* Full run: count the writes, remember the result. */
    c = base;
    c.p = malloc((size_t)base.cap);
    memcpy(c.p, base.p, (size_t)base.cap);
    c.writes = 0;
    struct img *img = open_c(&c, IMG_OPEN_RW);
    ck_assert(img);
    ck_assert_msg(ops[_i].fn(img) == 0, "%s: %s", ops[_i].name, img_strerror(img));
    int rc = img_close(img);
    ck_assert_msg(rc == 0, "%s: close: %d", ops[_i].name, rc);
    long total = c.writes;
    after = contents(&c, &sz_after);
    free(c.p);

    /* Every crash point for operations of up to 300 writes; a spread of
     * 150 points (and the first and last 50) for longer ones. */
    long stride = total > 300 ? total / 150 : 1;
    for (long n = 0; n <= total; n += (n < 50 || n > total - 50) ? 1 : stride) {
        c = base;
        c.p = malloc((size_t)base.cap);
        memcpy(c.p, base.p, (size_t)base.cap);
        c.writes = 0;
        c.budget = n;
        img = open_c(&c, IMG_OPEN_RW);
        if (img) {
            ops[_i].fn(img); /* fails once the budget is spent */
            img_close(img);
        }
        /* "Reboot": the surviving bytes are all there is. */
        c.budget = -1;
        img = open_c(&c, IMG_OPEN_RW | IMG_OPEN_NO_REPAIR);
        ck_assert_msg(img, "%s: crash after %ld of %ld writes: image does not open", ops[_i].name,
                      n, total);
        struct img_check_result r;
        copied_errors = refcount_errors = 0;
        ck_assert_int_eq(img_check(img, 0, &r), 0);
        ck_assert_msg(refcount_errors == 0 && r.check_errors == 0,
                      "%s: crash after %ld of %ld writes: %d refcount corruptions", ops[_i].name, n,
                      total, refcount_errors);
        ck_assert_msg(ops[_i].flags_may_lag || copied_errors == 0,
                      "%s: crash after %ld of %ld writes: stale COPIED flags", ops[_i].name, n,
                      total);
        /* Repair: leaks alone need check -r leaks; flags need -r all. */
        if (r.leaks || r.corruptions) {
            unsigned fix = IMG_CHECK_FIX_LEAKS | (r.corruptions ? IMG_CHECK_FIX_ERRORS : 0);
            ck_assert_int_eq(img_check(img, fix, &r), 0);
            ck_assert_int_eq(img_check(img, 0, &r), 0);
            ck_assert_msg(r.leaks + r.corruptions == 0,
                          "%s: crash after %ld: not clean after repair", ops[_i].name, n);
        }
        img_close(img);
        uint64_t sz;
        uint8_t *now = contents(&c, &sz);
        ck_assert_msg(sz == sz_before || sz == sz_after, "%s: crash after %ld: size %llu",
                      ops[_i].name, n, (unsigned long long)sz);
        for (uint64_t o = 0; o < SIZE && o < sz; o += 512)
            ck_assert_msg(!memcmp(now + o, before + o, 512) || !memcmp(now + o, after + o, 512),
                          "%s: crash after %ld of %ld writes: sector %llu is neither before nor "
                          "after",
                          ops[_i].name, n, total, (unsigned long long)(o / 512));
        free(now);
        free(c.p);
    }
    free(before);
    free(after);
    free(base.p);
}
END_TEST

Suite *crash_suite(void)
{
    Suite *s = suite_create("img_crash");
    TCase *t = tcase_create("crash points");
    tcase_set_timeout(t, 300);
    tcase_add_loop_test(t, test_every_crash_point, 0, (int)(sizeof(ops) / sizeof(ops[0])));
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(crash_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
