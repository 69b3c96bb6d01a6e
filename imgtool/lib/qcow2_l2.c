/*
 * qcow2_l2.c: the small write-through cache of L2 tables and refcount
 * blocks, and access to single L2 entries.
 *
 * An L2 table is one cluster of 8-byte entries, or 16-byte entries with
 * extended L2 (qcow2.txt "Cluster mapping" and "Extended L2 Entries").  The
 * cache only saves reads: every change goes to the file immediately, so the
 * on-disk order of metadata updates is exactly the order of the calls.
 */
#include "internal.h"

/* Metadata must sit on a cluster boundary, past the header and below the
 * 56-bit offset limit; anything else in a table is corruption. */
int qc_check_meta_offset(struct img *img, uint64_t off, uint64_t len, const char *what)
{
    struct qcow2 *q = img->q;
    if ((off & (q->cluster_size - 1)) || off < q->cluster_size || off >= QCOW_MAX_OFFSET ||
        len > QCOW_MAX_OFFSET - off)
        return img_fail(img, IMG_ECORRUPT, "Invalid %s offset %#llx in image '%s'", what,
                        (unsigned long long)off, img->name);
    return 0;
}

/* Find a cached cluster, or read it into the least recently used slot. */
static int cache_get(struct img *img, struct qc_cache_slot *c, uint64_t off, uint8_t **out,
                     const char *what)
{
    struct qcow2 *q = img->q;
    int victim = 0;
    /* At most about 1 MiB per cache: 16 slots of 64 KiB clusters, but only
     * 2 of 2 MiB ones (this code also runs inside hv, where memory is
     * scarce).  Slots past the limit stay empty. */
    int slots = (int)((1u << 20) / q->cluster_size);
    slots = slots < 2 ? 2 : slots > QC_CACHE_SLOTS ? QC_CACHE_SLOTS : slots;
    for (int i = 0; i < slots; i++) {
        if (c[i].off == off && c[i].data) {
            c[i].used = ++q->lru;
            *out = c[i].data;
            return 0;
        }
        if (c[i].used < c[victim].used)
            victim = i;
    }
    if (qc_check_meta_offset(img, off, q->cluster_size, what) < 0)
        return -IMG_ECORRUPT;
    if (!c[victim].data) {
        c[victim].data = img_alloc(img->env, q->cluster_size);
        if (!c[victim].data)
            return img_fail(img, IMG_ENOMEM, "Out of memory");
    }
    c[victim].off = 0;
    if (io_read(img, off, c[victim].data, q->cluster_size) < 0)
        return -IMG_EIO;
    c[victim].off = off;
    c[victim].used = ++q->lru;
    *out = c[victim].data;
    return 0;
}

/* Forget a cached cluster (freed or rewritten behind the cache's back). */
void qc_cache_drop(struct img *img, struct qc_cache_slot *c, uint64_t off)
{
    (void)img;
    for (int i = 0; i < QC_CACHE_SLOTS; i++)
        if (c[i].off == off)
            c[i].off = 0;
}

int qc_l2_load(struct img *img, uint64_t l2_off, uint8_t **table)
{
    return cache_get(img, img->q->l2c, l2_off, table, "L2 table");
}

int qc_rb_load(struct img *img, uint64_t rb_off, uint8_t **block)
{
    return cache_get(img, img->q->rbc, rb_off, block, "refcount block");
}

void qc_l2_entry(struct img *img, const uint8_t *table, uint64_t idx, uint64_t *e, uint64_t *bm)
{
    struct qcow2 *q = img->q;
    const uint8_t *p = table + idx * (uint64_t)q->l2_esize;
    *e = be64(p);
    /* The second half of an extended entry is the subcluster bitmap. */
    *bm = q->ext_l2 ? be64(p + 8) : 0;
}

/* Update one entry on disk and in the cache. */
int qc_l2_set(struct img *img, uint64_t l2_off, uint64_t idx, uint64_t e, uint64_t bm)
{
    struct qcow2 *q = img->q;
    uint8_t b[16], *t;
    int r;
    put64(b, e);
    put64(b + 8, bm);
    r = io_write(img, l2_off + idx * (uint64_t)q->l2_esize, b, (size_t)q->l2_esize);
    if (r < 0)
        return r;
    for (int i = 0; i < QC_CACHE_SLOTS; i++) {
        if (q->l2c[i].off == l2_off) {
            t = q->l2c[i].data;
            memcpy(t + idx * (uint64_t)q->l2_esize, b, (size_t)q->l2_esize);
        }
    }
    return 0;
}
