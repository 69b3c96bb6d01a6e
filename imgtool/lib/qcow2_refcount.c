/*
 * qcow2_refcount.c: reference counts and cluster allocation.
 *
 * Every host cluster has a reference count (spec, "Host cluster
 * management"): a two-level structure of a refcount table whose entries
 * point to refcount blocks, each a cluster of refcount_bits-wide entries.
 * Widths below 8 bits are packed least significant bits first within a
 * byte; wider ones are big-endian.  A cluster is free exactly when its
 * refcount is 0 (a missing refcount block means all its clusters are 0).
 *
 * Crash ordering: a cluster's refcount is raised (and the refcount block
 * holding it written, and the table entry pointing to that block) before
 * anything points at the cluster; refcounts are lowered only after the
 * last pointer is gone.  An interruption therefore leaves at worst clusters
 * with a refcount and no user: leaks, which check -r leaks repairs.
 */
#include "internal.h"

int qc_rb_load(struct img *img, uint64_t rb_off, uint8_t **block);

static uint64_t rb_get(const struct qcow2 *q, const uint8_t *b, uint64_t i)
{
    switch (q->rc_bits) {
    case 8:
        return b[i];
    case 16:
        return be16(b + i * 2);
    case 32:
        return be32(b + i * 4);
    case 64:
        return be64(b + i * 8);
    default: {
        /* 1, 2 or 4 bits: entry i lives in byte i*bits/8 at bit (i*bits)%8. */
        uint64_t bit = i * (uint64_t)q->rc_bits;
        return (uint64_t)(b[bit / 8] >> (bit % 8)) & ((1u << q->rc_bits) - 1);
    }
    }
}

/* Store entry i into the in-memory block; returns the byte range touched. */
static void rb_put(const struct qcow2 *q, uint8_t *b, uint64_t i, uint64_t v, uint64_t *boff,
                   size_t *blen)
{
    switch (q->rc_bits) {
    case 8:
        b[i] = (uint8_t)v;
        *boff = i;
        *blen = 1;
        return;
    case 16:
        put16(b + i * 2, (uint16_t)v);
        *boff = i * 2;
        *blen = 2;
        return;
    case 32:
        put32(b + i * 4, (uint32_t)v);
        *boff = i * 4;
        *blen = 4;
        return;
    case 64:
        put64(b + i * 8, v);
        *boff = i * 8;
        *blen = 8;
        return;
    default: {
        uint64_t bit = i * (uint64_t)q->rc_bits;
        uint8_t mask = (uint8_t)(((1u << q->rc_bits) - 1) << (bit % 8));
        b[bit / 8] = (uint8_t)((b[bit / 8] & ~mask) | ((v << (bit % 8)) & mask));
        *boff = bit / 8;
        *blen = 1;
        return;
    }
    }
}

void qc_rb_put_entry(const struct qcow2 *q, uint8_t *b, uint64_t i, uint64_t v, uint64_t *boff,
                     size_t *blen)
{
    rb_put(q, b, i, v, boff, blen);
}

int qc_rc_get(struct img *img, uint64_t cluster, uint64_t *rc)
{
    struct qcow2 *q = img->q;
    uint64_t blk = cluster / q->rb_entries;
    uint8_t *b;
    if (blk >= q->rt_entries || !(q->rt[blk] & ~0x1ffull)) {
        *rc = 0;
        return 0;
    }
    if (qc_rb_load(img, q->rt[blk] & ~0x1ffull, &b) < 0)
        return -IMG_ECORRUPT;
    *rc = rb_get(q, b, cluster % q->rb_entries);
    return 0;
}

/* Write one refcount into an existing block (write-through). */
static int rb_store(struct img *img, uint64_t blk, uint64_t cluster, uint64_t v)
{
    struct qcow2 *q = img->q;
    uint64_t boff;
    size_t blen;
    uint8_t *b;
    if (qc_rb_load(img, q->rt[blk] & ~0x1ffull, &b) < 0)
        return -IMG_ECORRUPT;
    rb_put(q, b, cluster % q->rb_entries, v, &boff, &blen);
    return io_write(img, (q->rt[blk] & ~0x1ffull) + boff, b + boff, blen);
}

/* Does cluster c hold the header or one of the tables the header points
 * to?  A damaged image may claim refcount 0 for them; allocating them
 * would overwrite live metadata (QEMU's "metadata overlap" check). */
bool qc_is_core_metadata(struct qcow2 *q, uint64_t c)
{
    uint64_t off = c << q->cluster_bits;
    struct {
        uint64_t start, len;
    } t[] = {
        {0, q->cluster_size},
        {q->h.l1_table_offset, (uint64_t)q->h.l1_size * 8},
        {q->h.refcount_table_offset, (uint64_t)q->h.refcount_table_clusters << q->cluster_bits},
    };
    for (unsigned i = 0; i < KARRAY_SIZE(t); i++)
        if (t[i].len && off + q->cluster_size > t[i].start && off < t[i].start + t[i].len)
            return true;
    return false;
}

/* First index >= from whose refcount is 0 (clusters past the table's
 * reach have no refcount block and are therefore free). */
static int find_free(struct img *img, uint64_t from, uint64_t n, uint64_t *out)
{
    struct qcow2 *q = img->q;
    uint64_t c = from ? from : 1, run = 0, rc;
    for (;;) {
        if (c >= (uint64_t)QCOW_MAX_OFFSET >> q->cluster_bits)
            return img_fail(img, IMG_ENOSPC, "Image '%s' is full (56-bit offsets)", img->name);
        /* Past the refcount table's reach, or past the end of the file and
         * of everything allocated in this session, nothing is in use (a
         * refcount claiming otherwise is at most a leak; trusting it could
         * make a hostile image scan billions of clusters). */
        if (c / q->rb_entries >= q->rt_entries || c >= q->alloc_end) {
            *out = c - run;
            return 0;
        }
        if (qc_rc_get(img, c, &rc) < 0)
            return -IMG_ECORRUPT;
        if (rc == 0 && qc_is_core_metadata(q, c))
            return img_fail(img, IMG_ECORRUPT,
                            "Metadata cluster %llu of '%s' has refcount 0; run check -r all",
                            (unsigned long long)c, img->name);
        run = rc == 0 ? run + 1 : 0;
        c++;
        if (run == n) {
            *out = c - n;
            return 0;
        }
    }
}

static int write_zero_cluster_with(struct img *img, uint64_t off, uint64_t idx, uint64_t v)
{
    struct qcow2 *q = img->q;
    uint64_t boff;
    size_t blen;
    uint8_t *b = img_alloc(img->env, q->cluster_size);
    int r;
    if (!b)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    if (v)
        rb_put(q, b, idx, v, &boff, &blen);
    qc_cache_drop(img, q->rbc, off);
    qc_cache_drop(img, q->l2c, off);
    r = io_write(img, off, b, q->cluster_size);
    img_free(img->env, b);
    return r;
}

static int grow_table(struct img *img, uint64_t need_entries);

/* Make sure the refcount block for `blk` exists (spec: a new block is
 * itself a cluster that needs a refcount). */
static int ensure_block(struct img *img, uint64_t blk)
{
    struct qcow2 *q = img->q;
    uint64_t f, fb;
    uint8_t e[8];
    int r;
    if (blk >= q->rt_entries) {
        r = grow_table(img, blk + 1);
        if (r < 0)
            return r;
    }
    while (!(q->rt[blk] & ~0x1ffull)) {
        r = find_free(img, q->free_hint, 1, &f);
        if (r < 0)
            return r;
        fb = f / q->rb_entries;
        if (fb == blk) {
            /* The block describes its own cluster: write it with its own
             * refcount of 1, then hook it into the table. */
            r = write_zero_cluster_with(img, f << q->cluster_bits, f % q->rb_entries, 1);
        } else if (fb >= q->rt_entries || !(q->rt[fb] & ~0x1ffull)) {
            r = ensure_block(img, fb); /* places that block inside its own range */
            if (r < 0)
                return r;
            continue;
        } else {
            /* Claim f through its existing block, then fill it with zeros. */
            r = rb_store(img, fb, f, 1);
            if (r == 0)
                r = write_zero_cluster_with(img, f << q->cluster_bits, 0, 0);
        }
        if (r < 0)
            return r;
        put64(e, f << q->cluster_bits);
        r = io_write(img, q->h.refcount_table_offset + blk * 8, e, 8);
        if (r < 0)
            return r;
        q->rt[blk] = f << q->cluster_bits;
        if (f + 1 > q->alloc_end)
            q->alloc_end = f + 1;
    }
    return 0;
}

/*
 * Grow the refcount table to at least need_entries.  The new table and the
 * refcount blocks describing it go to fresh clusters at the end of the
 * image; the header is switched to the new table with one write, and only
 * then the old table's clusters are released.
 */
static int grow_table(struct img *img, uint64_t need_entries)
{
    struct qcow2 *q = img->q;
    uint64_t per = q->cluster_size / 8, entries, tclusters, start, nb, first_blk, last_blk;
    uint64_t old_off = q->h.refcount_table_offset, old_clusters = q->h.refcount_table_clusters;
    uint64_t *nt;
    uint8_t *buf, hb[12];
    int r;

    entries = need_entries > q->rt_entries * 2 ? need_entries : q->rt_entries * 2;
    start = q->alloc_end;
    {
        uint64_t fsz;
        if (io_size(img, &fsz) < 0)
            return -IMG_EIO;
        if (div_up(fsz, q->cluster_size) > start)
            start = div_up(fsz, q->cluster_size);
    }
    /* New blocks go at [start, start+nb), the table right after them; the
     * count converges because one block covers many clusters. */
    nb = 0;
    for (;;) {
        entries = div_up(entries, per) * per;
        tclusters = entries / per;
        first_blk = start / q->rb_entries;
        last_blk = (start + nb + tclusters - 1) / q->rb_entries;
        uint64_t want = 0;
        for (uint64_t b = first_blk; b <= last_blk; b++)
            if (b >= q->rt_entries || !(q->rt[b] & ~0x1ffull))
                want++;
        if (last_blk >= entries) {
            entries = last_blk + 1;
            continue;
        }
        if (want == nb)
            break;
        nb = want;
    }
    if (tclusters * q->cluster_size > QCOW_MAX_REFTABLE_SIZE)
        return img_fail(img, IMG_ENOSPC, "Reference count table of '%s' cannot grow further",
                        img->name);
    nt = img_alloc(img->env, (size_t)entries * 8);
    buf = img_alloc(img->env, q->cluster_size);
    if (!nt || !buf) {
        img_free(img->env, nt);
        img_free(img->env, buf);
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    }
    memcpy(nt, q->rt, (size_t)q->rt_entries * 8);
    /* Write the new blocks: each holds refcount 1 for every new metadata
     * cluster (blocks and table) that falls in its range. */
    {
        uint64_t k = 0;
        for (uint64_t b = first_blk; b <= last_blk; b++) {
            if (b < q->rt_entries && (q->rt[b] & ~0x1ffull))
                continue;
            uint64_t boff_unused;
            size_t blen_unused;
            memset(buf, 0, q->cluster_size);
            for (uint64_t c = start; c < start + nb + tclusters; c++)
                if (c / q->rb_entries == b)
                    rb_put(q, buf, c % q->rb_entries, 1, &boff_unused, &blen_unused);
            nt[b] = (start + k) << q->cluster_bits;
            r = io_write(img, nt[b], buf, q->cluster_size);
            if (r < 0)
                goto out;
            k++;
        }
    }
    /* New metadata clusters that fall under already existing blocks. */
    for (uint64_t c = start; c < start + nb + tclusters; c++) {
        uint64_t b = c / q->rb_entries;
        if (b < q->rt_entries && (q->rt[b] & ~0x1ffull)) {
            r = rb_store(img, b, c, 1);
            if (r < 0)
                goto out;
        }
    }
    /* The table itself, big-endian, cluster by cluster. */
    for (uint64_t t = 0; t < tclusters; t++) {
        for (uint64_t i = 0; i < per; i++)
            put64(buf + i * 8, nt[t * per + i]);
        r = io_write(img, (start + nb + t) << q->cluster_bits, buf, q->cluster_size);
        if (r < 0)
            goto out;
    }
    if (img->io.flush && !(img->flags & IMG_OPEN_NO_FLUSH))
        img->io.flush(img->io.ctx);
    /* Switch: refcount_table_offset and _clusters are adjacent (bytes
     * 48..59), so one write moves both. */
    put64(hb, (start + nb) << q->cluster_bits);
    put32(hb + 8, (uint32_t)tclusters);
    r = io_write(img, QH_RT_OFFSET, hb, 12);
    if (r < 0)
        goto out;
    img_free(img->env, q->rt);
    q->rt = nt;
    nt = NULL;
    q->rt_entries = entries;
    q->h.refcount_table_offset = (start + nb) << q->cluster_bits;
    q->h.refcount_table_clusters = (uint32_t)tclusters;
    if (start + nb + tclusters > q->alloc_end)
        q->alloc_end = start + nb + tclusters;
    /* Release the old table. */
    for (uint64_t c = 0; c < old_clusters; c++) {
        r = qc_rc_update(img, (old_off >> q->cluster_bits) + c, -1);
        if (r < 0)
            goto out;
    }
    r = 0;
out:
    img_free(img->env, nt);
    img_free(img->env, buf);
    return r;
}

int qc_rc_set(struct img *img, uint64_t cluster, uint64_t v)
{
    struct qcow2 *q = img->q;
    uint64_t blk = cluster / q->rb_entries;
    int r;
    if (v > q->rc_max)
        return img_fail(img, IMG_ERANGE,
                        "Reference count overflow on cluster %llu (refcount_bits=%d)",
                        (unsigned long long)cluster, q->rc_bits);
    r = ensure_block(img, blk);
    if (r < 0)
        return r;
    r = rb_store(img, blk, cluster, v);
    if (r < 0)
        return r;
    if (v == 0) {
        /* A freed cluster may be reused for anything: forget cached copies. */
        qc_cache_drop(img, q->l2c, cluster << q->cluster_bits);
        qc_cache_drop(img, q->rbc, cluster << q->cluster_bits);
        if (cluster < q->free_hint)
            q->free_hint = cluster;
    } else if (cluster + 1 > q->alloc_end) {
        q->alloc_end = cluster + 1;
    }
    return 0;
}

int qc_rc_update(struct img *img, uint64_t cluster, int64_t delta)
{
    uint64_t rc;
    int r = qc_rc_get(img, cluster, &rc);
    if (r < 0)
        return r;
    if (delta < 0 && rc < (uint64_t)-delta)
        return img_fail(img, IMG_ECORRUPT,
                        "Reference count of cluster %llu would drop below zero in '%s'",
                        (unsigned long long)cluster, img->name);
    return qc_rc_set(img, cluster, rc + (uint64_t)delta);
}

int qc_rc_update_range(struct img *img, uint64_t off, uint64_t len, int64_t delta)
{
    struct qcow2 *q = img->q;
    if (!len)
        return 0;
    for (uint64_t c = off >> q->cluster_bits; c <= (off + len - 1) >> q->cluster_bits; c++) {
        int r = qc_rc_update(img, c, delta);
        if (r < 0)
            return r;
    }
    return 0;
}

int qc_alloc_clusters(struct img *img, uint64_t n, uint64_t *off)
{
    struct qcow2 *q = img->q;
    uint64_t c;
    int r;
    for (;;) {
        bool moved = false;
        r = find_free(img, q->free_hint, n, &c);
        if (r < 0)
            return r;
        /* Creating a missing refcount block may take a cluster of our run:
         * then search again. */
        for (uint64_t i = 0; i < n && !moved; i++) {
            uint64_t blk = (c + i) / q->rb_entries;
            if (blk >= q->rt_entries || !(q->rt[blk] & ~0x1ffull)) {
                r = ensure_block(img, blk);
                if (r < 0)
                    return r;
                moved = true;
            }
        }
        if (!moved)
            break;
    }
    /* Refcount 1 for the whole run: one write per refcount block touched
     * (all the run's blocks exist now; the entries were 0). */
    for (uint64_t i = 0; i < n;) {
        uint64_t blk = (c + i) / q->rb_entries, lo = UINT64_MAX, hi = 0, boff;
        size_t blen;
        uint8_t *b;
        r = qc_rb_load(img, q->rt[blk] & ~0x1ffull, &b);
        if (r < 0)
            return r;
        for (; i < n && (c + i) / q->rb_entries == blk; i++) {
            rb_put(q, b, (c + i) % q->rb_entries, 1, &boff, &blen);
            lo = boff < lo ? boff : lo;
            hi = boff + blen > hi ? boff + blen : hi;
        }
        r = io_write(img, (q->rt[blk] & ~0x1ffull) + lo, b + lo, (size_t)(hi - lo));
        if (r < 0)
            return r;
    }
    if (c + n > q->alloc_end)
        q->alloc_end = c + n;
    if (n == 1 || c == q->free_hint)
        q->free_hint = c + n;
    *off = c << q->cluster_bits;
    return 0;
}

/*
 * Space for one compressed cluster: compressed clusters are packed at byte
 * granularity (qcow2 stores their offset and length in 512-byte sectors),
 * and every host cluster they touch counts one reference per user.
 */
int qc_alloc_bytes(struct img *img, uint64_t size, uint64_t *off)
{
    struct qcow2 *q = img->q;
    uint64_t cur = q->comp_next, rc, c;
    int r;
    if (cur && (cur & (q->cluster_size - 1)) &&
        size <= q->cluster_size - (cur & (q->cluster_size - 1))) {
        /* Still room in the current cluster, which must still be ours. */
        r = qc_rc_get(img, cur >> q->cluster_bits, &rc);
        if (r < 0)
            return r;
        /* A cluster whose refcount is at its maximum (1- and 2-bit
         * refcounts) takes no more users: start a new one, as QEMU does. */
        if (rc > 0 && rc < q->rc_max) {
            r = qc_rc_update(img, cur >> q->cluster_bits, 1);
            if (r < 0)
                return r;
            *off = cur;
            q->comp_next = cur + size;
            return 0;
        }
    }
    r = qc_alloc_clusters(img, div_up(size, q->cluster_size), &c);
    if (r < 0)
        return r;
    *off = c;
    q->comp_next = c + size;
    return 0;
}

int qc_free_l2_entry_clusters(struct img *img, uint64_t e)
{
    struct qcow2 *q = img->q;
    if (e & QE_COMPRESSED)
        return qc_rc_update_range(img, qc_comp_off(q, e) & ~511ull,
                                  qc_comp_len(q, e) + (qc_comp_off(q, e) & 511), -1);
    if (e & QE_OFFSET)
        return qc_rc_update(img, (e & QE_OFFSET) >> q->cluster_bits, -1);
    return 0;
}
