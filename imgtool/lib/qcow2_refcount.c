/*
 * qcow2_refcount.c: reference counts and cluster allocation.
 *
 * Every host cluster has a reference count (qcow2.txt "Host cluster
 * management"): a two-level structure of a refcount table whose entries
 * point to refcount blocks, each a cluster of refcount_bits-wide entries.
 * Widths below 8 bits are packed least significant bits first within a
 * byte; wider ones are big-endian.  A cluster is free exactly when its
 * refcount is 0 (a missing refcount block means all its clusters are 0).
 * A refcount of 2 or more means the cluster is shared (by snapshots, or
 * by several compressed clusters packed into it), and "any write access
 * must perform a COW (copy on write) operation" (same section).
 *
 * Crash ordering: a cluster's refcount is raised (and the refcount block
 * holding it written, and the table entry pointing to that block) before
 * anything points at the cluster; refcounts are lowered only after the
 * last pointer is gone.  An interruption therefore leaves at worst clusters
 * with a refcount and no user: leaks, which check -r leaks repairs.  The
 * other way round would be worse: a pointer to a cluster whose refcount is
 * 0 lets the allocator hand the cluster out again, and two users then
 * overwrite each other's data.
 *
 * The refcount structure counts its own clusters too: a refcount block
 * lies somewhere in the file, so some block (possibly itself) holds its
 * refcount.  That is why creating a block can need another block first
 * (ensure_block()), and why a table that has to grow is rebuilt together
 * with blocks that cover it (qc_refcount_area()).
 *
 * Placement follows QEMU 7.2's allocator step for step, so that an image
 * written by imgtool is byte for byte the one qemu-img writes (the interop
 * tests compare them).
 */
#include "internal.h"

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
        /* 1, 2 or 4 bits: entry i lives in byte i*bits/8 at bit (i*bits)%8.
         * With 4-bit refcounts, say, byte 0 holds cluster 0's count in its
         * bits 0-3 and cluster 1's in bits 4-7. */
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
    /* A cluster the table does not reach yet (the file grew past what the
     * blocks cover) is free, like one under an entry of 0. */
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
    /* A block that cannot be loaded (its offset fails the cache's checks,
     * or the read fails) leaves the count unknown: the caller must not
     * guess, since a wrong 0 would let a used cluster be allocated. */
    if (qc_rb_load(img, q->rt[table_index] & RT_BLOCK_OFFSET, &block) < 0)
        return -IMG_ECORRUPT;
    *rc = rb_get(q, block, cluster % q->rb_entries);
    return 0;
}

/*
 * Write one refcount into an existing block (write-through): the cached
 * block is changed and only the touched bytes are written, so the file
 * and the cache agree after every call, and a crash loses at most this
 * one update.  A write of a few bytes is also atomic in practice (it lies
 * within one sector), so an entry is never seen half written.
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

/*
 * Does cluster c hold the header or one of the tables the header points
 * to?  A damaged image may claim refcount 0 for them; allocating them
 * would overwrite live metadata (QEMU's "metadata overlap" check).  Only
 * what the header names directly is tested here, at no cost; an L2 table
 * or refcount block whose count is wrong is check's to find.
 */
bool qc_is_core_metadata(struct qcow2 *q, uint64_t c)
{
    uint64_t off = c << q->cluster_bits;
    /* Byte ranges: the header cluster (qcow2.txt "Header": "The first
     * cluster of a qcow2 image contains the file header"), the active L1
     * table and the refcount table, both as the header gives them. */
    struct {
        uint64_t start, len;
    } areas[] = {
        {0, q->cluster_size},
        {q->h.l1_table_offset, (uint64_t)q->h.l1_size * 8},
        {q->h.refcount_table_offset, (uint64_t)q->h.refcount_table_clusters << q->cluster_bits},
    };
    for (unsigned i = 0; i < KARRAY_SIZE(areas); i++)
        if (areas[i].len && off + q->cluster_size > areas[i].start &&
            off < areas[i].start + areas[i].len)
            return true;
    return false;
}

/*
 * The first run of `count` clusters from cluster `from` on whose refcounts
 * are 0; its first cluster goes to *out.  Clusters past the table's reach
 * have no refcount block and are therefore free.  Cluster 0 is never
 * returned: it holds the header, whatever its refcount says.
 */
static int find_free(struct img *img, uint64_t from, uint64_t count, uint64_t *out)
{
    struct qcow2 *q = img->q;
    uint64_t cluster = from ? from : 1, run = 0, rc;
    for (;;) {
        /* Host offsets have 56 bits (qcow2.txt "Standard Cluster
         * Descriptor": bits 9-55 of the host cluster offset); a cluster
         * at or past 64 PB cannot be pointed at. */
        if (cluster >= (uint64_t)QCOW_MAX_OFFSET >> q->cluster_bits)
            return img_fail(img, IMG_ENOSPC, "Image '%s' is full (56-bit offsets)", img->name);
        /* Past the refcount table's reach, or past the end of the file and
         * of everything allocated in this session, nothing is in use (a
         * refcount claiming otherwise is at most a leak; trusting it could
         * make a hostile image scan billions of clusters).  The run found
         * so far simply goes on there. */
        if (cluster / q->rb_entries >= q->rt_entries || cluster >= q->alloc_end) {
            *out = cluster - run;
            return 0;
        }
        if (qc_rc_get(img, cluster, &rc) < 0)
            return -IMG_ECORRUPT;
        if (rc == 0 && qc_is_core_metadata(q, cluster))
            return img_fail(img, IMG_ECORRUPT,
                            "Metadata cluster %llu of '%s' has refcount 0; run check -r all",
                            (unsigned long long)cluster, img->name);
        /* A used cluster breaks the run: the next one starts after it. */
        run = rc == 0 ? run + 1 : 0;
        cluster++;
        if (run == count) {
            *out = cluster - count;
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
    /* img_alloc() returns zeroed memory: all other counts start at 0. */
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
    /* A table cluster holds cs / 8 entries of 8 bytes; a block holds
     * cs * 8 / refcount_bits counts (qcow2.txt "Host cluster management":
     * refcount_block_entries).  With 64 KiB clusters and 16-bit counts a
     * block counts 32768 clusters, 2 GiB of file, and one table cluster
     * points at 8192 blocks, 16 TiB of file. */
    uint64_t per_table = cs / 8, per_block = cs * 8 / (1ull << order);
    uint64_t table = 0, blocks = 0, total = 0, last;
    /* Each round counts the blocks and table clusters needed for the
     * clusters plus the structure found in the round before; the numbers
     * only grow, and stop once a round adds nothing. */
    do {
        last = total;
        blocks = div_up(clusters + table + blocks, per_block);
        table = div_up(blocks, per_table);
        total = clusters + blocks + table;
        if (total == last && generous) {
            clusters += div_up(table, 2);
            total = 0; /* force another round */
            generous = false;
        }
    } while (total != last);
    if (blocks_out)
        *blocks_out = blocks;
    return (blocks + table) * cs;
}

/*
 * The shape of a new refcount structure built by qc_refcount_area():
 *
 *   [start] new refcount blocks ... [table_off] new table ... [end]
 */
struct rc_area {
    uint64_t start;          /* first byte: the new blocks begin here */
    uint64_t first_index;    /* table index of the block covering `start` */
    uint64_t blocks;         /* table entries the new structure must fill */
    uint64_t table_entries;  /* entries of the new table, whole clusters */
    uint64_t table_clusters; /* its size in clusters */
    uint64_t table_off;      /* the new table, right after the new blocks */
    uint64_t end;            /* first byte after the new table */
};

/*
 * Size the new structure for everything up to `start` plus `additional`
 * clusters, as QEMU's qcow2_refcount_area() sizes it: the blocks come from
 * qc_refcount_metadata_size(), the table gets half again as many entries
 * unless `exact` (room to grow before the next rebuild), rounded up to
 * whole clusters.
 */
static int size_area(struct img *img, uint64_t start, uint64_t additional, bool exact,
                     struct rc_area *area)
{
    struct qcow2 *q = img->q;
    uint64_t entries_per_cluster = q->cluster_size / 8;
    area->start = start;
    qc_refcount_metadata_size((start >> q->cluster_bits) + additional, q->cluster_size,
                              (int)q->h.refcount_order, !exact, &area->blocks);
    area->first_index = (start >> q->cluster_bits) / q->rb_entries;
    area->table_entries = exact ? area->blocks : area->blocks + div_up(area->blocks, 2);
    area->table_entries = div_up(area->table_entries, entries_per_cluster) * entries_per_cluster;
    area->table_clusters = area->table_entries * 8 / q->cluster_size;
    /* QEMU's implementation limit of 8 MB for the refcount table
     * (qcow2.txt "Host cluster management", the note on it). */
    if (area->table_entries * 8 > QCOW_MAX_REFTABLE_SIZE)
        return img_fail(img, IMG_ENOSPC, "Reference count table of '%s' cannot grow further",
                        img->name);
    return 0;
}

/*
 * Place the new structure: one new block for every table entry from the
 * area on that has none yet, packed from `start`, then the table.  Entries
 * that already have a block keep it, so only the missing ones take space.
 * The table goes after the blocks, at the far end: QEMU places it so, and
 * matching it keeps the resulting file the same as qemu-img's.
 */
static void place_area(const uint64_t *new_table, struct rc_area *area, uint32_t cluster_size)
{
    uint64_t missing = 0;
    for (uint64_t i = area->first_index; i < area->blocks; i++)
        if (!(new_table[i] & RT_BLOCK_OFFSET))
            missing++;
    area->table_off = area->start + missing * cluster_size;
    area->end = area->table_off + area->table_clusters * cluster_size;
}

/*
 * Write the blocks of the area, new ones zeroed and hooked into the new
 * table (in memory only: the table itself is written later), existing ones
 * as they are; in each, refcount 1 for every cluster of the new structure
 * it covers, [start, end).  `scratch` is a cluster for a new block.
 *
 * Nothing on disk points at a new block yet, and the old table still
 * counts every cluster that was in use: a crash here leaves the old
 * structure in force and the area's clusters as leaks.  An existing block
 * gets 1 only for clusters of the area, which were free until now.
 */
static int write_area_blocks(struct img *img, uint64_t *new_table, const struct rc_area *area,
                             uint8_t *scratch)
{
    struct qcow2 *q = img->q;
    uint64_t next_block_off = area->start;
    int r = 0;
    for (uint64_t i = area->first_index; i < area->blocks && r == 0; i++) {
        /* The first byte this block's range covers, and the part of
         * [start, end) that falls in that range, as entry indexes: the
         * block that covers `start` counts from there, later blocks from
         * their first entry, and the last one up to `end`. */
        uint64_t range_start = i * q->rb_entries * q->cluster_size, first, stop, touched_off;
        size_t touched_len;
        uint8_t *block;
        bool fresh = !(new_table[i] & RT_BLOCK_OFFSET);
        if (fresh) {
            memset(scratch, 0, q->cluster_size);
            block = scratch;
            new_table[i] = next_block_off;
            next_block_off += q->cluster_size;
        } else if ((r = qc_rb_load(img, new_table[i] & RT_BLOCK_OFFSET, &block)) < 0) {
            break;
        }
        if (range_start < area->end) {
            first = range_start < area->start ? (area->start - range_start) >> q->cluster_bits : 0;
            stop = (area->end - range_start) >> q->cluster_bits;
            if (stop > q->rb_entries)
                stop = q->rb_entries;
            for (; first < stop; first++)
                rb_put(q, block, first, 1, &touched_off, &touched_len);
        }
        /* An existing block was changed in the cache before the write: it
         * is dropped, so a failed write leaves no cached copy that
         * disagrees with the file (the data stays valid for the write). */
        qc_cache_drop(img, q->rbc, new_table[i] & RT_BLOCK_OFFSET);
        r = io_write(img, new_table[i] & RT_BLOCK_OFFSET, block, q->cluster_size);
    }
    return r;
}

/*
 * Write the new table (big-endian, qcow2.txt "General"), make it durable,
 * then switch the header to it: refcount_table_offset and
 * refcount_table_clusters are adjacent (qcow2.txt "Header", bytes 48-59),
 * so one 12-byte write moves both, and no reader ever sees the new offset
 * with the old size or the reverse.  The flush orders the table and blocks
 * before the switch on disk, not just in the page cache (skipped with
 * IMG_OPEN_NO_FLUSH, which gives up power-loss safety on purpose).
 */
static int switch_table(struct img *img, const uint64_t *new_table, const struct rc_area *area,
                        uint8_t *buf)
{
    uint8_t hdr_fields[12];
    int r;
    for (uint64_t i = 0; i < area->table_entries; i++)
        put64(buf + i * 8, new_table[i]);
    r = io_write(img, area->table_off, buf, (size_t)area->table_entries * 8);
    if (r == 0 && img->io.flush && !(img->flags & IMG_OPEN_NO_FLUSH))
        img->io.flush(img->io.ctx);
    if (r == 0) {
        put64(hdr_fields, area->table_off);
        put32(hdr_fields + 8, (uint32_t)area->table_clusters);
        r = io_write(img, QH_RT_OFFSET, hdr_fields, 12);
    }
    return r;
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
 *
 * Two callers: ensure_block(), when the table has no entry left for a new
 * block (`exact` false: room to grow is added, so this stays rare), and
 * falloc/full preallocation (qcow2_resize.c), which asks for room for all
 * its data clusters up front (`exact` true, as QEMU's truncate asks).
 */
int qc_refcount_area(struct img *img, uint64_t start, uint64_t additional, bool exact,
                     uint64_t new_idx, uint64_t new_off, uint64_t *end_out)
{
    struct qcow2 *q = img->q;
    uint64_t old_off = q->h.refcount_table_offset, old_clusters = q->h.refcount_table_clusters;
    struct rc_area area;
    uint64_t *new_table;
    uint8_t *buf;
    int r;

    if ((r = size_area(img, start, additional, exact, &area)) < 0)
        return r;
    new_table = img_alloc(img->env, (size_t)area.table_entries * 8);
    /* One buffer serves as a new block and, later, as the table's bytes. */
    buf = img_alloc(img->env, (size_t)area.table_entries * 8 > q->cluster_size
                                  ? (size_t)area.table_entries * 8
                                  : q->cluster_size);
    if (!new_table || !buf) {
        img_free(img->env, new_table);
        img_free(img->env, buf);
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    }
    /* The new table starts as a copy of the old one (the rest is zero:
     * no block yet), plus the block the caller wants hooked in. */
    memcpy(new_table, q->rt,
           (size_t)(q->rt_entries < area.table_entries ? q->rt_entries : area.table_entries) * 8);
    if (new_off)
        new_table[new_idx] = new_off;
    place_area(new_table, &area, q->cluster_size);
    r = write_area_blocks(img, new_table, &area, buf);
    if (r == 0)
        r = switch_table(img, new_table, &area, buf);
    img_free(img->env, buf);
    if (r < 0) {
        img_free(img->env, new_table);
        return r;
    }
    /* The new table is in force: the in-memory state follows the file. */
    img_free(img->env, q->rt);
    q->rt = new_table;
    q->rt_entries = area.table_entries;
    q->h.refcount_table_offset = area.table_off;
    q->h.refcount_table_clusters = (uint32_t)area.table_clusters;
    if ((area.end >> q->cluster_bits) > q->alloc_end)
        q->alloc_end = area.end >> q->cluster_bits;
    /* Release the old table: nothing points at it any more.  Its
     * clusters were counted by the blocks, which the new table keeps. */
    for (uint64_t c = 0; c < old_clusters && r == 0; c++)
        r = qc_rc_update(img, (old_off >> q->cluster_bits) + c, -1);
    if (end_out)
        *end_out = area.end;
    return r;
}

/*
 * Make sure the refcount block for table index `table_index` exists (QEMU's
 * alloc_refcount_block).  The new block goes to the first free cluster; if
 * that cluster lies in the block's own range the block describes itself,
 * otherwise its refcount is kept by the block of its own range.  When the
 * table has no entry for `table_index`, a new table (and blocks for it) is
 * built right after the last range in use.
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
        /* The first free cluster from the hint on, a hole inside the file
         * as readily as the end of it: the same cluster QEMU picks, which
         * keeps the two tools' files identical. */
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
             * it) after every range in use, with this block hooked in.
             * "In use" covers both the range the block is for and the one
             * it lies in, whichever comes later: the new structure starts
             * at the first range past both, so it cannot land on a
             * cluster an existing block already counts as used. */
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
    /* A count of 0 where no block exists still creates the block; for a
     * cluster that was counted before, the block exists already. */
    r = ensure_block(img, table_index);
    if (r < 0)
        return r;
    r = rb_store(img, table_index, cluster, value);
    if (r < 0)
        return r;
    /* The hints move only after the count is on disk: a failed write
     * leaves them as they were. */
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
 * a compressed stream may span two clusters, a table several.  Stops at
 * the first error: the clusters before it keep their new counts, which can
 * only be leaks when delta is positive (the caller has not pointed at them
 * yet) and leaks too when it is negative (the clusters after the error keep
 * a count nothing needs any more). */
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

static int set_run_one(struct img *img, uint64_t first, uint64_t count);

/* Is there no refcount block yet for table index `rt_index` (past the
 * table, or an entry of 0)? */
static bool block_missing(const struct qcow2 *q, uint64_t rt_index)
{
    return rt_index >= q->rt_entries || !(q->rt[rt_index] & RT_BLOCK_OFFSET);
}

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
    uint64_t first;
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
        r = find_free(img, q->free_hint, n, &first);
        if (r < 0)
            return r;
        q->free_hint = first + n;
        for (uint64_t i = 0; i < n && !moved; i++) {
            uint64_t rt_index = (first + i) / q->rb_entries;
            if (block_missing(q, rt_index)) {
                r = ensure_block(img, rt_index);
                if (r < 0)
                    return r;
                /* QEMU would have raised the refcounts of the run's first
                 * i clusters before finding the block missing, and lowered
                 * them again, which moves its index back to the run. */
                if (i > 0 && first < q->free_hint)
                    q->free_hint = first;
                moved = true;
            }
        }
        /* Every block of the run exists: the run is final.  Otherwise the
         * new block may have taken a cluster of it, so search again. */
        if (!moved)
            break;
    }
    /* The run's counts are written before the offset is returned: the
     * caller's first pointer to it comes after this. */
    r = set_run_one(img, first, n);
    if (r < 0)
        return r;
    *off = first << q->cluster_bits;
    return 0;
}

/*
 * Refcount 1 for a whole run whose blocks exist and whose entries are 0:
 * one write per refcount block touched, covering just the bytes of the
 * run's entries (they are contiguous within a block).
 */
static int set_run_one(struct img *img, uint64_t first, uint64_t count)
{
    struct qcow2 *q = img->q;
    int r;
    for (uint64_t i = 0; i < count;) {
        uint64_t rt_index = (first + i) / q->rb_entries, dirty_lo = UINT64_MAX, dirty_hi = 0;
        uint64_t touched_off;
        size_t touched_len;
        uint8_t *block;
        r = qc_rb_load(img, q->rt[rt_index] & RT_BLOCK_OFFSET, &block);
        if (r < 0)
            return r;
        /* Every entry of the run that this block holds, widening the
         * byte range to write as it goes. */
        for (; i < count && (first + i) / q->rb_entries == rt_index; i++) {
            rb_put(q, block, (first + i) % q->rb_entries, 1, &touched_off, &touched_len);
            dirty_lo = touched_off < dirty_lo ? touched_off : dirty_lo;
            dirty_hi = touched_off + touched_len > dirty_hi ? touched_off + touched_len : dirty_hi;
        }
        r = io_write(img, (q->rt[rt_index] & RT_BLOCK_OFFSET) + dirty_lo, block + dirty_lo,
                     (size_t)(dirty_hi - dirty_lo));
        if (r < 0)
            return r;
    }
    if (first + count > q->alloc_end)
        q->alloc_end = first + count;
    return 0;
}

/* Claim the n clusters at c, known to be free (QEMU's
 * qcow2_alloc_clusters_at, after qcow2_refcount_area made room). */
int qc_alloc_clusters_at(struct img *img, uint64_t c, uint64_t n)
{
    struct qcow2 *q = img->q;
    uint64_t rc;
    int r;
    /* First the blocks: every missing one is created, and each block is
     * read once (its first entry of the run), so a block that cannot be
     * read fails the call before a later block is created. */
    for (uint64_t i = 0; i < n; i++) {
        uint64_t rt_index = (c + i) / q->rb_entries;
        if (block_missing(q, rt_index) && (r = ensure_block(img, rt_index)) < 0)
            return r;
        if ((i == 0 || (c + i) % q->rb_entries == 0) && (r = qc_rc_get(img, c + i, &rc)) < 0)
            return r;
    }
    /* Then the promise the caller made: every cluster of the run is free.
     * A cluster in use would get a second owner, so it is refused as a
     * corruption instead (a block created above may also have taken one). */
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
    /* pack_off: where the data will go; room: free bytes from there to the
     * end of the cluster(s) available for it. */
    uint64_t pack_off = q->comp_next, rc, room, new_cluster;
    int r;
    /* Go on packing where the last compressed cluster ended, unless that
     * cluster has been freed since (refcount 0: it may be anything now)
     * or cannot take one more reference: with 1-bit refcounts a cluster
     * holds at most one compressed cluster, with 2-bit ones three. */
    if (pack_off) {
        r = qc_rc_get(img, pack_off >> q->cluster_bits, &rc);
        if (r < 0)
            return r;
        if (rc == 0 || rc >= q->rc_max)
            pack_off = 0;
    }
    room = q->cluster_size - (pack_off & (q->cluster_size - 1));
    for (;;) {
        bool moved = false;
        if (!pack_off || room < size) {
            /* Not enough room: take a free cluster.  If it directly
             * follows the partly used one, the data may straddle both
             * (qcow2.txt "Compressed Clusters Descriptor": "Some of these
             * sectors may reside in the next contiguous host cluster");
             * otherwise the data starts afresh at the new cluster. */
            r = find_free(img, q->free_hint, 1, &new_cluster);
            if (r < 0)
                return r;
            q->free_hint = new_cluster + 1;
            new_cluster <<= q->cluster_bits;
            if (!pack_off || div_up(pack_off, q->cluster_size) * q->cluster_size != new_cluster) {
                pack_off = new_cluster;
                room = q->cluster_size;
            } else {
                room += q->cluster_size;
            }
        }
        /* Missing refcount blocks are created first; then start over. */
        for (uint64_t c = pack_off >> q->cluster_bits;
             c <= (pack_off + size - 1) >> q->cluster_bits; c++) {
            if (block_missing(q, c / q->rb_entries)) {
                r = ensure_block(img, c / q->rb_entries);
                if (r < 0)
                    return r;
                moved = true;
            }
        }
        if (!moved)
            break;
        /* A block created above may sit right where the data was to go:
         * the search starts again from a fresh cluster. */
        pack_off = 0;
    }
    /* One reference per host cluster the data touches, before the caller
     * writes the data and the L2 entry that points at it. */
    r = qc_rc_update_range(img, pack_off, size, 1);
    if (r < 0)
        return r;
    *off = pack_off;
    /* The next compressed cluster goes on right after this one, unless
     * this one ended exactly on a cluster boundary. */
    q->comp_next = (pack_off + size) & (q->cluster_size - 1) ? pack_off + size : 0;
    return 0;
}

/*
 * Release what one L2 entry holds.  A compressed cluster holds one
 * reference on every host cluster its sectors touch (its offset rounded
 * down to the 512-byte sector, qcow2.txt "Compressed Clusters
 * Descriptor"); a standard one, its host cluster; an unallocated or plain
 * zero entry, nothing.
 */
int qc_free_l2_entry_clusters(struct img *img, uint64_t entry)
{
    struct qcow2 *q = img->q;
    /* Clusters in an external data file are not refcounted (qcow2.txt
     * "Header", incompatible bit 2): nothing to release. */
    if (q->data_file)
        return 0;
    if (entry & QE_COMPRESSED)
        return qc_rc_update_range(img, qc_comp_off(q, entry) & ~511ull,
                                  qc_comp_len(q, entry) + (qc_comp_off(q, entry) & 511), -1);
    if (entry & QE_OFFSET)
        return qc_rc_update(img, (entry & QE_OFFSET) >> q->cluster_bits, -1);
    return 0;
}
