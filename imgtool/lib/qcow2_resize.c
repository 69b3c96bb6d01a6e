/*
 * qcow2_resize.c: changing the virtual size (qemu-img resize, and the last
 * step of create) and preallocation.
 *
 * Growing may need a larger L1 table (qcow2.txt "Header": l1_size must cover
 * the virtual size).  The new table is written to fresh clusters first;
 * l1_size and l1_table_offset are adjacent header fields (bytes 36..47), so
 * one 12-byte write switches to it; the old table is freed afterwards.
 *
 * Every step keeps the rule the rest of the library follows: whatever a
 * crash interrupts, the image on disk is one QEMU opens, at worst with
 * leaked clusters (a refcount with no user, which check -r leaks gives
 * back).  So a structure is written whole before anything points at it, a
 * pointer is switched by one small write, and what the old pointer held is
 * released only after the switch.  The new virtual size itself is written
 * after the tables that can address it and before any data is mapped past
 * the old end: see qc_resize().
 *
 * Shrinking runs the other way round: the clusters past the new end are
 * unmapped first, the size written, and only then are refcount blocks that
 * count nothing and the tail of the file given back.
 */
#include "internal.h"

/*
 * Replace the active L1 table by one of `new_entries` entries, the old
 * entries first and zeros after them (qcow2.txt "L1 table entry": an entry
 * of 0 means the L2 table and all clusters it would describe are
 * unallocated, so the new part of the disk starts out unallocated).
 *
 * The table is never extended in place: it must stay contiguous, and the
 * clusters right after it usually hold other data.  Moving it whole to new
 * clusters also means the old table stays valid and in use until the one
 * header write that switches to the new one.
 */
int qc_grow_l1(struct img *img, uint64_t new_entries)
{
    struct qcow2 *q = img->q;
    uint64_t old_off = q->h.l1_table_offset, old_entries = q->h.l1_size, new_off, bytes;
    uint64_t *new_l1;
    uint8_t *table_buf, hdr_fields[12];
    int r;
    /* QEMU's implementation limit of 32 MB for an L1 table (qcow2.txt
     * "Header", the note under size), with QEMU's message for it. */
    if ((new_entries * 8) > QCOW_MAX_L1_SIZE)
        return img_fail(img, IMG_EINVAL, "Failed to grow the L1 table: File too large");
    /* Allocation is in whole clusters; the buffer covers them all. */
    bytes = div_up(new_entries * 8, q->cluster_size) * q->cluster_size;
    new_l1 = img_alloc(img->env, (size_t)new_entries * 8);
    table_buf = img_alloc(img->env, (size_t)bytes);
    if (!new_l1 || !table_buf) {
        img_free(img->env, new_l1);
        img_free(img->env, table_buf);
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    }
    /* The in-memory copy (host byte order) and the big-endian image of it
     * for the file (qcow2.txt "General"). */
    memcpy(new_l1, q->l1, (size_t)old_entries * 8);
    for (uint64_t i = 0; i < new_entries; i++)
        put64(table_buf + i * 8, new_l1[i]);
    /* The table needs contiguous clusters (qcow2.txt "Cluster mapping":
     * the L1 table "must be contiguous in the image file"); they get
     * their refcounts here, before anything points at them. */
    r = qc_alloc_clusters(img, bytes / q->cluster_size, &new_off);
    /* Only the entries are written (QEMU does the same, so a new image's
     * file ends right after its L1 table); the rest of the last cluster is
     * never read. */
    if (r == 0)
        r = io_write(img, new_off, table_buf, (size_t)new_entries * 8);
    /* The switch: l1_size (bytes 36-39) and l1_table_offset (40-47) in one
     * write, so no reader ever sees the new size with the old table (it
     * would read L2 offsets past the old table's end) or the reverse. */
    if (r == 0) {
        put32(hdr_fields, (uint32_t)new_entries);
        put64(hdr_fields + 4, new_off);
        r = io_write(img, QH_L1_SIZE, hdr_fields, 12);
    }
    img_free(img->env, table_buf);
    if (r < 0) {
        img_free(img->env, new_l1);
        return r;
    }
    img_free(img->env, q->l1);
    q->l1 = new_l1;
    q->h.l1_size = (uint32_t)new_entries;
    q->h.l1_table_offset = new_off;
    /* Nothing points at the old table any more: its clusters go last. */
    if (old_entries)
        r = qc_rc_update_range(img, old_off, old_entries * 8, -1);
    return r;
}

/*
 * Growing from a size inside a cluster over a backing file: the head of
 * that cluster, [cluster start, from), reads from the backing file, the
 * rest is new and must read as zeros.  Allocating the cluster as zeros
 * would lose the head, so it is written whole, head copied up from the
 * backing file (QEMU's copy-on-write of the preallocated cluster).  With
 * extended L2 the subclusters stay unallocated instead (metadata
 * preallocation allocates no subcluster over a backing file), so nothing
 * needs copying.
 */
int qc_cow_head(struct img *img, uint64_t from, uint64_t to)
{
    struct qcow2 *q = img->q;
    uint64_t cluster_start = from & ~(uint64_t)(q->cluster_size - 1);
    uint64_t cluster_end =
        cluster_start + q->cluster_size < to ? cluster_start + q->cluster_size : to;
    uint8_t *buf;
    int r;
    if (from == cluster_start || !img->backing || q->ext_l2)
        return 0;
    buf = img_alloc(img->env, q->cluster_size);
    if (!buf)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    /* The head as the guest reads it now (through the backing file), then
     * zeros up to the end of the cluster or of the new disk. */
    memset(buf, 0, q->cluster_size);
    r = qc_read(img, cluster_start, buf, (size_t)(from - cluster_start));
    if (r == 0)
        r = qc_write(img, cluster_start, buf, (size_t)(cluster_end - cluster_start));
    img_free(img->env, buf);
    return r;
}

/*
 * How many entries from `l2_index` on are unallocated (no host cluster, not
 * compressed), at most up to `max_entries`?  The first is known to be.
 * Such a run gets one contiguous run of host clusters, so that guest
 * clusters that follow each other also follow each other in the file.
 */
static uint64_t unallocated_run(struct img *img, const uint8_t *l2_table, uint64_t l2_index,
                                uint64_t max_entries)
{
    uint64_t run, entry, sc_bitmap;
    for (run = 1; run < max_entries; run++) {
        qc_l2_entry(img, l2_table, l2_index + run, &entry, &sc_bitmap);
        if (entry & (QE_OFFSET | QE_COMPRESSED))
            break;
    }
    return run;
}

/*
 * Give the `count` unallocated entries from `l2_index` on one contiguous
 * run of new host clusters, and return the end of that run in *run_end.
 * The refcounts come first (qc_alloc_clusters), then the entries: a crash
 * in between leaks clusters but never leaves an entry pointing at a
 * cluster the allocator still thinks free.
 */
static int map_run(struct img *img, uint64_t l2_off, uint64_t l2_index, uint64_t count,
                   uint64_t sc_bitmap, uint64_t *run_end)
{
    struct qcow2 *q = img->q;
    uint64_t host_off;
    int r = qc_alloc_clusters(img, count, &host_off);
    /* COPIED: the refcount is exactly one (qcow2.txt "L2 table entry",
     * bit 63), so later writes go in place, without copy-on-write. */
    for (uint64_t i = 0; i < count && r == 0; i++)
        r = qc_l2_set(img, l2_off, l2_index + i, (host_off + (i << q->cluster_bits)) | QE_COPIED,
                      sc_bitmap);
    if (r == 0)
        *run_end = host_off + (count << q->cluster_bits);
    return r;
}

/*
 * preallocation=metadata over [from, to): every unallocated cluster gets a
 * host cluster and an L2 entry, and no data is written.  As QEMU's
 * preallocate_co does, each L2 table is made ready first, then its
 * unallocated entries get one contiguous run of host clusters, so layouts
 * match qemu-img's.
 */
static int preallocate_metadata(struct img *img, uint64_t from, uint64_t to)
{
    struct qcow2 *q = img->q;
    uint64_t file_end = 0, guest_cluster = from >> q->cluster_bits;
    uint64_t end_cluster = div_up(to, q->cluster_size);
    /* The cluster the old size ends in first: it is partly old disk, so
     * it needs its head copied up before it can get a host cluster. */
    int r = qc_cow_head(img, from, to);
    if (r < 0)
        return r;
    /* No data is written: a new cluster reads what its host cluster
     * holds, for clusters past the old end of the file the zeros of the
     * sparse tail (see the truncate at the end).  With extended L2,
     * metadata preallocation reserves the clusters but leaves their
     * subclusters unallocated (qcow2.txt "Subcluster Allocation Bitmap",
     * bits 0-31 clear; QEMU's "unallocated_alloc"), backing file or not,
     * as qemu-img 7.2 writes them: they read as zeros, or from the backing
     * file, and map reports them as zeros that are not data.  Without
     * extended L2 the bitmap is not stored at all. */
    uint64_t new_sc_bitmap = 0;
    while (guest_cluster < end_cluster && r == 0) {
        uint64_t l1_index = guest_cluster >> q->l2_bits;
        uint64_t l2_index = guest_cluster & (q->l2_entries - 1), l2_off, entry, sc_bitmap, run;
        uint64_t run_end = 0, max_run;
        uint8_t *l2_table;
        /* The table becomes ours first (allocated, or copied if shared),
         * then it is read from the cache to find the unallocated run. */
        r = qc_l2_load_for_write(img, l1_index, &l2_off);
        if (r == 0)
            r = qc_l2_load(img, l2_off, &l2_table);
        if (r < 0)
            break;
        qc_l2_entry(img, l2_table, l2_index, &entry, &sc_bitmap);
        /* Clusters already mapped (data or compressed) stay as they are. */
        if (entry & (QE_OFFSET | QE_COMPRESSED)) {
            guest_cluster++;
            continue;
        }
        /* The run ends at the end of this L2 table or of the range. */
        max_run = q->l2_entries - l2_index;
        if (max_run > end_cluster - guest_cluster)
            max_run = end_cluster - guest_cluster;
        run = unallocated_run(img, l2_table, l2_index, max_run);
        r = map_run(img, l2_off, l2_index, run, new_sc_bitmap, &run_end);
        /* With extended L2 the disk's last cluster is mapped only up to
         * the subcluster the disk ends in, so the file need not reach
         * past it (qemu-img 7.2 ends the file there). */
        if (r == 0 && q->ext_l2 && guest_cluster + run == end_cluster && (to % q->cluster_size))
            run_end -= q->cluster_size - div_up(to % q->cluster_size, q->sc_size) * q->sc_size;
        if (r == 0 && run_end > file_end)
            file_end = run_end;
        guest_cluster += run;
    }
    /* Metadata-only preallocation leaves the data clusters as a sparse
     * tail; extend the file so every referenced cluster lies inside it. */
    if (r == 0 && file_end && img->io.truncate) {
        uint64_t file_size;
        if (io_size(img, &file_size) == 0 && file_size < file_end)
            r = img->io.truncate(img->io.ctx, file_end) < 0 ? -IMG_EIO : 0;
    }
    return r;
}

/*
 * The last host cluster with a non-zero refcount among the first
 * `file_clusters` clusters of the file: *found says whether there is one.
 * Clusters past the end of the file are never in use.
 */
static int last_used_cluster(struct img *img, uint64_t file_clusters, uint64_t *last, bool *found)
{
    uint64_t refcount;
    int r;
    *found = false;
    for (uint64_t cluster = file_clusters; cluster-- > 0;) {
        if ((r = qc_rc_get(img, cluster, &refcount)) < 0)
            return r;
        if (refcount) {
            *last = cluster;
            *found = true;
            break;
        }
    }
    return 0;
}

/*
 * Put zeros into (or, with falloc and an allocate() callback, just reserve)
 * the `data_clusters` clusters from host offset `area_off` on.  falloc asks
 * the file system for the blocks without writing them (they read as
 * zeros); full writes the zeros, so every block is really on disk and a
 * later guest write cannot fail for lack of space.  The zeros are written
 * in 64 KiB pieces from one static buffer, so a large preallocation needs
 * no large allocation.
 */
static int fill_data_area(struct img *img, uint64_t area_off, uint64_t data_clusters, int mode)
{
    struct qcow2 *q = img->q;
    uint64_t area_len = data_clusters << q->cluster_bits;
    int r;
    if (mode == IMG_PREALLOC_FALLOC && img->io.allocate) {
        if (img->io.allocate(img->io.ctx, area_off, area_len) < 0)
            return img_fail(img, IMG_EIO, "Could not preallocate space for '%s'", img->name);
        return 0;
    }
    static const uint8_t zeros[65536];
    for (uint64_t done = 0; done < area_len; done += sizeof(zeros)) {
        uint64_t left = area_len - done;
        if ((r = io_write(img, area_off + done, zeros,
                          left < sizeof(zeros) ? (size_t)left : sizeof(zeros))) < 0)
            return r;
    }
    return 0;
}

/*
 * Point the L2 entries of guest clusters [first_guest, first_guest +
 * data_clusters) at the data area, one L2 table at a time.  Each table's
 * part is written with one write straight to the file instead of an entry
 * at a time through the cache (a large preallocation touches millions of
 * entries), and the cached copy of the table, now stale, is dropped.
 */
static int map_data_area(struct img *img, uint64_t first_guest, uint64_t data_clusters,
                         uint64_t area_off)
{
    struct qcow2 *q = img->q;
    int r;
    for (uint64_t done = 0; done < data_clusters;) {
        uint64_t guest_cluster = first_guest + done, l2_off;
        uint64_t l2_index = guest_cluster & (q->l2_entries - 1);
        uint64_t count = q->l2_entries - l2_index;
        uint8_t *entries;
        if (count > data_clusters - done)
            count = data_clusters - done;
        /* The table is allocated (and hooked into L1) or made ours here:
         * an empty table hooked in is harmless if a crash stops us. */
        if ((r = qc_l2_load_for_write(img, guest_cluster >> q->l2_bits, &l2_off)) < 0)
            return r;
        entries = img_alloc(img->env, (size_t)(count * (uint64_t)q->l2_esize));
        if (!entries)
            return img_fail(img, IMG_ENOMEM, "Out of memory");
        for (uint64_t i = 0; i < count; i++) {
            put64(entries + i * (uint64_t)q->l2_esize,
                  (area_off + ((done + i) << q->cluster_bits)) | QE_COPIED);
            /* The data area holds zeros: every subcluster is allocated,
             * backing file or not (qcow2.txt "Subcluster Allocation
             * Bitmap").  An extended entry is 16 bytes, the descriptor
             * then the bitmap (qcow2.txt "Extended L2 Entries"). */
            if (q->ext_l2)
                put64(entries + i * 16 + 8, 0xffffffffull);
        }
        r = io_write(img, l2_off + l2_index * (uint64_t)q->l2_esize, entries,
                     (size_t)(count * (uint64_t)q->l2_esize));
        img_free(img->env, entries);
        if (r < 0)
            return r;
        /* The cached copy of the table, if any, misses these entries. */
        qc_cache_drop(img, q->l2c, l2_off);
        done += count;
    }
    return 0;
}

/*
 * preallocation=falloc/full as QEMU 7.2 lays it out (qcow2_co_truncate):
 * a fresh refcount structure right after the last cluster in use, sized
 * for all new data clusters and L2 tables; then the data clusters as one
 * contiguous run after it (zeroed or fallocated); then the L2 entries, with
 * L2 tables from the normal allocator.  Order: refcounts, data, L2, L1.
 * That is the crash order of the whole library: the refcounts exist before
 * the clusters they count are used, and the data is in place before an
 * entry makes it visible to the guest.
 */
static int preallocate_run(struct img *img, uint64_t from, uint64_t to, int mode,
                           const uint8_t *head, uint32_t head_len)
{
    struct qcow2 *q = img->q;
    uint64_t file_size, file_clusters, last = 0, area_start, data_clusters, l2_tables, area_off;
    uint64_t first_guest = from >> q->cluster_bits;
    bool found;
    int r;
    if (io_size(img, &file_size) < 0)
        return -IMG_EIO;
    file_clusters = div_up(file_size, q->cluster_size);
    if ((r = last_used_cluster(img, file_clusters, &last, &found)) < 0)
        return r;
    /* The new refcount structure starts right after the last cluster in
     * use (free clusters at the end of the file are reused, as in QEMU). */
    area_start = found ? (last + 1) << q->cluster_bits : file_clusters * q->cluster_size;
    data_clusters = div_up(to, q->cluster_size) - first_guest;
    /* One L2 table per l2_entries data clusters, plus one because the run
     * need not start at a table boundary and may touch one table more. */
    l2_tables = div_up(data_clusters, q->l2_entries) + 1;
    /* `exact`: the refcount table is sized for this growth only, without
     * the margin of half a table that qc_refcount_area() adds when it
     * grows the table for ordinary allocations; QEMU sizes it so here. */
    r = qc_refcount_area(img, area_start, data_clusters + l2_tables, true, 0, 0, &area_off);
    if (r < 0)
        return r;
    /* The data clusters follow the new refcount table directly; their
     * refcounts are set before any of them is written or mapped. */
    r = qc_alloc_clusters_at(img, area_off >> q->cluster_bits, data_clusters);
    if (r < 0)
        return r;
    if ((r = fill_data_area(img, area_off, data_clusters, mode)) < 0)
        return r;
    /* The part of the first cluster below the old end, copied up before
     * any entry points at the new cluster. */
    if (head_len && (r = io_write(img, area_off, head, head_len)) < 0)
        return r;
    return map_data_area(img, first_guest, data_clusters, area_off);
}

/*
 * falloc/full growth.  When the old size ends inside a cluster, that
 * cluster is replaced too, as QEMU does: a new host cluster in the
 * preallocated run gets the old head (read through the current mapping,
 * backing file included) and zeros or preallocated space after it, so
 * writes to the rest of the cluster no longer grow the file; the old host
 * cluster is released once no entry points at it.
 */
static int preallocate_data(struct img *img, uint64_t from, uint64_t to, int mode)
{
    struct qcow2 *q = img->q;
    uint32_t head_len = (uint32_t)(from & (q->cluster_size - 1));
    uint64_t guest_cluster = from >> q->cluster_bits;
    uint64_t l1_entry = q->l1[guest_cluster >> q->l2_bits], old_entry = 0, sc_bitmap;
    uint8_t *head, *l2_table;
    int r;
    /* The old size ends on a cluster boundary: no cluster is shared
     * between the old and the new part, nothing to copy up. */
    if (!head_len)
        return preallocate_run(img, from, to, mode, NULL, 0);
    head = img_alloc(img->env, head_len);
    if (!head)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    /* The head's bytes, and the entry that maps them now (0 when the
     * cluster has no L2 table: nothing to release then). */
    r = qc_read(img, from - head_len, head, head_len);
    if (r == 0 && (l1_entry & QE_OFFSET) &&
        (r = qc_l2_load(img, l1_entry & QE_OFFSET, &l2_table)) == 0)
        qc_l2_entry(img, l2_table, guest_cluster & (q->l2_entries - 1), &old_entry, &sc_bitmap);
    if (r == 0)
        r = preallocate_run(img, from, to, mode, head, head_len);
    img_free(img->env, head);
    /* The old host cluster (or compressed data) loses the reference the
     * replaced entry held. */
    if (r == 0)
        r = qc_free_l2_entry_clusters(img, old_entry);
    return r;
}

/*
 * Unmap a whole L2 table: unhook it from the L1 table, then release what
 * it held, then the table itself.  Unhooking first means a crash leaves
 * only leaks; releasing first could leave a reachable entry pointing at a
 * cluster the allocator hands out again.
 */
static int drop_l2_table(struct img *img, uint64_t l1_index)
{
    struct qcow2 *q = img->q;
    uint64_t l2_off = q->l1[l1_index] & QE_OFFSET, entry, sc_bitmap;
    uint8_t *l2_table, zero_entry[8];
    int r;
    put64(zero_entry, 0);
    r = io_write(img, q->h.l1_table_offset + l1_index * 8, zero_entry, 8);
    if (r < 0)
        return r;
    q->l1[l1_index] = 0;
    for (uint64_t l2_index = 0; l2_index < q->l2_entries; l2_index++) {
        /* Reloaded for each entry: the table lives in the L2 cache, and a
         * pointer into the cache is not kept across calls that change
         * metadata (when nothing else was loaded, this is a cache hit). */
        r = qc_l2_load(img, l2_off, &l2_table);
        if (r < 0)
            return r;
        qc_l2_entry(img, l2_table, l2_index, &entry, &sc_bitmap);
        r = qc_free_l2_entry_clusters(img, entry);
        if (r < 0)
            return r;
    }
    return qc_rc_update(img, l2_off >> q->cluster_bits, -1);
}

/*
 * Drop every cluster at or past guest offset `from` (shrinking; also the
 * VM state area, past the disk, once a snapshot holds it).  An L2
 * table that lies wholly past `from` goes at once (drop_l2_table()); the
 * one table that also maps clusters below `from` loses just its entries
 * from there on, each cleared before its clusters are released.
 */
int qc_discard_from(struct img *img, uint64_t from)
{
    struct qcow2 *q = img->q;
    uint64_t first_dropped = div_up(from, q->cluster_size);
    for (uint64_t l1_index = first_dropped >> q->l2_bits; l1_index < q->h.l1_size; l1_index++) {
        uint64_t l2_off, entry, sc_bitmap;
        uint8_t *l2_table;
        int r;
        if (!(q->l1[l1_index] & QE_OFFSET))
            continue;
        /* Only the first table can keep entries (those below `from`). */
        uint64_t first_index =
            l1_index == (first_dropped >> q->l2_bits) ? first_dropped & (q->l2_entries - 1) : 0;
        if (first_index == 0) {
            if ((r = drop_l2_table(img, l1_index)) < 0)
                return r;
            continue;
        }
        /* A table that keeps some entries is changed in place, so it must
         * be ours alone first (COPIED, copied if shared). */
        r = qc_l2_load_for_write(img, l1_index, &l2_off);
        for (uint64_t l2_index = first_index; r == 0 && l2_index < q->l2_entries; l2_index++) {
            r = qc_l2_load(img, l2_off, &l2_table);
            if (r < 0)
                return r;
            qc_l2_entry(img, l2_table, l2_index, &entry, &sc_bitmap);
            /* Nothing mapped and no subcluster flags: nothing to write. */
            if (!entry && !sc_bitmap)
                continue;
            /* Entry first, then its clusters: the same crash order. */
            r = qc_l2_set(img, l2_off, l2_index, 0, 0);
            if (r == 0)
                r = qc_free_l2_entry_clusters(img, entry);
        }
        if (r < 0)
            return r;
    }
    return 0;
}

/*
 * Growing over a longer backing file must not make the backing file's
 * bytes appear in the new area (it was past the end of the disk, so it
 * read as zeros).  As QEMU does (BDRV_REQ_ZERO_WRITE in bdrv_co_truncate,
 * then qcow2_co_truncate), after any preallocation the new area becomes
 * zero clusters from the first subcluster boundary on, keeping preallocated
 * host clusters (qcow2.txt "Extended L2 Entries": a subcluster can be "reads
 * as zeros" while its cluster stays allocated), with real zeros written
 * for the unaligned head.  falloc and full preallocation already made the
 * area allocated zeros, so nothing is left to do for them.
 */
static int zero_new_area(struct img *img, uint64_t old, uint64_t new_size, int prealloc)
{
    struct qcow2 *q = img->q;
    /* sc_size is the cluster size without extended L2 entries. */
    uint64_t aligned_start = div_up(old, q->sc_size) * q->sc_size;
    int r = 0;
    if (!img->backing || img->backing->size <= old || prealloc == IMG_PREALLOC_FALLOC ||
        prealloc == IMG_PREALLOC_FULL)
        return 0;
    /* The whole subclusters become zero clusters or zero subclusters,
     * metadata only; the head [old, aligned_start), less than a
     * subcluster, gets real zeros written, since no flag can cover part of
     * a subcluster.  A new size inside the first subcluster leaves only a
     * head. */
    if (aligned_start > new_size)
        aligned_start = new_size;
    if (new_size > aligned_start)
        r = qc_write_zeroes(img, aligned_start, new_size - aligned_start, 0);
    if (r == 0 && aligned_start > old)
        r = qc_write_zeroes(img, old, aligned_start - old, 0);
    return r;
}

/*
 * After a shrink: a refcount block whose entries are all 0 (apart from its
 * own, when it counts itself) counts nothing any more; it is unhooked from
 * the refcount table and freed, as QEMU's qcow2_shrink_reftable() does
 * (qcow2.txt "Refcount table entry": an entry of 0 means "All refcounts
 * managed by this refcount block are 0").
 */
static int drop_empty_refblocks(struct img *img)
{
    struct qcow2 *q = img->q;
    uint8_t *copy = img_alloc(img->env, q->cluster_size), *block, zero_entry[8] = {0};
    int r = 0;
    if (!copy)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    for (uint64_t rt_index = 0; rt_index < q->rt_entries && r == 0; rt_index++) {
        uint64_t rb_off = q->rt[rt_index] & QE_OFFSET, rb_cluster = rb_off >> q->cluster_bits;
        uint64_t touched_off;
        size_t touched_len;
        /* A block placed inside the range it covers holds its own count. */
        bool counts_itself = rb_cluster / q->rb_entries == rt_index, empty = true;
        /* An unused entry has nothing to drop; a block that cannot be read
         * sets r, which ends the loop with the error. */
        if (!rb_off || (r = qc_rb_load(img, rb_off, &block)) < 0)
            continue;
        /* Test a copy with the block's own entry cleared: the cached block
         * must keep its true contents. */
        memcpy(copy, block, q->cluster_size);
        if (counts_itself)
            qc_rb_put_entry(q, copy, rb_cluster % q->rb_entries, 0, &touched_off, &touched_len);
        for (uint32_t k = 0; k < q->cluster_size && empty; k++)
            empty = copy[k] == 0;
        if (!empty)
            continue;
        /* Unhook first; then the block's own cluster is free (a block
         * that counted itself took its count with it). */
        r = io_write(img, q->h.refcount_table_offset + rt_index * 8, zero_entry, 8);
        if (r < 0)
            break;
        q->rt[rt_index] = 0;
        qc_cache_drop(img, q->rbc, rb_off);
        if (!counts_itself)
            r = qc_rc_update(img, rb_cluster, -1);
    }
    img_free(img->env, copy);
    return r;
}

/*
 * After a shrink, give the space back to the host: the file is cut after
 * the last cluster still in use (QEMU: qcow2_get_last_cluster, then a
 * truncate of the file), and free clusters before that become holes.
 * QEMU discards the clusters the shrink freed (QCOW2_DISCARD_ALWAYS);
 * imgtool punches every free cluster, which differs only in the bytes of
 * clusters nothing refers to.
 */
static int give_back_space(struct img *img)
{
    struct qcow2 *q = img->q;
    uint64_t file_size, last = 0, refcount, free_run = 0;
    bool found;
    int r;
    if ((r = io_size(img, &file_size)) < 0)
        return r;
    if ((r = last_used_cluster(img, div_up(file_size, q->cluster_size), &last, &found)) < 0)
        return r;
    /* Without a truncate() callback the file keeps its length: the
     * clusters past `last` are free either way, only the space stays. */
    if (img->io.truncate && (last + 1) << q->cluster_bits < file_size) {
        if (img->io.truncate(img->io.ctx, (last + 1) << q->cluster_bits) < 0)
            return img_fail(img, IMG_EIO, "Could not truncate '%s'", img->name);
        /* Nothing at or above the new end of the file is in use: the
         * allocator's bound follows it down. */
        q->alloc_end = last + 1;
    }
    if (!img->io.discard)
        return 0;
    /* Runs of free clusters below the end become holes.  Cluster 0 holds
     * the header and is always in use; the loop runs one past `last` so the
     * final run is flushed.  A discard is only a hint: its result does not
     * matter, the clusters are free either way. */
    for (uint64_t cluster = 1; cluster <= last + 1; cluster++) {
        bool is_free = cluster <= last && qc_rc_get(img, cluster, &refcount) == 0 && refcount == 0;
        if (is_free) {
            free_run++;
            continue;
        }
        if (free_run)
            img->io.discard(img->io.ctx, (cluster - free_run) << q->cluster_bits,
                            free_run << q->cluster_bits);
        free_run = 0;
    }
    return 0;
}

/*
 * The refusals of qemu-img resize and QEMU's qcow2_co_truncate, with their
 * words, checked before anything is written so a refused resize leaves
 * the image untouched.
 */
static int check_resize_allowed(struct img *img, uint64_t old, uint64_t new_size, int prealloc,
                                bool allow_shrink)
{
    struct qcow2 *q = img->q;
    /* qemu-img works in 512-byte sectors; a size between them cannot be
     * given to QEMU either. */
    if (new_size % 512)
        return img_fail(img, IMG_EINVAL, "The new size must be a multiple of 512");
    /* The virtual size is limited by the L1 table only (qc_grow_l1), as in
     * QEMU; it may exceed the 56 bits of host offsets. */
    /* A snapshot records the disk size it was taken at in its extra data,
     * which only version 3 requires (qcow2.txt "Snapshot table entry":
     * "Version 3 images must include extra data at least up to byte 55").
     * A v2 snapshot may lack it and would then take the new size when
     * applied, so QEMU refuses to resize such an image at all, growing
     * included. */
    if (q->nb_snaps && q->h.version < 3)
        return img_fail(img, IMG_ENOTSUP, "Can't resize a v2 image which has snapshots");
    if (new_size < old) {
        /* Shrinking destroys data past the new end, so qemu-img wants it
         * asked for by name. */
        if (!allow_shrink)
            return img_fail(img, IMG_EINVAL,
                            "Use the --shrink option to perform a shrink "
                            "operation.");
        /* A snapshot may map clusters past the new end; QEMU refuses to
         * shrink under snapshots, whatever the image's version. */
        if (q->nb_snaps)
            return img_fail(img, IMG_ENOTSUP, "Can't resize an image which has snapshots");
        if (prealloc != IMG_PREALLOC_OFF)
            return img_fail(img, IMG_ENOTSUP,
                            "Preallocation can't be used for shrinking an "
                            "image");
    }
    return 0;
}

/*
 * The first half of a shrink, before the new size is written: zero what
 * is left of the new last cluster past the new end, and unmap every
 * cluster past it.  Until the size changes a crash leaves a disk of the
 * old size whose tail reads as zeros or from the backing file: what was
 * asked to be cut is gone either way.
 */
static int unmap_tail(struct img *img, uint64_t old, uint64_t new_size)
{
    struct qcow2 *q = img->q;
    /* The part of the new last cluster past the new end is zeroed, so
     * growing again later shows zeros there, as a raw file would (QEMU
     * leaves the old bytes, which then reappear). */
    uint64_t tail_end = div_up(new_size, q->cluster_size) * q->cluster_size;
    int r;
    if (tail_end > old)
        tail_end = old;
    /* A data file is cut at the new size (qc_resize), which does the same. */
    if (tail_end > new_size && !q->data_file) {
        r = qc_write_zeroes(img, new_size, tail_end - new_size, 0);
        if (r < 0)
            return r;
    }
    return qc_discard_from(img, new_size);
}

/*
 * Change the virtual size to `new_size` (qemu-img resize on a qcow2 image;
 * the bitmaps are img_resize()'s part).  Growing: a larger L1 table if
 * needed, the size, then preallocation and zeroing of the new area.
 * Shrinking: the tail unmapped, the size, then the space given back.
 */
int qc_resize(struct img *img, uint64_t new_size, int prealloc, bool allow_shrink)
{
    struct qcow2 *q = img->q;
    uint64_t old = img->size, l1_entries;
    uint8_t size_field[8];
    int r;
    if ((r = check_resize_allowed(img, old, new_size, prealloc, allow_shrink)) < 0)
        return r;
    /* With lazy refcounts the dirty bit goes on before the first change
     * (qcow2.txt "Header", incompatible_features bit 0). */
    r = qc_mark_dirty(img);
    if (r < 0)
        return r;
    /* One L1 entry per L2 table, each covering l2_entries clusters (with
     * 64 KiB clusters and 8-byte entries, 8192 clusters: 512 MiB of disk
     * per entry).  The table only grows: on a shrink it keeps its size,
     * since l1_size must cover the virtual size but may exceed it, and
     * qc_discard_from() leaves the entries past the new end 0. */
    l1_entries = div_up(new_size, (uint64_t)q->cluster_size << q->l2_bits);
    /* The larger table goes in before the size: a crash in between leaves
     * the old size with a table that covers more than it needs. */
    if (l1_entries > q->h.l1_size) {
        r = qc_grow_l1(img, l1_entries);
        if (r < 0)
            return r;
    }
    if (new_size < old && (r = unmap_tail(img, old, new_size)) < 0)
        return r;
    /* A data file grows before the disk does (QEMU's qcow2_co_truncate
     * resizes it with the image); a raw one keeps every cluster mapped, so
     * its growth is preallocated (qcow2_co_truncate turns "off" into
     * "metadata" for it), and preallocation sizes the file itself. */
    if (new_size > old && q->data_raw && prealloc == IMG_PREALLOC_OFF)
        prealloc = IMG_PREALLOC_METADATA;
    if (new_size > old && prealloc == IMG_PREALLOC_OFF && (r = qc_data_resize(img, new_size)) < 0)
        return r;
    /* The new size becomes visible last: after it every new cluster can be
     * addressed, and a crash before it just leaves an unused L1 table. */
    put64(size_field, new_size);
    r = io_write(img, QH_SIZE, size_field, 8);
    if (r < 0)
        return r;
    q->h.size = new_size;
    img->size = new_size;
    /* The shrink's second half: the structures that count nothing any
     * more, then the file's tail and holes. */
    if (new_size < old) {
        r = drop_empty_refblocks(img);
        if (r == 0)
            r = give_back_space(img);
        if (r == 0)
            r = qc_data_resize(img, new_size);
        return r;
    }
    /* Preallocation maps the new area: metadata gives it host clusters
     * and entries only, falloc and full also the space or the zeros.  With
     * a data file every cluster's place is fixed (its guest offset). */
    if (new_size > old && prealloc != IMG_PREALLOC_OFF && q->data_file)
        r = qc_data_preallocate(img, old, new_size, prealloc);
    else if (new_size > old && prealloc != IMG_PREALLOC_OFF)
        r = prealloc != IMG_PREALLOC_METADATA ? preallocate_data(img, old, new_size, prealloc)
                                              : preallocate_metadata(img, old, new_size);
    if (r == 0 && new_size > old)
        r = zero_new_area(img, old, new_size, prealloc);
    return r;
}

/*
 * The library's resize verb for both formats.  A qcow2 image goes through
 * qc_resize() with its bitmaps fitted around it; a raw image is its file,
 * so resizing is a truncate, plus the preallocation asked for.
 */
int img_resize(struct img *img, uint64_t new_size, int prealloc, bool allow_shrink)
{
    if (!img->rw)
        return img_fail(img, IMG_EROFS, "Image '%s' is opened read-only", img->name);
    if (img->q) {
        /* Bitmaps follow the disk's size: loaded at the old size, then
         * cut or zero-extended (QEMU's bdrv_dirty_bitmap_truncate).  A
         * grow stores the larger tables first (see qc_bitmaps_resize); if
         * the grow itself then fails, the bitmaps go back to the old size
         * and are stored so at close. */
        uint64_t old = img->size;
        bool grow = new_size > old;
        int r = qc_bitmaps_load_all(img);
        if (r == 0 && grow)
            r = qc_bitmaps_resize(img, new_size);
        if (r == 0) {
            r = qc_resize(img, new_size, prealloc, allow_shrink);
            if (r < 0 && grow)
                qc_bitmaps_resize(img, old);
        }
        if (r == 0 && !grow)
            r = qc_bitmaps_resize(img, new_size);
        return r;
    }
    /* The same rule as for qcow2: cutting data off needs --shrink. */
    if (new_size < img->size && !allow_shrink)
        return img_fail(img, IMG_EINVAL, "Use the --shrink option to perform a shrink operation.");
    /* truncate() may be NULL (img.h, struct img_io); without it a raw
     * image, which is nothing but its file, cannot change size at all. */
    if (!img->io.truncate)
        return img_fail(img, IMG_ENOTSUP, "Cannot resize '%s'", img->name);
    if (img->io.truncate(img->io.ctx, new_size) < 0)
        return img_fail(img, IMG_EIO, "Could not resize '%s'", img->name);
    uint64_t old = img->size;
    img->size = new_size;
    img->file_size = new_size;
    /* A raw file grows as a hole, which already reads as zeros.  falloc
     * reserves the space with allocate(), whose result is not checked:
     * the new area reads as zeros whether or not the reservation worked.
     * full, and falloc without allocate(), write the zeros. */
    if (new_size > old && prealloc == IMG_PREALLOC_FALLOC && img->io.allocate)
        img->io.allocate(img->io.ctx, old, new_size - old);
    else if (new_size > old && prealloc >= IMG_PREALLOC_FALLOC)
        return img_write_zeroes(img, old, new_size - old, 0);
    return 0;
}
