/*
 * Library-level interoperability with QEMU: images the library writes
 * (every create option, random writes and zeroing, compressed clusters,
 * snapshots, overlays) must pass `qemu-img check` and compare equal to a
 * raw shadow copy with `qemu-img compare`; snapshots the library takes
 * must read back through `qemu-img convert -l`.  Needs qemu-img (qemu-utils).
 */
#include "test_img_util.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <unistd.h>
#include <klib.h>

#include "check_main.h"

static char dir[64];
static bool have_qemu;

static void setup(void)
{
    strcpy(dir, "/tmp/test_img_interop_XXXXXX");
    ck_assert(mkdtemp(dir) != NULL);
    have_qemu = system("qemu-img --version >/dev/null 2>&1") == 0;
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    return system(cmd);
}

/* Write random data and zeros into the image, mirrored into shadow. */
static void scribble(struct img *img, uint8_t *shadow, uint64_t size, unsigned seed, int n)
{
    uint8_t *buf = malloc(300000);
    srand(seed);
    for (int i = 0; i < n; i++) {
        uint64_t off = ((uint64_t)rand() * 7919) % size, len = (uint64_t)rand() % 300000 + 1;
        if (len > size - off)
            len = size - off;
        if (i % 5 == 4) {
            ck_assert_msg(img_write_zeroes(img, off, len, i % 2 ? IMG_ZERO_MAY_UNMAP : 0) == 0,
                          "%s", img_strerror(img));
            memset(shadow + off, 0, len);
        } else {
            pattern(buf, len, (uint64_t)seed * 1000 + (uint64_t)i);
            ck_assert_msg(img_write(img, off, buf, len) == 0, "%s", img_strerror(img));
            memcpy(shadow + off, buf, len);
        }
    }
    free(buf);
}

static void save(const char *path, const uint8_t *b, uint64_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert(f && fwrite(b, 1, len, f) == len);
    fclose(f);
}

/* qemu-img agrees: no errors and the same contents as the shadow. */
static void qemu_agrees(const char *img, const uint8_t *shadow, uint64_t size)
{
    char raw[128];
    snprintf(raw, sizeof(raw), "%s/shadow.raw", dir);
    save(raw, shadow, size);
    ck_assert_msg(sh("qemu-img check -q %s", img) == 0, "qemu-img check failed on %s", img);
    ck_assert_msg(sh("qemu-img compare -q %s %s", img, raw) == 0, "qemu-img compare differs");
}

static const struct {
    uint32_t cs;
    int rb, compat, extl2, lazy, prealloc, ctype;
} variants[] = {
    {65536, 16, 3, 0, 0, IMG_PREALLOC_OFF, 0},  {512, 1, 3, 0, 0, IMG_PREALLOC_OFF, 0},
    {512, 64, 3, 0, 0, IMG_PREALLOC_OFF, 0},    {4096, 8, 3, 0, 1, IMG_PREALLOC_OFF, 0},
    {65536, 16, 2, 0, 0, IMG_PREALLOC_OFF, 0},  {2097152, 32, 3, 0, 0, IMG_PREALLOC_OFF, 1},
    {16384, 16, 3, 1, 0, IMG_PREALLOC_OFF, 0},  {65536, 16, 3, 1, 0, IMG_PREALLOC_METADATA, 0},
    {65536, 16, 3, 0, 0, IMG_PREALLOC_FULL, 0}, {4096, 2, 3, 0, 0, IMG_PREALLOC_FALLOC, 0},
};

START_TEST(test_written_images_pass_qemu)
{
    ck_assert_msg(have_qemu, "qemu-img is not installed (see mk/deps.sh)");
    char path[128];
    struct img_create_opts o;
    struct img_err err;
    struct img *img;
    uint64_t size = 12 << 20;
    uint8_t *shadow = calloc(1, size);
    snprintf(path, sizeof(path), "%s/v%d.qcow2", dir, _i);
    img_create_opts_init(&o);
    o.size = size;
    o.cluster_size = variants[_i].cs;
    o.refcount_bits = variants[_i].rb;
    o.compat = variants[_i].compat;
    o.extended_l2 = variants[_i].extl2;
    o.lazy_refcounts = variants[_i].lazy;
    o.prealloc = variants[_i].prealloc;
    o.compression_type = variants[_i].ctype;
    ck_assert_msg(img_create_file(path, &o, &err) == 0, "%s", err.msg);
    ck_assert_msg(sh("qemu-img check -q %s", path) == 0, "fresh image fails qemu-img check");
    ck_assert_int_eq(img_open_file(path, NULL, IMG_OPEN_RW, &img, &err), 0);
    scribble(img, shadow, size, (unsigned)_i + 1, 60);
    /* A few compressed clusters too (whole, unallocated or not). */
    for (uint64_t c = 0; c < 6; c++) {
        uint64_t off = c * 3 * o.cluster_size;
        size_t n = o.cluster_size;
        if (off + n > size)
            break;
        memset(shadow + off, (int)c + 'a', n);
        ck_assert_msg(img_write_compressed(img, off, shadow + off, n) == 0, "%s",
                      img_strerror(img));
    }
    ck_assert_int_eq(img_close(img), 0);
    qemu_agrees(path, shadow, size);
    free(shadow);
}
END_TEST

START_TEST(test_snapshots_read_by_qemu)
{
    ck_assert_msg(have_qemu, "qemu-img is not installed (see mk/deps.sh)");
    char path[128], raw[128];
    struct img_create_opts o;
    struct img_err err;
    struct img *img;
    uint64_t size = 8 << 20;
    uint8_t *shadow = calloc(1, size), *snap = malloc(size);
    snprintf(path, sizeof(path), "%s/snap.qcow2", dir);
    snprintf(raw, sizeof(raw), "%s/snap.raw", dir);
    img_create_opts_init(&o);
    o.size = size;
    o.cluster_size = _i ? 4096 : 65536;
    ck_assert_int_eq(img_create_file(path, &o, &err), 0);
    ck_assert_int_eq(img_open_file(path, NULL, IMG_OPEN_RW, &img, &err), 0);
    scribble(img, shadow, size, 11, 30);
    memcpy(snap, shadow, size);
    ck_assert_int_eq(img_snapshot_create(img, "one", 1700000000, 0), 0);
    scribble(img, shadow, size, 12, 30);
    ck_assert_int_eq(img_close(img), 0);
    qemu_agrees(path, shadow, size);
    save(raw, snap, size);
    ck_assert(sh("qemu-img convert -l one -O raw %s %s/out.raw && cmp -s %s/out.raw %s", path, dir,
                 dir, raw) == 0);
    /* And a snapshot QEMU takes, applied by the library. */
    ck_assert(sh("qemu-img snapshot -c two %s", path) == 0);
    ck_assert_int_eq(img_open_file(path, NULL, IMG_OPEN_RW, &img, &err), 0);
    uint8_t *later = malloc(size);
    memcpy(later, shadow, size);
    scribble(img, shadow, size, 13, 20);
    ck_assert_int_eq(img_snapshot_apply(img, "two"), 0);
    ck_assert_int_eq(img_snapshot_delete(img, "one"), 0);
    ck_assert_int_eq(img_close(img), 0);
    qemu_agrees(path, later, size);
    free(later);
    free(shadow);
    free(snap);
}
END_TEST

START_TEST(test_overlay_on_qemu_base)
{
    ck_assert_msg(have_qemu, "qemu-img is not installed (see mk/deps.sh)");
    char base[128], top[128];
    struct img_err err;
    struct img *img;
    uint64_t size = 8 << 20;
    uint8_t *shadow = malloc(size);
    snprintf(base, sizeof(base), "%s/base.qcow2", dir);
    snprintf(top, sizeof(top), "%s/top.qcow2", dir);
    pattern(shadow, size, 77);
    save(top, shadow, size); /* temporary raw source */
    ck_assert(sh("qemu-img convert -f raw -O qcow2 %s %s", top, base) == 0);
    ck_assert(sh("qemu-img create -q -f qcow2 -o cluster_size=%d%s -b base.qcow2 -F qcow2 %s",
                 _i ? 16384 : 65536, _i ? ",extended_l2=on" : "", top) == 0);
    ck_assert_msg(img_open_file(top, NULL, IMG_OPEN_RW, &img, &err) == 0, "%s", err.msg);
    scribble(img, shadow, size, 21, 50);
    ck_assert_int_eq(img_close(img), 0);
    qemu_agrees(top, shadow, size);
    free(shadow);
}
END_TEST

/*
 * The monitor's commit as hv makes it (hv/core/ctl_dev.c), on an overlay
 * of a base qemu-img made: the chain's own backing handle reopened
 * writable, img_commit() with bdrv_commit's zeros-as-data, reopened
 * read-only, the top emptied.  The top must read as before through the
 * chain it still has (the reopened handle sees the clusters the commit
 * allocated in the base), and qemu-img must find both images clean, the
 * base holding what the top showed, the top holding nothing of its own.
 */
START_TEST(test_commit_keeps_reading)
{
    ck_assert_msg(have_qemu, "qemu-img is not installed (see mk/deps.sh)");
    char base[128], top[128];
    struct img_err err;
    struct img *img, *failed = NULL;
    uint64_t size = 8 << 20;
    uint8_t *shadow = malloc(size), *back = malloc(size), *buf = malloc(65536);
    snprintf(base, sizeof(base), "%s/base.qcow2", dir);
    snprintf(top, sizeof(top), "%s/top.qcow2", dir);
    /* A base with data in its first half only. */
    memset(shadow, 0, size);
    pattern(shadow, size / 2, 5);
    save(top, shadow, size);
    ck_assert(sh("qemu-img convert -f raw -O qcow2 %s %s", top, base) == 0);
    ck_assert(sh("qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 %s", top) == 0);
    ck_assert_msg(img_open_file(top, NULL, IMG_OPEN_RW, &img, &err) == 0, "%s", err.msg);
    scribble(img, shadow, size, 31 + (unsigned)_i, 40);
    ck_assert_msg(img_reopen_backing(img, true, &err) == 0, "%s", err.msg);
    struct img_commit job = {.top = img,
                             .base_depth = 1,
                             .dst = img_backing(img),
                             .zeroes_as_data = _i == 0,
                             .buf = buf,
                             .buf_len = 65536,
                             .failed = &failed};
    ck_assert_msg(img_commit(&job) == 0, "%s", img_strerror(failed));
    ck_assert_msg(img_reopen_backing(img, false, &err) == 0, "%s", err.msg);
    ck_assert_msg(img_make_empty(img) == 0, "%s", img_strerror(img));
    ck_assert_int_eq(img_read(img, 0, back, size), 0);
    ck_assert_msg(memcmp(back, shadow, size) == 0, "the top reads otherwise after the commit");
    ck_assert_int_eq(img_close(img), 0);
    qemu_agrees(base, shadow, size);
    qemu_agrees(top, shadow, size);
    ck_assert_msg(sh("qemu-img map --output=json %s | grep -q '\"depth\": 0'", top) != 0,
                  "the top still holds data of its own");
    free(buf);
    free(back);
    free(shadow);
}
END_TEST

/*
 * A random mix of every write-side operation against a model: writes,
 * zeroing (with and without unmap), compressed clusters, snapshots taken,
 * applied and deleted, growing and shrinking.  After each step the image
 * must read like the model; at the end qemu-img must agree.
 */
START_TEST(test_random_operations)
{
    ck_assert_msg(have_qemu, "qemu-img is not installed (see mk/deps.sh)");
    static const uint32_t sizes[] = {512, 4096, 65536, 16384};
    char path[128];
    struct img_create_opts o;
    struct img_err err;
    struct img *img;
    uint32_t cs = sizes[_i % 4];
    uint64_t size = 4 << 20, cap = 8 << 20;
    uint8_t *model = calloc(1, cap), *buf = malloc(cap), *snaps[4] = {0};
    uint64_t snap_size[4] = {0};
    int nsnap = 0;
    snprintf(path, sizeof(path), "%s/rand%d.qcow2", dir, _i);
    img_create_opts_init(&o);
    o.size = size;
    o.cluster_size = cs;
    o.extended_l2 = _i == 3 || _i == 10;
    o.refcount_bits = _i == 1 ? 4 : _i == 11 ? 64 : 16;
    o.compat = _i == 8 ? 2 : 3;
    o.lazy_refcounts = _i == 9;
    o.compression_type = _i == 5 ? IMG_COMP_ZSTD : IMG_COMP_ZLIB;
    if (_i == 10)
        o.cluster_size = cs = 32768;
    if (_i >= 12) {
        /* Over a backing file (raw, 3 MiB: shorter than the overlay). */
        char base[128];
        snprintf(base, sizeof(base), "%s/rbase%d.raw", dir, _i);
        pattern(model, 3 << 20, 4242);
        save(base, model, 3 << 20);
        snprintf(base, sizeof(base), "rbase%d.raw", _i);
        o.backing_file = base;
        o.backing_fmt = "raw";
        if (_i == 13)
            o.compat = 2;
        if (_i == 14) {
            o.extended_l2 = true;
            o.cluster_size = cs = 16384;
        }
        ck_assert_int_eq(img_create_file(path, &o, &err), 0);
        o.backing_file = NULL;
    } else
        ck_assert_int_eq(img_create_file(path, &o, &err), 0);
    ck_assert_int_eq(img_open_file(path, NULL, IMG_OPEN_RW, &img, &err), 0);
    srand(1000 + (unsigned)_i);
    for (int step = 0; step < 150; step++) {
        int op = rand() % 20;
        uint64_t off = (uint64_t)rand() % size, len = (uint64_t)rand() % 100000 + 1;
        if (len > size - off)
            len = size - off;
        if (op < 8) {
            pattern(buf, len, (uint64_t)step);
            ck_assert_msg(img_write(img, off, buf, len) == 0, "%s", img_strerror(img));
            memcpy(model + off, buf, len);
        } else if (op < 11) {
            ck_assert_msg(img_write_zeroes(img, off, len, op == 8 ? 0 : IMG_ZERO_MAY_UNMAP) == 0,
                          "%s", img_strerror(img));
            memset(model + off, 0, len);
        } else if (op < 13) {
            uint64_t c = off / cs * cs, n = size - c < cs ? size - c : cs;
            for (uint64_t i = 0; i < n; i++)
                buf[i] = (uint8_t)("abc"[i % 3] + step);
            ck_assert_msg(img_write_compressed(img, c, buf, n) == 0, "%s", img_strerror(img));
            memcpy(model + c, buf, n);
        } else if (op == 13 && nsnap < 4) {
            char name[16];
            snprintf(name, sizeof(name), "s%d", nsnap);
            int r = img_snapshot_create(img, name, 0, 0);
            /* Narrow refcounts may refuse (compressed clusters share host
             * clusters, which then hold many references). */
            if (r == -IMG_ERANGE && o.refcount_bits < 16)
                continue;
            ck_assert_msg(r == 0, "%s", img_strerror(img));
            snaps[nsnap] = malloc(cap);
            memcpy(snaps[nsnap], model, cap);
            snap_size[nsnap++] = size;
        } else if (op == 14 && nsnap) {
            char name[16];
            int k = rand() % nsnap;
            snprintf(name, sizeof(name), "s%d", k);
            ck_assert_msg(img_snapshot_apply(img, name) == 0, "%s", img_strerror(img));
            memcpy(model, snaps[k], cap);
            size = snap_size[k];
        } else if (op == 15 && nsnap) {
            /* Delete the newest snapshot (names stay unique). */
            char name[16];
            snprintf(name, sizeof(name), "s%d", nsnap - 1);
            ck_assert_msg(img_snapshot_delete(img, name) == 0, "%s", img_strerror(img));
            free(snaps[--nsnap]);
            snaps[nsnap] = NULL;
        } else if (op == 16) {
            uint64_t ns = ((uint64_t)rand() % (cap / 512 - 1) + 1) * 512;
            if (ns < size && nsnap)
                continue; /* shrinking is refused with snapshots */
            if (nsnap && (o.compat == 2)) {
                /* Version 2 snapshots need not record their disk size,
                 * so QEMU refuses any resize of such an image. */
                ck_assert_int_eq(img_resize(img, ns, IMG_PREALLOC_OFF, true), -IMG_ENOTSUP);
                ck_assert_str_eq(img_strerror(img), "Can't resize a v2 image which has snapshots");
                continue;
            }
            ck_assert_msg(img_resize(img, ns, IMG_PREALLOC_OFF, true) == 0, "%s",
                          img_strerror(img));
            if (ns < size)
                memset(model + ns, 0, cap - ns);
            size = ns;
        }
        if (step % 5 == 4 || op >= 11) {
            ck_assert_uint_eq(img_size(img), size);
            ck_assert_int_eq(img_read(img, 0, buf, size), 0);
            uint64_t d = 0;
            while (d < size && buf[d] == model[d])
                d++;
            if (d < size)
                fprintf(stderr, "first diff at %llu (cluster %llu): got %02x want %02x\n",
                        (unsigned long long)d, (unsigned long long)(d / cs), buf[d], model[d]);
            ck_assert_msg(
                memcmp(buf, model, size) == 0,
                "contents differ after step %d (op %d off %llu len %llu size %llu nsnap %d)", step,
                op, (unsigned long long)off, (unsigned long long)len, (unsigned long long)size,
                nsnap);
        }
    }
    assert_clean(img);
    ck_assert_int_eq(img_close(img), 0);
    qemu_agrees(path, model, size);
    for (int i = 0; i < nsnap; i++) {
        char raw[128];
        snprintf(raw, sizeof(raw), "%s/snap%d.raw", dir, i);
        save(raw, snaps[i], snap_size[i]);
        /* qemu-img reads a snapshot with the image's current size: compare
         * what both lengths cover. */
        ck_assert_msg(sh("qemu-img convert -l s%d -O raw %s %s/out.raw && cmp -s -n %llu "
                         "%s/out.raw %s",
                         i, path, dir,
                         (unsigned long long)(snap_size[i] < size ? snap_size[i] : size), dir,
                         raw) == 0,
                      "snapshot s%d differs", i);
        free(snaps[i]);
    }
    free(model);
    free(buf);
}
END_TEST

/* New images are byte for byte what qemu-img 7.2 creates. */
static const struct {
    const char *qemu_opts;
    uint32_t cs;
    int rb, compat, extl2, lazy, ctype, prealloc;
    const char *backing;
} twins[] = {
    {"cluster_size=65536", 65536, 16, 3, 0, 0, 0, 0, NULL},
    {"cluster_size=512", 512, 16, 3, 0, 0, 0, 0, NULL},
    {"cluster_size=4096,refcount_bits=1", 4096, 1, 3, 0, 0, 0, 0, NULL},
    {"cluster_size=2M,refcount_bits=64", 2 << 20, 64, 3, 0, 0, 0, 0, NULL},
    {"compat=0.10", 65536, 16, 2, 0, 0, 0, 0, NULL},
    {"extended_l2=on", 65536, 16, 3, 1, 0, 0, 0, NULL},
    {"lazy_refcounts=on,compression_type=zstd", 65536, 16, 3, 0, 1, 1, 0, NULL},
    {"preallocation=metadata", 65536, 16, 3, 0, 0, 0, IMG_PREALLOC_METADATA, NULL},
    {"backing_file=base.raw,backing_fmt=raw", 65536, 16, 3, 0, 0, 0, 0, "base.raw"},
    {"cluster_size=4096,preallocation=metadata", 4096, 16, 3, 0, 0, 0, IMG_PREALLOC_METADATA, NULL},
    {"cluster_size=512,preallocation=full", 512, 16, 3, 0, 0, 0, IMG_PREALLOC_FULL, NULL},
    {"preallocation=falloc", 65536, 16, 3, 0, 0, 0, IMG_PREALLOC_FALLOC, NULL},
};

START_TEST(test_create_byte_identical)
{
    ck_assert_msg(have_qemu, "qemu-img is not installed (see mk/deps.sh)");
    char q[128], m[128];
    struct img_create_opts o;
    struct img_err err;
    snprintf(q, sizeof(q), "%s/q.qcow2", dir);
    snprintf(m, sizeof(m), "%s/m.qcow2", dir);
    ck_assert(sh("cd %s && qemu-img create -q -f qcow2 -u -o %s q.qcow2 64M", dir,
                 twins[_i].qemu_opts) == 0);
    img_create_opts_init(&o);
    o.size = 64 << 20;
    o.cluster_size = twins[_i].cs;
    o.refcount_bits = twins[_i].rb;
    o.compat = twins[_i].compat;
    o.extended_l2 = twins[_i].extl2;
    o.lazy_refcounts = twins[_i].lazy;
    o.compression_type = twins[_i].ctype;
    o.prealloc = twins[_i].prealloc;
    o.backing_file = twins[_i].backing;
    o.backing_fmt = twins[_i].backing ? "raw" : NULL;
    ck_assert_msg(img_create_file(m, &o, &err) == 0, "%s", err.msg);
    ck_assert_msg(sh("cmp -s %s %s", q, m) == 0, "differs from qemu-img create -o %s",
                  twins[_i].qemu_opts);
}
END_TEST

/*
 * Bytes [pos, pos + len) of the VM state that QEMU itself reads from the
 * active image (qemu-io's `read -b`, which reads through QEMU's
 * bdrv_load_vmstate), parsed from its hex dump.  len is a multiple of 512:
 * qemu-io refuses anything else.
 */
static void qemu_vmstate(const char *path, uint64_t pos, uint64_t len, uint8_t *out)
{
    char cmd[256], line[256];
    uint64_t seen = 0;
    snprintf(cmd, sizeof(cmd), "qemu-io -c 'read -b -v %llu %llu' %s", (unsigned long long)pos,
             (unsigned long long)len, path);
    FILE *p = popen(cmd, "r");
    ck_assert(p != NULL);
    while (fgets(line, sizeof(line), p)) {
        unsigned long long at;
        int used = 0;
        /* Dump lines only ("0001a2b0:  xx xx ..."), not the statistics
         * qemu-io prints after them, which start with numbers too. */
        if (strlen(line) < 58 || line[8] != ':' || sscanf(line, "%8llx:%n", &at, &used) != 1 ||
            used != 9 || at < pos || at + 16 > pos + len)
            continue;
        for (int i = 0; i < 16; i++) {
            unsigned byte;
            ck_assert(sscanf(line + used + 1 + i * 3, "%2x", &byte) == 1);
            out[at - pos + (uint64_t)i] = (uint8_t)byte;
        }
        seen += 16;
    }
    ck_assert_int_eq(pclose(p), 0);
    ck_assert_msg(seen == len, "qemu-io dumped %llu of %llu bytes", (unsigned long long)seen,
                  (unsigned long long)len);
}

/*
 * A savevm through the library: VM state written in pieces past the disk,
 * a snapshot recording it, the disk written on afterwards.  The library
 * reads the state back from the snapshot; real qemu-img lists the
 * snapshot with the state's size, date and VM clock and finds the image
 * clean; QEMU, after `qemu-img snapshot -a`, reads the very same bytes as
 * VM state (qemu-io read -b).  Deleting the snapshot gives every cluster
 * back.
 */
START_TEST(test_vmstate_read_by_qemu)
{
    ck_assert_msg(have_qemu, "qemu-img is not installed (see mk/deps.sh)");
    char path[128];
    struct img_create_opts o;
    struct img_err err;
    struct img *img;
    uint64_t size = 8 << 20, state_len = 300 * 1024;
    uint8_t *shadow = calloc(1, size), *state = malloc(state_len), *back = malloc(state_len);
    snprintf(path, sizeof(path), "%s/vm.qcow2", dir);
    img_create_opts_init(&o);
    o.size = size;
    o.cluster_size = _i == 1 ? 4096 : 65536;
    o.extended_l2 = _i == 2;
    ck_assert_int_eq(img_create_file(path, &o, &err), 0);
    ck_assert_int_eq(img_open_file(path, NULL, IMG_OPEN_RW, &img, &err), 0);
    scribble(img, shadow, size, 21, 20);
    /* A state with a zero stretch (reads as zeros, never written) and
     * pieces of odd lengths, as a serialiser streams them. */
    pattern(state, state_len, 77);
    memset(state + 100000, 0, 50000);
    for (uint64_t pos = 0; pos < state_len;) {
        uint64_t n = pos < 100000 ? 4099 : 65536;
        if (n > state_len - pos)
            n = state_len - pos;
        /* The part of the piece outside the zero stretch. */
        uint64_t a_end = pos + n < 100000 ? pos + n : 100000, b = pos > 150000 ? pos : 150000;
        if (pos < a_end)
            ck_assert_msg(img_vmstate_write(img, pos, state + pos, a_end - pos) == 0, "%s",
                          img_strerror(img));
        if (b < pos + n)
            ck_assert_msg(img_vmstate_write(img, b, state + b, pos + n - b) == 0, "%s",
                          img_strerror(img));
        pos += n;
    }
    struct img_snapshot_vm vm = {.date_sec = 1700000000,
                                 .date_nsec = 5000,
                                 .vm_clock_nsec = 61234567890ull,
                                 .vm_state_size = state_len};
    ck_assert_msg(img_snapshot_create_vm(img, "vm1", &vm) == 0, "%s", img_strerror(img));
    scribble(img, shadow, size, 22, 20);
    ck_assert_int_eq(img_snapshot_vmstate_read(img, "vm1", 0, back, state_len), 0);
    ck_assert(memcmp(back, state, state_len) == 0);
    /* Past the recorded length: refused, not whatever follows. */
    ck_assert_int_eq(img_snapshot_vmstate_read(img, "vm1", 1, back, state_len), -IMG_EINVAL);
    ck_assert_int_eq(img_snapshot_vmstate_read(img, "nope", 0, back, 1), -IMG_ENOENT);
    assert_clean(img);
    ck_assert_int_eq(img_close(img), 0);
    qemu_agrees(path, shadow, size);
    ck_assert(sh("qemu-img info --output=json %s | tr -d ' \\n' | grep -q "
                 "'\"vm-clock-nsec\":234567890,\"name\":\"vm1\",\"date-sec\":1700000000,"
                 "\"date-nsec\":5000,\"vm-clock-sec\":61,\"id\":\"1\",\"vm-state-size\":%llu'",
                 path, (unsigned long long)state_len) == 0);
    ck_assert(sh("qemu-img snapshot -l %s | grep -q '^1 *vm1 *300 KiB 2023-11-14 .* 00:01:01.234'",
                 path) == 0);
    /* The active image holds no state after the savevm, as after QEMU's;
     * applied, the snapshot's state is QEMU's VM state. */
    memset(back, 0xff, 4096);
    qemu_vmstate(path, 0, 4096, back);
    for (int i = 0; i < 4096; i++)
        ck_assert_int_eq(back[i], 0);
    ck_assert(sh("qemu-img snapshot -a vm1 %s", path) == 0);
    qemu_vmstate(path, 0, state_len, back);
    uint64_t diff = 0;
    while (diff < state_len && back[diff] == state[diff])
        diff++;
    ck_assert_msg(diff == state_len, "QEMU reads other VM state from byte %llu on",
                  (unsigned long long)diff);
    ck_assert(sh("qemu-img check -q %s", path) == 0);
    /* Deleted by the library: no leaks, no state left behind. */
    ck_assert_int_eq(img_open_file(path, NULL, IMG_OPEN_RW, &img, &err), 0);
    ck_assert_int_eq(img_snapshot_delete(img, "vm1"), 0);
    ck_assert_int_eq(img_close(img), 0);
    ck_assert(sh("qemu-img check -q %s", path) == 0);
    ck_assert(sh("qemu-img snapshot -l %s | grep -q vm1", path) != 0);
    free(shadow);
    free(state);
    free(back);
}
END_TEST

/*
 * The other way round: a snapshot real QEMU takes with `savevm` (a machine
 * with no devices, so its state is small).  The library reads the same
 * state QEMU reads (it starts with QEMU's "QEVM" magic), and applies the
 * snapshot, whose L1 table is longer than the disk needs; qemu-img then
 * finds the image clean and QEMU reads the same state again.
 */
START_TEST(test_vmstate_of_qemu_savevm)
{
    ck_assert_msg(have_qemu, "qemu-img is not installed (see mk/deps.sh)");
    char path[128];
    struct img_err err;
    struct img *img;
    struct img_snapshot_info info;
    snprintf(path, sizeof(path), "%s/qemu.qcow2", dir);
    ck_assert(sh("qemu-img create -q -f qcow2 %s 16M", path) == 0);
    ck_assert(sh("printf 'savevm s1\\nquit\\n' | qemu-system-x86_64 -M none -nodefaults "
                 "-display none -drive file=%s,if=none,id=d0 -monitor stdio >/dev/null 2>&1",
                 path) == 0);
    ck_assert_int_eq(img_open_file(path, NULL, IMG_OPEN_RW, &img, &err), 0);
    ck_assert_int_eq(img_snapshot_count(img), 1);
    ck_assert_int_eq(img_snapshot_get(img, 0, &info), 0);
    ck_assert(info.vm_state_size > 4 && info.vm_state_size < 65536);
    uint64_t len = info.vm_state_size, padded = (len + 511) & ~511ull;
    uint8_t *ours = calloc(1, padded), *theirs = calloc(1, padded);
    ck_assert_int_eq(img_snapshot_vmstate_read(img, "s1", 0, ours, len), 0);
    ck_assert(memcmp(ours, "QEVM", 4) == 0);
    ck_assert_msg(img_snapshot_apply(img, "s1") == 0, "%s", img_strerror(img));
    ck_assert_int_eq(img_close(img), 0);
    ck_assert(sh("qemu-img check -q %s", path) == 0);
    qemu_vmstate(path, 0, padded, theirs);
    ck_assert(memcmp(ours, theirs, len) == 0);
    free(ours);
    free(theirs);
}
END_TEST

Suite *interop_suite(void)
{
    Suite *s = suite_create("img_interop");
    TCase *t = tcase_create("qemu-img");
    tcase_set_timeout(t, 300);
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_loop_test(t, test_written_images_pass_qemu, 0, (int)KARRAY_SIZE(variants));
    tcase_add_loop_test(t, test_snapshots_read_by_qemu, 0, 2);
    tcase_add_loop_test(t, test_overlay_on_qemu_base, 0, 2);
    tcase_add_loop_test(t, test_commit_keeps_reading, 0, 2);
    tcase_add_loop_test(t, test_vmstate_read_by_qemu, 0, 3);
    tcase_add_test(t, test_vmstate_of_qemu_savevm);
    tcase_add_loop_test(t, test_create_byte_identical, 0, (int)KARRAY_SIZE(twins));
    tcase_add_loop_test(t, test_random_operations, 0, 15);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return check_main(interop_suite());
}
