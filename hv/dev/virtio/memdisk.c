/*
 * memdisk.c - an image file in hv's memory (see memdisk.h).
 */
#include "klib.h"

#include "memdisk.h"

void memdisk_init(struct memdisk *m, void *data, uint64_t len, void *(*alloc)(size_t),
                  void (*free)(void *))
{
    *m = (struct memdisk){.data = data, .len = len, .cap = len, .alloc = alloc, .free = free};
}

/* Reads past the end of the file return zeros, as img_io asks (a sparse
 * file's hole). */
static int md_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    struct memdisk *m = ctx;
    uint64_t have = off < m->len ? m->len - off : 0;
    uint64_t n = have < len ? have : len;
    if (n)
        memcpy(buf, m->data + off, n);
    memset((uint8_t *)buf + n, 0, len - n);
    return 0;
}

/* Make room for `end` bytes: a new block, the old bytes copied in. */
static int md_grow(struct memdisk *m, uint64_t end)
{
    uint64_t cap = m->cap * 2;
    if (cap < m->cap + (1u << 20))
        cap = m->cap + (1u << 20);
    if (cap < end)
        cap = end;
    uint8_t *p = m->alloc(cap);
    if (!p)
        return -IMG_ENOSPC;
    memcpy(p, m->data, m->len);
    if (m->owned)
        m->free(m->data);
    m->data = p;
    m->cap = cap;
    m->owned = true;
    return 0;
}

/* Writes past the end make the file longer; the gap reads as zeros (a
 * grown block is zero-filled, and truncate clears what it cuts off). */
static int md_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
    struct memdisk *m = ctx;
    if (off > UINT64_MAX - len)
        return -IMG_EINVAL;
    uint64_t end = off + len;
    if (end > m->cap && md_grow(m, end) < 0)
        return -IMG_ENOSPC;
    memcpy(m->data + off, buf, len);
    if (end > m->len)
        m->len = end;
    return 0;
}

/* Nothing is between hv's memory and "the disk": the data is as durable
 * as it will get the moment it is written. */
static int md_flush(void *ctx)
{
    (void)ctx;
    return 0;
}

static int md_size(void *ctx, uint64_t *size)
{
    struct memdisk *m = ctx;
    *size = m->len;
    return 0;
}

static int md_truncate(void *ctx, uint64_t size)
{
    struct memdisk *m = ctx;
    if (size > m->cap && md_grow(m, size) < 0)
        return -IMG_ENOSPC;
    /* What is cut off must read as zeros if the file grows again. */
    if (size < m->len)
        memset(m->data + size, 0, m->len - size);
    m->len = size;
    return 0;
}

static void md_close(void *ctx)
{
    struct memdisk *m = ctx;
    if (m->owned)
        m->free(m->data);
    m->data = NULL;
    m->len = m->cap = 0;
    m->owned = false;
}

void memdisk_io(struct memdisk *m, struct img_io *io)
{
    *io = (struct img_io){.ctx = m,
                          .read = md_read,
                          .write = md_write,
                          .flush = md_flush,
                          .size = md_size,
                          .truncate = md_truncate,
                          .close = md_close};
}
