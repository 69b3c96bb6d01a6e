/* Helpers shared by the imgtool library unit tests: memory-backed images
 * that can be closed and reopened without losing their bytes. */
#include "test_img_util.h"
#include "img.h"

#include <stdlib.h>
#include <string.h>

/* A memory backend wrapper whose close() does nothing, so the bytes
 * survive img_close and the image can be reopened. */
struct keep {
    struct img_io inner;
};

static int k_read(void *c, uint64_t o, void *b, size_t l)
{
    struct keep *k = c;
    return k->inner.read(k->inner.ctx, o, b, l);
}
static int k_write(void *c, uint64_t o, const void *b, size_t l)
{
    struct keep *k = c;
    return k->inner.write(k->inner.ctx, o, b, l);
}
static int k_flush(void *c)
{
    (void)c;
    return 0;
}
static int k_size(void *c, uint64_t *s)
{
    struct keep *k = c;
    return k->inner.size(k->inner.ctx, s);
}
static int k_trunc(void *c, uint64_t s)
{
    struct keep *k = c;
    return k->inner.truncate(k->inner.ctx, s);
}

/* Handles are mapped to their keep wrappers in a small table. */
static struct {
    struct img *img;
    struct keep *k;
} map[64];

static struct img_io keep_io(struct keep *k)
{
    struct img_io io = {0};
    io.ctx = k;
    io.read = k_read;
    io.write = k_write;
    io.flush = k_flush;
    io.size = k_size;
    io.truncate = k_trunc;
    return io;
}

static void remember(struct img *img, struct keep *k)
{
    for (unsigned i = 0; i < 64; i++)
        if (!map[i].img) {
            map[i].img = img;
            map[i].k = k;
            return;
        }
    ck_abort_msg("too many open test images");
}

static struct keep *forget(struct img *img)
{
    for (unsigned i = 0; i < 64; i++)
        if (map[i].img == img) {
            map[i].img = NULL;
            return map[i].k;
        }
    ck_abort_msg("unknown test image");
    return NULL;
}

struct img *mem_qcow2(struct img_create_opts *o)
{
    struct keep *k = calloc(1, sizeof(*k));
    struct img_err err;
    struct img *img;
    ck_assert_int_eq(img_io_mem(&k->inner), 0);
    struct img_io io = keep_io(k);
    ck_assert_msg(img_create(img_hosted_env(), &io, o, &err) == 0, "create: %s", err.msg);
    ck_assert_msg(img_open(img_hosted_env(), &io, "mem", NULL, IMG_OPEN_RW, &img, &err) == 0,
                  "open: %s", err.msg);
    remember(img, k);
    return img;
}

struct img *mem_reopen(struct img *img, unsigned flags)
{
    struct keep *k = forget(img);
    struct img_err err;
    struct img_io io = keep_io(k);
    ck_assert_int_eq(img_close(img), 0);
    ck_assert_msg(img_open(img_hosted_env(), &io, "mem", NULL, flags, &img, &err) == 0,
                  "reopen: %s", err.msg);
    remember(img, k);
    return img;
}

void mem_free(struct img *img)
{
    struct keep *k = forget(img);
    img_close(img);
    k->inner.close(k->inner.ctx);
    free(k);
}

uint8_t *mem_bytes(struct img *img, uint64_t *len)
{
    for (unsigned i = 0; i < 64; i++)
        if (map[i].img == img) {
            /* The memory backend's context starts with its buffer pointer
             * and length (struct mem in hosted/file.c). */
            struct {
                uint8_t *buf;
                uint64_t len;
            } *m = map[i].k->inner.ctx;
            *len = m->len;
            return m->buf;
        }
    return NULL;
}

void pattern(uint8_t *buf, size_t len, uint64_t seed)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = (uint8_t)x;
    }
}

void assert_clean(struct img *img)
{
    struct img_check_result r;
    ck_assert_msg(img_check(img, 0, &r) == 0, "check: %s", img_strerror(img));
    ck_assert_msg(r.corruptions == 0 && r.leaks == 0 && r.check_errors == 0,
                  "check found %d corruptions, %d leaks, %d errors", r.corruptions, r.leaks,
                  r.check_errors);
}
