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
 *
 * Rewriting everything beside the old structure costs the space of a
 * second refcount structure for a moment, but never changes a refcount
 * block in place: changing the width in place would leave, after a crash,
 * blocks of two widths under one refcount_order, which no reader could
 * tell apart.  QEMU makes the same choice.
 *
 * Reading order: qc_change_refcount_order(), then size_new_structure(),
 * write_new_structure() (mark_old_structure(), write_block()) and
 * switch_structure().
 */
#include "internal.h"

/*
 * Mark the clusters of the current refcount structure (table and blocks)
 * in a bitmap of `used` bits.  They get a count of 0 in the new structure:
 * once the header switches to it, nothing refers to them any more.
 */
static void mark_old_structure(const struct qcow2 *q, uint8_t *old_map, uint64_t used)
{
    uint64_t table_first = q->h.refcount_table_offset >> q->cluster_bits;
    for (uint64_t i = table_first; i < table_first + q->h.refcount_table_clusters && i < used; i++)
        old_map[i / 8] |= (uint8_t)(1u << (i % 8));
    /* Bits 0-8 of a table entry are reserved (qcow2.txt "Refcount table
     * entry"); an empty entry has no block. */
    for (uint64_t b = 0; b < q->rt_entries; b++) {
        uint64_t i = (q->rt[b] & ~0x1ffull) >> q->cluster_bits;
        if (q->rt[b] && i < used)
            old_map[i / 8] |= (uint8_t)(1u << (i % 8));
    }
}

/*
 * Fill and write new refcount block block_index (entries as wide as
 * new_geometry says) at cluster `at`.  Each cluster it covers gets its
 * current count, 0 if it belongs to the old structure, or 1 if it lies in
 * [new_start, new_end), the new structure's own clusters.
 */
static int write_block(struct img *img, uint8_t *block_buf, const uint8_t *old_map,
                       struct qcow2 *new_geometry, uint64_t block_index, uint64_t used,
                       uint64_t new_start, uint64_t new_end, uint64_t at)
{
    struct qcow2 *q = img->q;
    uint64_t touched_off;
    size_t touched_len;
    memset(block_buf, 0, q->cluster_size);
    for (uint64_t k = 0; k < new_geometry->rb_entries; k++) {
        /* i: the cluster this entry counts; v: its count in the new
         * structure. */
        uint64_t i = block_index * new_geometry->rb_entries + k, v = 0;
        if (i < used && !(old_map[i / 8] & (1u << (i % 8)))) {
            int r = qc_rc_get(img, i, &v);
            if (r < 0)
                return r;
            /* QEMU checks every count against the new maximum: a narrower
             * width cannot hold a count of, say, 3 in one bit, and such
             * an amend is refused before the header changes, with
             * QEMU's message. */
            if (v > new_geometry->rc_max)
                return img_fail(img, IMG_EINVAL,
                                "Cannot decrease refcount entry width to %d bits: Cluster at "
                                "offset %#llx has a refcount of %llu",
                                new_geometry->rc_bits, (unsigned long long)(i << q->cluster_bits),
                                (unsigned long long)v);
        } else if (i >= new_start && i < new_end) {
            v = 1;
        }
        /* The entry's encoding for the new width (qcow2.txt "Refcount
         * block entry"); which bytes changed does not matter here, the
         * whole block is written. */
        qc_rb_put_entry(new_geometry, block_buf, k, v, &touched_off, &touched_len);
    }
    return io_write(img, at << q->cluster_bits, block_buf, q->cluster_size);
}

/*
 * How many refcount blocks and table clusters the new structure needs.
 * They go after the `used` clusters and must count themselves too, so
 * both are grown until they stop growing (a fixed point, as in
 * qc_refcount_metadata_size()).
 */
static void size_new_structure(const struct qcow2 *q, const struct qcow2 *new_geometry,
                               uint64_t used, uint64_t *new_blocks, uint64_t *table_clusters)
{
    /* Start with the blocks for the used clusters alone; each round adds
     * the blocks and table clusters the previous round counted. */
    *new_blocks = div_up(used, new_geometry->rb_entries);
    for (;;) {
        *table_clusters = div_up(*new_blocks * 8, q->cluster_size);
        uint64_t need = div_up(used + *new_blocks + *table_clusters, new_geometry->rb_entries);
        if (need <= *new_blocks)
            break;
        *new_blocks = need;
    }
}

/*
 * Write the new blocks at clusters used.. and the new table right after
 * them, all into clusters nothing refers to yet: until the header points
 * at them, a crash only leaks them.  `table` receives the table's entries
 * (big-endian, as written).
 */
static int write_new_structure(struct img *img, struct qcow2 *new_geometry, uint64_t used,
                               uint64_t new_blocks, uint64_t table_clusters, uint64_t *table)
{
    struct qcow2 *q = img->q;
    uint8_t *block_buf = img_alloc(img->env, q->cluster_size);
    uint8_t *old_map = img_alloc(img->env, (size_t)(used / 8 + 1));
    int r = 0;
    if (!block_buf || !old_map) {
        r = img_fail(img, IMG_ENOMEM, "Out of memory");
        goto out;
    }
    mark_old_structure(q, old_map, used);
    /* Blocks in order, each right after the previous one. */
    for (uint64_t b = 0; b < new_blocks && r == 0; b++) {
        r = write_block(img, block_buf, old_map, new_geometry, b, used, used,
                        used + new_blocks + table_clusters, used + b);
        /* The table, big-endian (qcow2.txt "Host cluster management"). */
        put64((uint8_t *)table + b * 8, (used + b) << q->cluster_bits);
    }
    /* The table last, once every block it points at is on disk. */
    if (r == 0)
        r = io_write(img, (used + new_blocks) << q->cluster_bits, table,
                     (size_t)(table_clusters * q->cluster_size));
out:
    img_free(img->env, block_buf);
    img_free(img->env, old_map);
    return r;
}

/*
 * The switch: one header write changes refcount_order and the table's
 * place together, so a reader sees either the old structure or the new
 * one.  The in-memory state follows only once the header is written; if
 * the write fails, the header fields in memory are put back.
 */
static int switch_structure(struct img *img, const struct qcow2 *new_geometry, int new_order,
                            uint64_t used, uint64_t new_blocks, uint64_t table_clusters)
{
    struct qcow2 *q = img->q;
    uint32_t old_order = q->h.refcount_order;
    uint64_t old_off = q->h.refcount_table_offset;
    uint32_t old_clusters = q->h.refcount_table_clusters;
    q->h.refcount_order = (uint32_t)new_order;
    q->h.refcount_table_offset = (used + new_blocks) << q->cluster_bits;
    q->h.refcount_table_clusters = (uint32_t)table_clusters;
    int r = qc_update_header(img);
    if (r < 0) {
        q->h.refcount_order = old_order;
        q->h.refcount_table_offset = old_off;
        q->h.refcount_table_clusters = old_clusters;
        return r;
    }
    /* The table in memory, in host order as qc_open() keeps it. */
    img_free(img->env, q->rt);
    q->rt = img_alloc(img->env, (size_t)(table_clusters * q->cluster_size));
    if (!q->rt)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    q->rt_entries = table_clusters * q->cluster_size / 8;
    for (uint64_t b = 0; b < new_blocks; b++)
        q->rt[b] = (used + b) << q->cluster_bits;
    /* A rebuilt table has no damage left, whatever the old one had. */
    q->rt_damaged = false;
    q->rc_bits = new_geometry->rc_bits;
    q->rb_entries = new_geometry->rb_entries;
    q->rc_max = new_geometry->rc_max;
    /* Cached blocks are of the old width: drop them all. */
    for (int i = 0; i < QC_CACHE_SLOTS; i++)
        q->rbc[i].off = 0;
    /* The old structure's clusters are free now. */
    q->free_hint = 0;
    q->alloc_end = used + new_blocks + table_clusters;
    return 0;
}

/*
 * Change the refcount width to new_bits (a power of two up to 64, checked
 * by the caller).  The new structure is built beside the old one and
 * switched to in one header write; see the top of this file.
 */
int qc_change_refcount_order(struct img *img, int new_bits)
{
    struct qcow2 *q = img->q;
    /* Only the refcount geometry fields are used: what write_block() and
     * qc_rb_put_entry() need to encode entries of the new width. */
    struct qcow2 new_geometry;
    uint64_t file_size, used, new_blocks, table_clusters, *table;
    int new_order = 0, r;
    if (new_bits == q->rc_bits)
        return 0;
    while ((1 << new_order) < new_bits)
        new_order++;
    memset(&new_geometry, 0, sizeof(new_geometry));
    new_geometry.rc_bits = new_bits;
    new_geometry.rb_entries = (uint64_t)q->cluster_size * 8 / (uint64_t)new_bits;
    new_geometry.rc_max = new_bits == 64 ? UINT64_MAX : (1ull << new_bits) - 1;
    /* Everything up to the file's end or the allocator's, whichever is
     * further, keeps its count; the new structure goes after it. */
    if (io_size(img, &file_size) < 0)
        return -IMG_EIO;
    used = div_up(file_size, q->cluster_size);
    if (q->alloc_end > used)
        used = q->alloc_end;
    size_new_structure(q, &new_geometry, used, &new_blocks, &table_clusters);
    /* Zeroed: entries past the last block stay empty. */
    table = img_alloc(img->env, (size_t)(table_clusters * q->cluster_size));
    if (!table)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    r = write_new_structure(img, &new_geometry, used, new_blocks, table_clusters, table);
    if (r == 0)
        r = switch_structure(img, &new_geometry, new_order, used, new_blocks, table_clusters);
    img_free(img->env, table);
    return r;
}
