/*
 * fuzz_open.c: libFuzzer target for image opening and metadata parsing.
 *
 * Each input is an image file.  The target opens it read-only and walks
 * everything a reading command would touch (header, extensions, L1/L2
 * tables, compressed clusters, snapshot table, block status, check), then
 * opens a copy read-write and writes one cluster.  Any crash, sanitizer
 * report or hang is a bug; so is a failed read-write open that changed the
 * file: hostile images must get an error with nothing written.
 */
#define _GNU_SOURCE
#include "img.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int img_io_open_xz(int fd, struct img_io *io, struct img_err *err);

/* A fixed-size memory file; writes past the end are refused (the image
 * may grow a little, so the buffer has slack). */
struct buf {
    uint8_t *p;
    uint64_t len, cap;
};

static int b_read(void *c, uint64_t off, void *d, size_t n)
{
    struct buf *b = c;
    size_t k = 0;
    if (off < b->len)
        k = b->len - off < n ? (size_t)(b->len - off) : n;
    memcpy(d, b->p + off, k);
    memset((uint8_t *)d + k, 0, n - k);
    return 0;
}

static int b_write(void *c, uint64_t off, const void *d, size_t n)
{
    struct buf *b = c;
    if (off > b->cap || n > b->cap - off)
        return -IMG_ENOSPC;
    memcpy(b->p + off, d, n);
    if (off + n > b->len)
        b->len = off + n;
    return 0;
}

static int b_flush(void *c)
{
    (void)c;
    return 0;
}

static int b_size(void *c, uint64_t *s)
{
    *s = ((struct buf *)c)->len;
    return 0;
}

static struct img_io buf_io(struct buf *b)
{
    struct img_io io;
    memset(&io, 0, sizeof(io));
    io.ctx = b;
    io.read = b_read;
    io.write = b_write;
    io.flush = b_flush;
    io.size = b_size;
    return io;
}

/* The hosted env without backing files or stderr noise. */
static struct img_env env;

static void walk(struct img *img)
{
    uint8_t *tmp = malloc(65536);
    struct img_check_result res;
    struct img_extent e;
    struct img_info info;
    uint64_t size = img_size(img), off = 0;
    int steps = 0;

    img_get_info(img, &info);
    /* Reads of the first 4 MiB and of the last cluster. */
    for (uint64_t o = 0; o < size && o < (4u << 20); o += 65536)
        img_read(img, o, tmp, size - o < 65536 ? (size_t)(size - o) : 65536);
    if (size > 65536)
        img_read(img, size - 65536, tmp, 65536);
    while (off < size && steps++ < 256 && img_block_status(img, off, size - off, true, &e) == 0)
        off += e.length;
    for (int i = 0; i < img_snapshot_count(img) && i < 16; i++) {
        struct img_snapshot_info si;
        img_snapshot_get(img, i, &si);
    }
    img_check(img, 0, &res);
    free(tmp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct img *img;
    struct img_err err;
    struct buf b;
    struct img_io io;

    if (!env.alloc) {
        env = *img_hosted_env();
        env.open_backing = NULL;
        env.report = NULL;
    }
    /* An .xz input goes through the xz backend (index parsing, block
     * decoding) from a memory file, then through the same walk. */
    if (size >= 6 && !memcmp(data,
                             "\xfd"
                             "7zXZ",
                             6)) {
        int fd = memfd_create("fuzz.xz", 0);
        if (fd < 0)
            return 0;
        if (write(fd, data, size) != (ssize_t)size) {
            close(fd);
            return 0;
        }
        /* The backend owns fd from here on, also when it fails. */
        if (img_io_open_xz(fd, &io, &err) == 0) {
            if (img_open(&env, &io, "fuzz.xz", NULL, 0, &img, &err) == 0) {
                walk(img);
                img_close(img);
            } else {
                io.close(io.ctx);
            }
        }
        return 0;
    }
    /* Read-only pass over a private copy. */
    b.len = size;
    b.cap = size;
    b.p = malloc(size ? size : 1);
    memcpy(b.p, data, size);
    io = buf_io(&b);
    if (img_open(&env, &io, "fuzz", NULL, 0, &img, &err) == 0) {
        walk(img);
        img_close(img);
    }
    if (memcmp(b.p, data, size))
        abort(); /* a read-only open wrote to the file */
    free(b.p);

    /* Read-write pass: a failed open must leave the bytes untouched. */
    b.len = size;
    b.cap = size + (1u << 22);
    b.p = calloc(1, (size_t)b.cap);
    memcpy(b.p, data, size);
    io = buf_io(&b);
    if (img_open(&env, &io, "fuzz", "qcow2", IMG_OPEN_RW, &img, &err) == 0) {
        uint8_t c[4096];
        memset(c, 0x5a, sizeof(c));
        if (img_size(img) >= sizeof(c))
            img_write(img, img_size(img) / 2 & ~4095ull, c, sizeof(c));
        img_close(img);
    } else if (b.len != size || memcmp(b.p, data, size)) {
        abort(); /* refused, yet modified */
    }
    free(b.p);
    return 0;
}
