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

/*
 * Metadata must sit on a cluster boundary, past the header and below the
 * 56-bit offset limit; anything else in a table is corruption.
 *
 * The rules come from qcow2.txt "Cluster mapping" (an L1 entry holds
 * "Bits 9-55 of the offset ... Must be aligned to a cluster boundary") and
 * "Host cluster management" (the same for refcount table entries).  Cluster
 * 0 always holds the header, so a table there would overwrite it: a damaged
 * or hostile image that points a table at offset 0 is refused before the
 * pointer is followed, rather than after its contents were trusted.
 */
int qc_check_meta_offset(struct img *img, uint64_t off, uint64_t len, const char *what)
{
    struct qcow2 *q = img->q;
    bool unaligned = off & (q->cluster_size - 1);
    bool in_header = off < q->cluster_size;
    /* Written as two comparisons so that off + len cannot overflow. */
    bool past_limit = off >= QCOW_MAX_OFFSET || len > QCOW_MAX_OFFSET - off;
    if (unaligned || in_header || past_limit)
        return img_fail(img, IMG_ECORRUPT, "Invalid %s offset %#llx in image '%s'", what,
                        (unsigned long long)off, img->name);
    return 0;
}

/*
 * Find a cached cluster, or read it into the least recently used slot.
 *
 * Both caches (L2 tables and refcount blocks) are a handful of slots
 * searched linearly: a request touches one or two tables, and sequential
 * guest I/O stays in the same table for cluster_size / 8 clusters, so a
 * hash would save nothing.  The returned pointer stays valid only until a
 * later call on the same cache reuses its slot.
 */
static int cache_get(struct img *img, struct qc_cache_slot *slots, uint64_t table_offset,
                     uint8_t **out, const char *what)
{
    struct qcow2 *q = img->q;
    int victim = 0;
    /* At most about 1 MiB per cache: 16 slots of 64 KiB clusters, but only
     * 2 of 2 MiB ones (this code also runs inside hv, where memory is
     * scarce).  Slots past the limit stay empty. */
    int nslots = (int)((1u << 20) / q->cluster_size);
    nslots = nslots < 2 ? 2 : nslots > QC_CACHE_SLOTS ? QC_CACHE_SLOTS : nslots;
    for (int i = 0; i < nslots; i++) {
        if (slots[i].off == table_offset && slots[i].data) {
            slots[i].used = ++q->lru;
            *out = slots[i].data;
            return 0;
        }
        /* An empty slot has used == 0, so it is always the first victim. */
        if (slots[i].used < slots[victim].used)
            victim = i;
    }
    /* The offset came from an L1 or refcount table entry in the file:
     * check it before reading, so a damaged entry cannot make us read the
     * header (or anything unaligned) as a table. */
    if (qc_check_meta_offset(img, table_offset, q->cluster_size, what) < 0)
        return -IMG_ECORRUPT;
    if (!slots[victim].data) {
        slots[victim].data = img_alloc(img->env, q->cluster_size);
        if (!slots[victim].data)
            return img_fail(img, IMG_ENOMEM, "Out of memory");
    }
    /* Mark the slot empty while it is being filled: a failed read must
     * not leave the old table's contents under the new offset. */
    slots[victim].off = 0;
    if (io_read(img, table_offset, slots[victim].data, q->cluster_size) < 0)
        return -IMG_EIO;
    slots[victim].off = table_offset;
    slots[victim].used = ++q->lru;
    *out = slots[victim].data;
    return 0;
}

/*
 * Forget a cached cluster (freed or rewritten behind the cache's back).
 * Callers that write a whole table with io_write() (a new L2 table, a
 * copied one, a refcount block built in memory) drop it here, so the next
 * lookup reads what is really in the file.
 */
void qc_cache_drop(struct img *img, struct qc_cache_slot *slots, uint64_t table_offset)
{
    (void)img;
    for (int i = 0; i < QC_CACHE_SLOTS; i++)
        if (slots[i].off == table_offset)
            slots[i].off = 0;
}

/* The L2 table at host offset l2_off (one cluster), through the L2 cache.
 * The offset is an L1 entry's bits 9-55 (qcow2.txt "L1 table entry"). */
int qc_l2_load(struct img *img, uint64_t l2_off, uint8_t **table)
{
    return cache_get(img, img->q->l2c, l2_off, table, "L2 table");
}

/* The refcount block at host offset rb_off, through the refcount cache
 * (qcow2.txt "Refcount table entry": bits 9-63 of the block's offset). */
int qc_rb_load(struct img *img, uint64_t rb_off, uint8_t **block)
{
    return cache_get(img, img->q->rbc, rb_off, block, "refcount block");
}

/*
 * Entry idx of an L2 table: the 64-bit cluster descriptor (qcow2.txt "L2
 * table entry": host offset, bit 62 compressed, bit 63 COPIED) and, with
 * extended L2 entries, the 64-bit subcluster bitmap that follows it
 * (qcow2.txt "Subcluster Allocation Bitmap"); without them the bitmap is
 * reported as 0.  Entries are big-endian on disk.
 */
void qc_l2_entry(struct img *img, const uint8_t *table, uint64_t idx, uint64_t *entry,
                 uint64_t *subcluster_bitmap)
{
    struct qcow2 *q = img->q;
    const uint8_t *p = table + idx * (uint64_t)q->l2_esize;
    *entry = be64(p);
    /* The second half of an extended entry is the subcluster bitmap. */
    *subcluster_bitmap = q->ext_l2 ? be64(p + 8) : 0;
}

/*
 * Update one entry on disk and in the cache.
 *
 * Only the 8 (or 16) bytes of the entry are written, not the table: they
 * lie inside one 512-byte sector, which disks write whole (QEMU relies on
 * the same), so a crash leaves either the old or the new mapping.  The cache is
 * changed only after the write succeeded, so it never shows a mapping the
 * file does not have.
 */
int qc_l2_set(struct img *img, uint64_t l2_off, uint64_t idx, uint64_t entry,
              uint64_t subcluster_bitmap)
{
    struct qcow2 *q = img->q;
    uint8_t raw[16];
    int r;
    put64(raw, entry);
    put64(raw + 8, subcluster_bitmap);
    r = io_write(img, l2_off + idx * (uint64_t)q->l2_esize, raw, (size_t)q->l2_esize);
    if (r < 0)
        return r;
    for (int i = 0; i < QC_CACHE_SLOTS; i++) {
        if (q->l2c[i].off == l2_off) {
            uint8_t *cached_table = q->l2c[i].data;
            memcpy(cached_table + idx * (uint64_t)q->l2_esize, raw, (size_t)q->l2_esize);
        }
    }
    return 0;
}

/*
 * A write that puts new data (or none) under a guest cluster ends the same
 * way whatever the data is: the entry the cluster had is read back from
 * the table, which is ours by now (the caller made it so before it wrote
 * the data, and copying a shared table keeps its entries), then the new
 * entry goes in its place.  The old one comes back so that its clusters
 * are freed only after nothing points at them: a crash in between leaks
 * space but never hands out a cluster still in use.
 */
int qc_l2_replace(struct img *img, uint64_t l2_off, uint64_t idx, uint64_t entry,
                  uint64_t subcluster_bitmap, uint64_t *old_entry)
{
    uint64_t old_bitmap;
    uint8_t *table;
    int r = qc_l2_load(img, l2_off, &table);
    if (r < 0)
        return r;
    qc_l2_entry(img, table, idx, old_entry, &old_bitmap);
    return qc_l2_set(img, l2_off, idx, entry, subcluster_bitmap);
}
