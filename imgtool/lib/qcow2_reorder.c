/*
 * qcow2_reorder.c: changing the refcount width of an image in place
 * (qemu-img amend -o refcount_bits=N, QEMU's qcow2_change_refcount_order).
 *
 * A reference count is refcount_bits = 1 << refcount_order wide (qcow2.txt
 * "Header", refcount_order; "Host cluster management": a refcount block
 * holds cluster_size * 8 / refcount_bits entries).  The whole refcount
 * structure is written anew with the new width next to the old one: new
 * refcount blocks and a new refcount table at the end of the file, holding
 * every cluster's current count, 1 for the new structure's own clusters and
 * 0 for the old structure's.  Then one header write switches refcount_order
 * and the table together (qcow2.txt "Header": refcount_table_offset,
 * refcount_table_clusters).  A crash before that write leaves the old
 * structure in force and the new clusters as leaks; after it, the old
 * structure's clusters are free and nothing leaks.
 */
#include "internal.h"

/* Mark the clusters of the current refcount structure (table and blocks)
 * in a bitmap of `used` bits. */
static void mark_old_structure(const struct qcow2 *q, uint8_t *map, uint64_t used)
{
    uint64_t t0 = q->h.refcount_table_offset >> q->cluster_bits;
    for (uint64_t i = t0; i < t0 + q->h.refcount_table_clusters && i < used; i++)
        map[i / 8] |= (uint8_t)(1u << (i % 8));
    for (uint64_t b = 0; b < q->rt_entries; b++) {
        uint64_t i = (q->rt[b] & ~0x1ffull) >> q->cluster_bits;
        if (q->rt[b] && i < used)
            map[i / 8] |= (uint8_t)(1u << (i % 8));
    }
}

/* Fill and write new refcount block bl (entries of width 1 << order). */
static int write_block(struct img *img, uint8_t *b, const uint8_t *old, struct qcow2 *nq,
                       uint64_t bl, uint64_t used, uint64_t new_start, uint64_t new_end,
                       uint64_t at)
{
    struct qcow2 *q = img->q;
    uint64_t boff;
    size_t blen;
    memset(b, 0, q->cluster_size);
    for (uint64_t k = 0; k < nq->rb_entries; k++) {
        uint64_t i = bl * nq->rb_entries + k, v = 0;
        if (i < used && !(old[i / 8] & (1u << (i % 8)))) {
            int r = qc_rc_get(img, i, &v);
            if (r < 0)
                return r;
            /* QEMU checks every count against the new maximum. */
            if (v > nq->rc_max)
                return img_fail(img, IMG_EINVAL,
                                "Cannot decrease refcount entry width to %d bits: Cluster at "
                                "offset %#llx has a refcount of %llu",
                                nq->rc_bits, (unsigned long long)(i << q->cluster_bits),
                                (unsigned long long)v);
        } else if (i >= new_start && i < new_end) {
            v = 1;
        }
        qc_rb_put_entry(nq, b, k, v, &boff, &blen);
    }
    return io_write(img, at << q->cluster_bits, b, q->cluster_size);
}

int qc_change_refcount_order(struct img *img, int new_bits)
{
    struct qcow2 *q = img->q;
    struct qcow2 nq; /* only the refcount geometry fields are used */
    uint64_t fsz, used, nblk, tcl = 0, *rt = NULL;
    uint8_t *b = NULL, *old = NULL;
    int order = 0, r;
    if (new_bits == q->rc_bits)
        return 0;
    while ((1 << order) < new_bits)
        order++;
    memset(&nq, 0, sizeof(nq));
    nq.rc_bits = new_bits;
    nq.rb_entries = (uint64_t)q->cluster_size * 8 / (uint64_t)new_bits;
    nq.rc_max = new_bits == 64 ? UINT64_MAX : (1ull << new_bits) - 1;
    if (io_size(img, &fsz) < 0)
        return -IMG_EIO;
    used = div_up(fsz, q->cluster_size);
    if (q->alloc_end > used)
        used = q->alloc_end;
    /* The new blocks and table go after `used`; they must cover
     * themselves too, so grow both until they stop growing. */
    nblk = div_up(used, nq.rb_entries);
    for (;;) {
        tcl = div_up(nblk * 8, q->cluster_size);
        uint64_t need = div_up(used + nblk + tcl, nq.rb_entries);
        if (need <= nblk)
            break;
        nblk = need;
    }
    rt = img_alloc(img->env, (size_t)(tcl * q->cluster_size));
    b = img_alloc(img->env, q->cluster_size);
    old = img_alloc(img->env, (size_t)(used / 8 + 1));
    if (!rt || !b || !old) {
        r = img_fail(img, IMG_ENOMEM, "Out of memory");
        goto out;
    }
    mark_old_structure(q, old, used);
    for (uint64_t bl = 0; bl < nblk; bl++) {
        r = write_block(img, b, old, &nq, bl, used, used, used + nblk + tcl, used + bl);
        if (r < 0)
            goto out;
        rt[bl] = (used + bl) << q->cluster_bits;
    }
    /* The table, big-endian (qcow2.txt "Host cluster management"). */
    for (uint64_t bl = 0; bl < nblk; bl++)
        put64((uint8_t *)rt + bl * 8, rt[bl]);
    r = io_write(img, (used + nblk) << q->cluster_bits, rt, (size_t)(tcl * q->cluster_size));
    if (r < 0)
        goto out;
    /* Switch: header first, then the in-memory state. */
    uint32_t old_order = q->h.refcount_order;
    uint64_t old_off = q->h.refcount_table_offset;
    uint32_t old_cl = q->h.refcount_table_clusters;
    q->h.refcount_order = (uint32_t)order;
    q->h.refcount_table_offset = (used + nblk) << q->cluster_bits;
    q->h.refcount_table_clusters = (uint32_t)tcl;
    r = qc_update_header(img);
    if (r < 0) {
        q->h.refcount_order = old_order;
        q->h.refcount_table_offset = old_off;
        q->h.refcount_table_clusters = old_cl;
        goto out;
    }
    img_free(img->env, q->rt);
    q->rt = img_alloc(img->env, (size_t)(tcl * q->cluster_size));
    if (!q->rt) {
        r = img_fail(img, IMG_ENOMEM, "Out of memory");
        goto out;
    }
    q->rt_entries = tcl * q->cluster_size / 8;
    for (uint64_t bl = 0; bl < nblk; bl++)
        q->rt[bl] = (used + bl) << q->cluster_bits;
    q->rt_damaged = false;
    q->rc_bits = new_bits;
    q->rb_entries = nq.rb_entries;
    q->rc_max = nq.rc_max;
    for (int i = 0; i < QC_CACHE_SLOTS; i++)
        q->rbc[i].off = 0;
    /* The old structure's clusters are free now. */
    q->free_hint = 0;
    q->alloc_end = used + nblk + tcl;
out:
    img_free(img->env, rt);
    img_free(img->env, b);
    img_free(img->env, old);
    return r;
}
