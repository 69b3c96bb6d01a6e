/*
 * qcow2_refcount.c: reference counts and cluster allocation.
 *
 * Every host cluster has a reference count (qcow2.txt "Host cluster
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

/* A refcount table entry's bits 9-63 are the refcount block's offset; bits
 * 0-8 are reserved (qcow2.txt "Refcount table entry"). */
#define RT_BLOCK_OFFSET (~0x1ffull)

/*
 * Entry `index` of a refcount block held in memory.  Entries are
 * refcount_bits wide (1 << refcount_order, qcow2.txt "Header"); widths of
 * a byte or more are big-endian like every qcow2 number, narrower ones are
 * packed into bytes starting at the least significant bit (qcow2.txt
 * "Refcount block entry": "bit 0 means the least significant bit").
 */
static uint64_t rb_get(const struct qcow2 *q, const uint8_t *block, uint64_t index)
{
    switch (q->rc_bits) {
    case 8:
        return block[index];
    case 16:
        return be16(block + index * 2);
    case 32:
        return be32(block + index * 4);
    case 64:
        return be64(block + index * 8);
    default: {
        /* 1, 2 or 4 bits: entry i lives in byte i*bits/8 at bit (i*bits)%8. */
        uint64_t bit = index * (uint64_t)q->rc_bits;
        return (uint64_t)(block[bit / 8] >> (bit % 8)) & ((1u << q->rc_bits) - 1);
    }
    }
}

/*
 * Store entry `index` into the in-memory block; *touched_off and *touched_len
 * receive the byte range that changed, so the caller writes just those
 * bytes through to the file (one entry, or the byte holding it for
 * widths below 8 bits) instead of the whole block.
 */
static void rb_put(const struct qcow2 *q, uint8_t *block, uint64_t index, uint64_t value,
                   uint64_t *touched_off, size_t *touched_len)
{
    switch (q->rc_bits) {
    case 8:
        block[index] = (uint8_t)value;
        *touched_off = index;
        *touched_len = 1;
        return;
    case 16:
        put16(block + index * 2, (uint16_t)value);
        *touched_off = index * 2;
        *touched_len = 2;
        return;
    case 32:
        put32(block + index * 4, (uint32_t)value);
        *touched_off = index * 4;
        *touched_len = 4;
        return;
    case 64:
        put64(block + index * 8, value);
        *touched_off = index * 8;
        *touched_len = 8;
        return;
    default: {
        /* Read-modify-write of the one byte: the neighbours sharing it
         * keep their counts. */
        uint64_t bit = index * (uint64_t)q->rc_bits;
        uint8_t mask = (uint8_t)(((1u << q->rc_bits) - 1) << (bit % 8));
        block[bit / 8] = (uint8_t)((block[bit / 8] & ~mask) | ((value << (bit % 8)) & mask));
        *touched_off = bit / 8;
        *touched_len = 1;
        return;
    }
    }
}

/* rb_put for the other files that build refcount blocks in memory (new
 * images, make_empty, the check's rebuild, refcount width changes). */
void qc_rb_put_entry(const struct qcow2 *q, uint8_t *block, uint64_t index, uint64_t value,
                     uint64_t *touched_off, size_t *touched_len)
{
    rb_put(q, block, index, value, touched_off, touched_len);
}

/*
 * The refcount of host cluster `cluster` (qcow2.txt "Host cluster
 * management": refcount_table_index = cluster / refcount_block_entries,
 * refcount_block_index = cluster % refcount_block_entries).  A cluster
 * past the refcount table, or under a table entry of 0, has refcount 0:
 * "All refcounts managed by this refcount block are 0."
 */
int qc_rc_get(struct img *img, uint64_t cluster, uint64_t *rc)
{
    struct qcow2 *q = img->q;
    uint64_t table_index = cluster / q->rb_entries;
    uint8_t *block;
    if (table_index >= q->rt_entries || !(q->rt[table_index] & RT_BLOCK_OFFSET)) {
        *rc = 0;
        return 0;
    }
    /* In a damaged table a block may lie past the end of the file: QEMU
     * reads zeroes there, so every refcount it would hold is 0. */
    if (q->rt_damaged) {
        uint64_t file_size;
        if (io_size(img, &file_size) < 0)
            return -IMG_EIO;
        if ((q->rt[table_index] & RT_BLOCK_OFFSET) >= file_size) {
            *rc = 0;
            return 0;
        }
    }
    if (qc_rb_load(img, q->rt[table_index] & RT_BLOCK_OFFSET, &block) < 0)
        return -IMG_ECORRUPT;
    *rc = rb_get(q, block, cluster % q->rb_entries);
    return 0;
}

/*
 * Write one refcount into an existing block (write-through): the cached
 * block is changed and only the touched bytes are written, so the file
 * and the cache agree after every call, and a crash loses at most this
 * one update.
 */
static int rb_store(struct img *img, uint64_t table_index, uint64_t cluster, uint64_t value)
{
    struct qcow2 *q = img->q;
    uint64_t touched_off;
    size_t touched_len;
    uint8_t *block;
    uint64_t block_offset = q->rt[table_index] & RT_BLOCK_OFFSET;
    if (qc_rb_load(img, block_offset, &block) < 0)
        return -IMG_ECORRUPT;
    rb_put(q, block, cluster % q->rb_entries, value, &touched_off, &touched_len);
    return io_write(img, block_offset + touched_off, block + touched_off, touched_len);
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

/*
 * Write a new, zeroed refcount block at host offset `off`, with entry
 * `index` set to `value` if value is not 0 (a block that sits in its own
 * range counts itself).  The block is written whole before any table
 * entry points at it, so a crash leaves at worst an unused cluster.  The
 * cluster may have been anything before (an L2 table, another block), so
 * both caches forget it.
 */
static int write_zero_cluster_with(struct img *img, uint64_t off, uint64_t index, uint64_t value)
{
    struct qcow2 *q = img->q;
    uint64_t touched_off;
    size_t touched_len;
    uint8_t *block = img_alloc(img->env, q->cluster_size);
    int r;
    if (!block)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    if (value)
        rb_put(q, block, index, value, &touched_off, &touched_len);
    qc_cache_drop(img, q->rbc, off);
    qc_cache_drop(img, q->l2c, off);
    r = io_write(img, off, block, q->cluster_size);
    img_free(img->env, block);
    return r;
}

/*
 * Refcount blocks and table clusters needed to count `clusters` clusters
 * plus themselves: the fixed point of blocks = ceil((clusters + blocks +
 * table) / per_block), table = ceil(blocks / per_table).  With `generous`
 * the count is raised once by half the table, for growth (QEMU's
 * qcow2_refcount_metadata_size, whose results measure and refcount-table
 * growth must reproduce for byte-identical images).
 */
uint64_t qc_refcount_metadata_size(uint64_t clusters, uint64_t cs, int order, bool generous,
                                   uint64_t *blocks_out)
{
    uint64_t per_table = cs / 8, per_block = cs * 8 / (1ull << order);
    uint64_t table = 0, blocks = 0, n = 0, last;
    do {
        last = n;
        blocks = div_up(clusters + table + blocks, per_block);
        table = div_up(blocks, per_table);
        n = clusters + blocks + table;
        if (n == last && generous) {
            clusters += div_up(table, 2);
            n = 0; /* force another round */
            generous = false;
        }
    } while (n != last);
    if (blocks_out)
        *blocks_out = blocks;
    return (blocks + table) * cs;
}

/*
 * Build a new refcount table, plus refcount blocks for the area starting at
 * `start` (a cluster-aligned offset past everything in use), large enough for
 * `additional` more clusters (QEMU's qcow2_refcount_area):
 *
 *   [start] new refcount blocks ... [table_offset] new table ... [end]
 *
 * The blocks get refcount 1 for every new structure in their range, the
 * table is written, one 12-byte header write (refcount_table_offset and
 * _clusters are adjacent, bytes 48..59) switches to it, and only then the
 * old table is freed.  `new_idx`/`new_off` hook up a block the caller has
 * just written.  *end_out receives the first byte after the new table.
 */
int qc_refcount_area(struct img *img, uint64_t start, uint64_t additional, bool exact,
                     uint64_t new_idx, uint64_t new_off, uint64_t *end_out)
{
    struct qcow2 *q = img->q;
    uint64_t total, table_size, table_clusters, area_idx, extra = 0, table_off, end, boff;
    uint64_t old_off = q->h.refcount_table_offset, old_clusters = q->h.refcount_table_clusters;
    uint64_t *nt;
    uint8_t *b, hb[12];
    int r = 0;

    qc_refcount_metadata_size((start >> q->cluster_bits) + additional, q->cluster_size,
                              (int)q->h.refcount_order, !exact, &total);
    area_idx = (start >> q->cluster_bits) / q->rb_entries;
    table_size = exact ? total : total + div_up(total, 2);
    table_size = div_up(table_size, q->cluster_size / 8) * (q->cluster_size / 8);
    table_clusters = table_size * 8 / q->cluster_size;
    if (table_size * 8 > QCOW_MAX_REFTABLE_SIZE)
        return img_fail(img, IMG_ENOSPC, "Reference count table of '%s' cannot grow further",
                        img->name);
    nt = img_alloc(img->env, (size_t)table_size * 8);
    b = img_alloc(img->env, (size_t)table_size * 8 > q->cluster_size ? (size_t)table_size * 8
                                                                     : q->cluster_size);
    if (!nt || !b) {
        img_free(img->env, nt);
        img_free(img->env, b);
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    }
    memcpy(nt, q->rt, (size_t)(q->rt_entries < table_size ? q->rt_entries : table_size) * 8);
    if (new_off)
        nt[new_idx] = new_off;
    for (uint64_t i = area_idx; i < total; i++)
        if (!(nt[i] & ~0x1ffull))
            extra++;
    table_off = start + extra * q->cluster_size;
    end = table_off + table_clusters * q->cluster_size;

    /* Refcount blocks: reuse existing ones, create the missing ones; set
     * refcount 1 for every new structure (blocks and table) they cover. */
    boff = start;
    for (uint64_t i = area_idx; i < total && r == 0; i++) {
        uint64_t first = i * q->rb_entries * q->cluster_size, j, jend, bo;
        size_t bl;
        uint8_t *blk;
        bool fresh = !(nt[i] & ~0x1ffull);
        if (fresh) {
            memset(b, 0, q->cluster_size);
            blk = b;
            nt[i] = boff;
            boff += q->cluster_size;
        } else if ((r = qc_rb_load(img, nt[i] & ~0x1ffull, &blk)) < 0) {
            break;
        }
        if (first < end) {
            j = first < start ? (start - first) >> q->cluster_bits : 0;
            jend = (end - first) >> q->cluster_bits;
            if (jend > q->rb_entries)
                jend = q->rb_entries;
            for (; j < jend; j++)
                rb_put(q, blk, j, 1, &bo, &bl);
        }
        qc_cache_drop(img, q->rbc, nt[i] & ~0x1ffull);
        r = io_write(img, nt[i] & ~0x1ffull, blk, q->cluster_size);
    }
    if (r == 0) {
        for (uint64_t i = 0; i < table_size; i++)
            put64(b + i * 8, nt[i]);
        r = io_write(img, table_off, b, (size_t)table_size * 8);
    }
    if (r == 0 && img->io.flush && !(img->flags & IMG_OPEN_NO_FLUSH))
        img->io.flush(img->io.ctx);
    if (r == 0) {
        put64(hb, table_off);
        put32(hb + 8, (uint32_t)table_clusters);
        r = io_write(img, QH_RT_OFFSET, hb, 12);
    }
    img_free(img->env, b);
    if (r < 0) {
        img_free(img->env, nt);
        return r;
    }
    img_free(img->env, q->rt);
    q->rt = nt;
    q->rt_entries = table_size;
    q->h.refcount_table_offset = table_off;
    q->h.refcount_table_clusters = (uint32_t)table_clusters;
    if ((end >> q->cluster_bits) > q->alloc_end)
        q->alloc_end = end >> q->cluster_bits;
    /* Release the old table. */
    for (uint64_t c = 0; c < old_clusters && r == 0; c++)
        r = qc_rc_update(img, (old_off >> q->cluster_bits) + c, -1);
    if (end_out)
        *end_out = end;
    return r;
}

/*
 * Make sure the refcount block for `blk` exists (QEMU's
 * alloc_refcount_block).  The new block goes to the first free cluster; if
 * that cluster lies in the block's own range the block describes itself,
 * otherwise its refcount is kept by the block of its own range.  When the
 * table has no entry for `blk`, a new table (and blocks for it) is built
 * right after the last range in use.
 */
static int ensure_block(struct img *img, uint64_t table_index)
{
    struct qcow2 *q = img->q;
    uint64_t new_cluster, its_table_index, rc;
    uint8_t raw[8];
    int r;
    /* "If this is 0, the corresponding refcount block has not yet been
     * allocated" (qcow2.txt "Refcount table entry"); a table_index past
     * the table needs a larger table as well. */
    while (table_index >= q->rt_entries || !(q->rt[table_index] & RT_BLOCK_OFFSET)) {
        r = find_free(img, q->free_hint, 1, &new_cluster);
        if (r < 0)
            return r;
        /* Like QEMU's free_cluster_index: the search goes on after it. */
        q->free_hint = new_cluster + 1;
        its_table_index = new_cluster / q->rb_entries;
        if (its_table_index == table_index) {
            /* The block describes its own cluster: refcount 1 in itself. */
            r = write_zero_cluster_with(img, new_cluster << q->cluster_bits,
                                        new_cluster % q->rb_entries, 1);
        } else {
            /* Counted by the block of its own range (created first if
             * needed, which may itself take the cluster: then look again). */
            r = ensure_block(img, its_table_index);
            if (r < 0)
                return r;
            r = qc_rc_get(img, new_cluster, &rc);
            if (r < 0)
                return r;
            if (rc)
                continue;
            /* Its refcount first, then its contents: a crash in between
             * leaks one cluster and points at nothing. */
            r = rb_store(img, its_table_index, new_cluster, 1);
            if (r == 0)
                r = write_zero_cluster_with(img, new_cluster << q->cluster_bits, 0, 0);
        }
        if (r < 0)
            return r;
        if (new_cluster + 1 > q->alloc_end)
            q->alloc_end = new_cluster + 1;
        if (table_index < q->rt_entries) {
            /* Hook it up: the block is written, now the table entry (one
             * 8-byte write, so the entry is either 0 or the block). */
            put64(raw, new_cluster << q->cluster_bits);
            r = io_write(img, q->h.refcount_table_offset + table_index * 8, raw, 8);
            if (r < 0)
                return r;
            q->rt[table_index] = new_cluster << q->cluster_bits;
        } else {
            /* No table entry for it: build a larger table (and blocks for
             * it) after every range in use, with this block hooked in. */
            uint64_t used = (table_index > its_table_index ? table_index : its_table_index) + 1;
            r = qc_refcount_area(img, (used * q->rb_entries) << q->cluster_bits, 0, false,
                                 table_index, new_cluster << q->cluster_bits, NULL);
            if (r < 0)
                return r;
        }
    }
    return 0;
}

/*
 * Set the refcount of host cluster `cluster` to `value`, making its
 * refcount block first if it has none (ensure_block), and keep the
 * allocator's hints true: free_hint (no free cluster below it) moves down
 * when a cluster is freed, alloc_end (nothing in use at or above it) moves
 * up when one is taken.  A value the refcount width cannot hold (1-bit
 * refcounts allow only 0 and 1) is refused before anything is written.
 */
int qc_rc_set(struct img *img, uint64_t cluster, uint64_t value)
{
    struct qcow2 *q = img->q;
    uint64_t table_index = cluster / q->rb_entries;
    int r;
    if (value > q->rc_max)
        return img_fail(img, IMG_ERANGE,
                        "Reference count overflow on cluster %llu (refcount_bits=%d)",
                        (unsigned long long)cluster, q->rc_bits);
    r = ensure_block(img, table_index);
    if (r < 0)
        return r;
    r = rb_store(img, table_index, cluster, value);
    if (r < 0)
        return r;
    if (value == 0) {
        /* A freed cluster may be reused for anything: forget cached copies. */
        qc_cache_drop(img, q->l2c, cluster << q->cluster_bits);
        qc_cache_drop(img, q->rbc, cluster << q->cluster_bits);
        if (cluster < q->free_hint)
            q->free_hint = cluster;
        /* The cluster that compressed data was being packed into is gone:
         * it may come back as anything, so never append to it again. */
        if (q->comp_next && (q->comp_next >> q->cluster_bits) == cluster)
            q->comp_next = 0;
    } else if (cluster + 1 > q->alloc_end) {
        q->alloc_end = cluster + 1;
    }
    return 0;
}

/*
 * Add delta (positive or negative) to one cluster's refcount.  A count
 * that would go below zero means the image's refcounts are already wrong
 * (a cluster referenced more often than counted): refused as corruption,
 * since going on could free a cluster still in use.
 */
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

/* qc_rc_update for every host cluster that [off, off + len) touches:
 * a compressed stream may span two clusters, a table several. */
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

static int set_run_one(struct img *img, uint64_t c, uint64_t n);

/*
 * Allocate n contiguous free host clusters, give each refcount 1, and
 * return the offset of the first in *off.  The refcounts are written
 * before the caller makes anything point at the clusters (the crash rule
 * of this file's header comment); the clusters' contents are the
 * caller's to write.
 */
int qc_alloc_clusters(struct img *img, uint64_t n, uint64_t *off)
{
    struct qcow2 *q = img->q;
    uint64_t c;
    int r;
    /*
     * QEMU's placement, step for step (qcow2_alloc_clusters): the search
     * index moves past the run found; if a refcount block is missing for
     * a cluster of the run, the block goes to the first free cluster after
     * the run, the refcounts already raised in the run are rolled back
     * (which lowers the index to the run's start again, if there were
     * any), and the search restarts.  Matching this keeps images
     * byte-identical to qemu-img's.
     */
    for (;;) {
        bool moved = false;
        r = find_free(img, q->free_hint, n, &c);
        if (r < 0)
            return r;
        q->free_hint = c + n;
        for (uint64_t i = 0; i < n && !moved; i++) {
            uint64_t blk = (c + i) / q->rb_entries;
            if (blk >= q->rt_entries || !(q->rt[blk] & ~0x1ffull)) {
                r = ensure_block(img, blk);
                if (r < 0)
                    return r;
                if (i > 0 && c < q->free_hint)
                    q->free_hint = c;
                moved = true;
            }
        }
        if (!moved)
            break;
    }
    r = set_run_one(img, c, n);
    if (r < 0)
        return r;
    *off = c << q->cluster_bits;
    return 0;
}

/* Refcount 1 for a whole run whose blocks exist and whose entries are 0:
 * one write per refcount block touched. */
static int set_run_one(struct img *img, uint64_t c, uint64_t n)
{
    struct qcow2 *q = img->q;
    int r;
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
    return 0;
}

/* Claim the n clusters at c, known to be free (QEMU's
 * qcow2_alloc_clusters_at, after qcow2_refcount_area made room). */
int qc_alloc_clusters_at(struct img *img, uint64_t c, uint64_t n)
{
    struct qcow2 *q = img->q;
    uint64_t rc;
    int r;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t blk = (c + i) / q->rb_entries;
        if ((blk >= q->rt_entries || !(q->rt[blk] & ~0x1ffull)) && (r = ensure_block(img, blk)) < 0)
            return r;
        if ((i == 0 || (c + i) % q->rb_entries == 0) && (r = qc_rc_get(img, c + i, &rc)) < 0)
            return r;
    }
    for (uint64_t i = 0; i < n; i++) {
        if ((r = qc_rc_get(img, c + i, &rc)) < 0)
            return r;
        if (rc)
            return img_fail(img, IMG_ECORRUPT, "Cluster %llu is unexpectedly in use",
                            (unsigned long long)(c + i));
    }
    return set_run_one(img, c, n);
}

/*
 * Space for one compressed cluster (QEMU's qcow2_alloc_bytes): compressed
 * clusters are packed at byte granularity (qcow2 stores their offset and
 * length in 512-byte sectors), continuing into the next cluster when that
 * one is free and adjacent; every host cluster they touch counts one
 * reference per compressed cluster.  A cluster whose refcount is at its
 * maximum (1- and 2-bit refcounts) takes no more users.
 */
int qc_alloc_bytes(struct img *img, uint64_t size, uint64_t *off)
{
    struct qcow2 *q = img->q;
    uint64_t o = q->comp_next, rc, free_in, nc;
    int r;
    if (o) {
        r = qc_rc_get(img, o >> q->cluster_bits, &rc);
        if (r < 0)
            return r;
        if (rc == 0 || rc >= q->rc_max)
            o = 0;
    }
    free_in = q->cluster_size - (o & (q->cluster_size - 1));
    for (;;) {
        bool moved = false;
        if (!o || free_in < size) {
            r = find_free(img, q->free_hint, 1, &nc);
            if (r < 0)
                return r;
            q->free_hint = nc + 1;
            nc <<= q->cluster_bits;
            if (!o || div_up(o, q->cluster_size) * q->cluster_size != nc) {
                o = nc;
                free_in = q->cluster_size;
            } else {
                free_in += q->cluster_size;
            }
        }
        /* Missing refcount blocks are created first; then start over. */
        for (uint64_t c = o >> q->cluster_bits; c <= (o + size - 1) >> q->cluster_bits; c++) {
            uint64_t blk = c / q->rb_entries;
            if (blk >= q->rt_entries || !(q->rt[blk] & ~0x1ffull)) {
                r = ensure_block(img, blk);
                if (r < 0)
                    return r;
                moved = true;
            }
        }
        if (!moved)
            break;
        o = 0;
    }
    r = qc_rc_update_range(img, o, size, 1);
    if (r < 0)
        return r;
    *off = o;
    q->comp_next = (o + size) & (q->cluster_size - 1) ? o + size : 0;
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
