/*
 * qcow2_io.c: guest reads and writes through the two-level cluster map.
 *
 * A guest offset splits into an L1 index, an L2 index and an offset in the
 * cluster (qcow2.txt "Cluster mapping").  An L2 entry is one of: unallocated
 * (read from the backing file, or zeros), all-zero (bit 0, version 3),
 * a normal cluster at a host offset, or a compressed cluster.  With
 * extended L2 entries each of the 32 subclusters is itself allocated,
 * zero or unallocated (qcow2.txt "Extended L2 Entries").
 *
 * Writes follow copy-on-write: a cluster is written in place only if the
 * L2 entry has the COPIED flag (bit 63: refcount is exactly 1).  Otherwise
 * a new cluster is allocated, the old contents merged in, and the L2 entry
 * switched; the old cluster's refcount drops only after that.
 *
 * Reading order: qc_read() (lookup(), read_part(), contiguous_run()),
 * then qc_write() (write_part(), which chooses write_in_place() or
 * write_copy_on_write(); write_run() for long runs of new clusters), then
 * qc_write_zeroes() (zero_part() and its four ways of zeroing).
 *
 * Crash consistency rests on the order of the writes alone, since nothing
 * is cached dirty (internal.h, QC_CACHE_SLOTS): a new cluster is complete
 * on disk before anything points at it, an entry stops pointing at a
 * cluster before that cluster's refcount drops, and a refcount rises
 * before the cluster is used (qcow2_refcount.c).  Every crash therefore
 * leaves an image whose guest view is either the old or the new one, at
 * worst with leaked clusters, which check -r leaks reclaims; never a
 * cluster in use with too low a refcount, which could be handed out twice.
 * QEMU's qcow2 driver keeps the same invariants with its cache
 * dependencies (qcow2_cache_set_dependency()).
 */
#include "internal.h"

/*
 * How many bytes of a request of len bytes at guest offset off lie in the
 * guest cluster that holds off: the rest of that cluster, or less when the
 * request ends first.  Reads, writes and zeroing all go one cluster at a
 * time, because each guest cluster has an L2 entry of its own (qcow2.txt
 * "Cluster mapping").
 */
static uint32_t part_in_cluster(const struct qcow2 *q, uint64_t off, uint64_t len)
{
    uint32_t n = q->cluster_size - (uint32_t)(off & (q->cluster_size - 1));
    if (n > len)
        n = (uint32_t)len;
    return n;
}

/*
 * Find the L2 entry of guest cluster guest_cluster (qcow2.txt "Cluster
 * mapping": l1_index = guest cluster / l2_entries, l2_index = guest
 * cluster % l2_entries).  *l2_offset is the host offset of the L2 table,
 * 0 if the L1 entry is empty or lies past the L1 table (the guest cluster
 * is then unallocated, and so are its neighbours in the same table);
 * *entry and *subcluster_bitmap are 0 in that case too.
 */
static int lookup(struct img *img, uint64_t guest_cluster, uint64_t *l2_offset, uint64_t *entry,
                  uint64_t *subcluster_bitmap)
{
    struct qcow2 *q = img->q;
    uint64_t l1_index = guest_cluster >> q->l2_bits;
    uint8_t *l2_table;
    /* Unallocated unless the tables say otherwise. */
    *entry = 0;
    *subcluster_bitmap = 0;
    /* A virtual disk that grew past its L1 table (or a table shorter than
     * the disk in a damaged image) reads the missing part as unallocated,
     * as QEMU does. */
    *l2_offset = l1_index < q->h.l1_size ? q->l1[l1_index] & QE_OFFSET : 0;
    if (!*l2_offset)
        return 0;
    /* qc_l2_load() checks the table's offset and keeps it in the cache;
     * a table that cannot be loaded is a damaged image. */
    if (qc_l2_load(img, *l2_offset, &l2_table) < 0)
        return -IMG_ECORRUPT;
    qc_l2_entry(img, l2_table, guest_cluster & (q->l2_entries - 1), entry, subcluster_bitmap);
    return 0;
}

/*
 * Read a compressed cluster into the one-cluster decompression cache.
 *
 * The entry is a "Compressed Clusters Descriptor" (qcow2.txt "Cluster
 * mapping"): a host byte offset and a count of 512-byte sectors, decoded
 * by qc_comp_off() and qc_comp_len().  The whole cluster is decompressed
 * even for a 512-byte read, because a deflate or zstd stream cannot be
 * entered in the middle; the cache (keyed by the descriptor itself) makes
 * the next read of the same cluster, the usual case for sequential I/O,
 * free.
 */
static int load_compressed(struct img *img, uint64_t entry)
{
    struct qcow2 *q = img->q;
    uint64_t stream_offset = qc_comp_off(q, entry), stream_len = qc_comp_len(q, entry);
    int r;
    /* The same descriptor means the same compressed bytes: a cache hit. */
    if (q->dcache_off == entry)
        return 0;
    /* The descriptor's length is at most a few sectors over 2 clusters;
     * ctmp holds 2 clusters + 512 bytes.  A stream inside cluster 0 would
     * be the header: both are signs of a damaged descriptor, refused
     * before anything is read. */
    if (stream_len > (uint64_t)q->cluster_size * 2 + 512 || stream_offset < q->cluster_size)
        return img_fail(img, IMG_ECORRUPT, "Invalid compressed cluster descriptor %#llx",
                        (unsigned long long)entry);
    /* A stream that ends past the end of the file reads zero-padded, as
     * QEMU's file protocol reads it; the decompressor then decides whether
     * the stream is whole. */
    if (io_read(img, stream_offset, q->ctmp, (size_t)stream_len) < 0)
        return -IMG_EIO;
    /* The codecs come from the environment: the hosted build has them
     * (hosted/codec.c), a freestanding build may not. */
    if (!img->env->decompress)
        return img_fail(img, IMG_ENOTSUP, "No decompressor available");
    /* The header's compression_type (qcow2.txt "Header", byte 104) names
     * the codec for every compressed cluster of the image; the output
     * must be exactly one cluster. */
    r = img->env->decompress(img->env->ctx, q->h.compression_type, q->dcache, q->cluster_size,
                             q->ctmp, (size_t)stream_len);
    if (r < 0) {
        /* The cache may hold a partly written cluster now: forget it. */
        q->dcache_off = UINT64_MAX;
        /* A codec the environment lacks is not damage: say which (hv has
         * its own deflate decoder and no zstd one). */
        if (r == -IMG_ENOTSUP)
            return img_fail(img, IMG_ENOTSUP,
                            "Compressed cluster at offset %#llx of '%s' is %s, which this "
                            "program cannot decompress",
                            (unsigned long long)stream_offset, img->name,
                            q->h.compression_type == IMG_COMP_ZSTD ? "zstd" : "zlib");
        return img_fail(img, IMG_ECORRUPT,
                        "Could not decompress the cluster at offset %#llx of '%s'",
                        (unsigned long long)stream_offset, img->name);
    }
    q->dcache_off = entry;
    return 0;
}

/*
 * Read n bytes at offset in_cluster of guest cluster guest_cluster, whose
 * L2 entry is entry/subcluster_bitmap.  The entry decides where the bytes
 * come from (qcow2.txt "Cluster mapping", "Extended L2 Entries"):
 *   compressed   the decompressed cluster (load_compressed);
 *   zero flag    zeros (version 3 only; in version 2 bit 0 is reserved);
 *   host offset  the host cluster, at the same offset within it;
 *   nothing      the backing file, or zeros without one (img_read_backing).
 * With extended L2 entries the same choice is made per subcluster, from
 * its "allocated" and "reads as zero" bits.
 */
static int read_part(struct img *img, uint64_t guest_cluster, uint64_t entry,
                     uint64_t subcluster_bitmap, uint32_t in_cluster, uint8_t *buf, uint32_t n)
{
    struct qcow2 *q = img->q;
    /* The guest offset, for the backing file, which is addressed by guest
     * offsets like the overlay. */
    uint64_t guest_offset = (guest_cluster << q->cluster_bits) + in_cluster;
    uint64_t host_cluster = entry & QE_OFFSET;

    if (entry & QE_COMPRESSED) {
        /* "Compressed clusters don't have subclusters": their bitmap is
         * reserved and must be 0 (qcow2.txt "Subcluster Allocation
         * Bitmap"). */
        if (q->ext_l2 && subcluster_bitmap)
            return img_fail(img, IMG_ECORRUPT, "Compressed cluster with subcluster bitmap");
        /* Images with an external data file have none (qcow2.txt
         * "Header", incompatible bit 2). */
        if (q->data_file)
            return img_fail(img, IMG_ECORRUPT, "Compressed cluster in an image with a data file");
        int r = load_compressed(img, entry);
        if (r < 0)
            return r;
        /* The guest's bytes are at the same offset in the decompressed
         * cluster as in the guest cluster. */
        memcpy(buf, q->dcache + in_cluster, n);
        return 0;
    }
    /* A standard descriptor's offset "Must be aligned to a cluster
     * boundary" (qcow2.txt "Standard Cluster Descriptor"); QEMU refuses
     * the read the same way. */
    if (host_cluster & (q->cluster_size - 1))
        return img_fail(img, IMG_ECORRUPT, "Cluster allocation offset %#llx unaligned",
                        (unsigned long long)host_cluster);
    /* With a data file offset 0 is a host cluster too, and every host
     * offset must be the guest's (qcow2_data.c). */
    bool has_host = qc_has_host(q, entry);
    if (has_host && qc_data_check_host(img, guest_cluster, host_cluster) < 0)
        return -IMG_ECORRUPT;
    /* Without extended L2 the whole cluster is one case; the zero flag
     * wins over a host offset (a zero cluster may keep its allocation). */
    if (!q->ext_l2) {
        if ((entry & QE_ZERO) && q->h.version >= 3) {
            memset(buf, 0, n);
            return 0;
        }
        if (has_host)
            return qc_data_read(img, host_cluster + in_cluster, buf, n);
        /* Unallocated: the backing file at the same guest offset. */
        return img_read_backing(img, guest_offset, buf, n);
    }
    /* Extended L2: walk subcluster by subcluster.  A read rarely covers
     * more than a few, and each may come from a different place. */
    while (n) {
        uint32_t subcluster = in_cluster / q->sc_size;
        uint32_t chunk = q->sc_size - in_cluster % q->sc_size;
        int r;
        if (chunk > n)
            chunk = n;
        /* Bits 0-31 say "allocated", bits 32-63 "reads as zeros"; both at
         * once is forbidden by the specification. */
        bool allocated = (subcluster_bitmap >> subcluster) & 1;
        bool reads_zero = (subcluster_bitmap >> (32 + subcluster)) & 1;
        if (allocated && reads_zero)
            return img_fail(img, IMG_ECORRUPT, "Subcluster %u is both allocated and zero",
                            subcluster);
        /* An allocated subcluster needs somewhere to be allocated in. */
        if (allocated && !has_host)
            return img_fail(img, IMG_ECORRUPT, "Allocated subcluster without host cluster");
        /* Same precedence as without extended L2: zero, then the host
         * cluster, then the backing file. */
        if (reads_zero)
            memset(buf, 0, chunk), r = 0;
        else if (allocated)
            r = qc_data_read(img, host_cluster + in_cluster, buf, chunk);
        else
            r = img_read_backing(img, (guest_cluster << q->cluster_bits) + in_cluster, buf, chunk);
        if (r < 0)
            return r;
        buf += chunk;
        in_cluster += chunk;
        n -= chunk;
    }
    return 0;
}

/*
 * Sequential reads of a converted image meet runs of normal clusters that
 * also follow each other in the file; reading such a run with one request
 * instead of one per cluster is what makes convert and dd fast.  Starting
 * at a normal cluster whose data is at host_cluster + in_cluster, count
 * how many of the next L2 entries of the same table continue the run
 * (at most 8 MiB, and no more than len bytes), and return the run's length
 * in bytes; first is the length of the part in the first cluster.  A
 * returned length equal to first means no run: the caller reads the
 * cluster alone.
 */
static uint64_t contiguous_run(struct img *img, uint64_t l2_offset, uint64_t guest_cluster,
                               uint64_t host_cluster, uint32_t in_cluster, uint32_t first,
                               size_t len)
{
    struct qcow2 *q = img->q;
    uint8_t *l2_table;
    uint64_t l2_index = guest_cluster & (q->l2_entries - 1), total = first;
    /* The table was loaded a moment ago by lookup(), so this is a cache
     * hit; if it fails anyway, the caller reads the cluster alone. */
    if (qc_l2_load(img, l2_offset, &l2_table) < 0)
        return first;
    /* A run stops at the end of the request, of the L2 table (the next
     * table's entries are not loaded) or at 8 MiB, which bounds one read. */
    while (len - total >= 1 && l2_index + 1 < q->l2_entries && total < (8u << 20)) {
        uint64_t next_entry, next_bitmap;
        qc_l2_entry(img, l2_table, l2_index + 1, &next_entry, &next_bitmap);
        /* The next cluster continues the run only if it is a plain data
         * cluster whose host offset follows the bytes counted so far. */
        if ((next_entry & (QE_COMPRESSED | QE_ZERO)) ||
            (next_entry & QE_OFFSET) != host_cluster + in_cluster + total)
            break;
        l2_index++;
        total += len - total < q->cluster_size ? len - total : q->cluster_size;
    }
    return total;
}

/*
 * Guest read of [off, off + len): cluster by cluster, each through its L2
 * entry (lookup, then read_part), except that runs of normal clusters
 * stored back to back in the file are read in one request
 * (contiguous_run).  Extended L2 images always take the per-cluster path,
 * because their subclusters may mix allocated and unallocated data.
 */
int qc_read(struct img *img, uint64_t off, void *vbuf, size_t len)
{
    struct qcow2 *q = img->q;
    uint8_t *buf = vbuf;
    /* One guest cluster (or one run) per turn; n is the part of the
     * request inside the current cluster. */
    while (len) {
        uint64_t guest_cluster = off >> q->cluster_bits, l2_offset, entry, subcluster_bitmap;
        uint32_t in_cluster = (uint32_t)(off & (q->cluster_size - 1));
        uint32_t n = part_in_cluster(q, off, len);
        int r = lookup(img, guest_cluster, &l2_offset, &entry, &subcluster_bitmap);
        if (r < 0)
            return r;
        /* Only a plain, aligned, uncompressed cluster that does not end
         * the request can start a run. */
        uint64_t host_cluster = entry & QE_OFFSET;
        if (!q->ext_l2 && host_cluster && !(entry & (QE_COMPRESSED | QE_ZERO)) && n < len &&
            !(host_cluster & (q->cluster_size - 1))) {
            uint64_t total =
                contiguous_run(img, l2_offset, guest_cluster, host_cluster, in_cluster, n, len);
            /* A run of two or more clusters: one request for all of it. */
            if (total > n) {
                /* Guest data, in the data file if there is one; a run that
                 * starts at its guest offset stays there. */
                r = qc_data_check_host(img, guest_cluster, host_cluster);
                if (r == 0)
                    r = qc_data_read(img, host_cluster + in_cluster, buf, (size_t)total);
                if (r < 0)
                    return r;
                buf += total;
                off += total;
                len -= total;
                continue;
            }
        }
        r = read_part(img, guest_cluster, entry, subcluster_bitmap, in_cluster, buf, n);
        if (r < 0)
            return r;
        buf += n;
        off += n;
        len -= n;
    }
    return 0;
}

/*
 * Make the L2 table for L1 index l1i exclusively ours (COPIED), allocating
 * or copying it as needed; returns its offset.
 *
 * A table without COPIED in its L1 entry is shared with a snapshot
 * (qcow2.txt "L1 table entry": bit 63 is set only when the refcount is
 * exactly one), so changing it in place would change the snapshot too.
 * The copy keeps pointing at the same data clusters without raising their
 * refcounts: taking the snapshot already counted one reference per tree,
 * and the active tree still makes one, now through the copy.  Only the
 * old table loses the active tree's reference, at the very end.
 */
int qc_l2_load_for_write(struct img *img, uint64_t l1_index, uint64_t *out)
{
    struct qcow2 *q = img->q;
    uint64_t old_table = q->l1[l1_index] & QE_OFFSET, new_table;
    uint8_t *old_contents, l1_entry[8];
    int r;
    /* Ours already: the common case once a table has been written to. */
    if (old_table && (q->l1[l1_index] & QE_COPIED)) {
        *out = old_table;
        return 0;
    }
    /* The allocation raises the new table's refcount to 1 on disk before
     * anything points at it (qcow2_refcount.c). */
    r = qc_alloc_clusters(img, 1, &new_table);
    if (r < 0)
        return r;
    /* Fill the new table first (a copy of the shared one, or zeros) ... */
    if (old_table) {
        r = qc_l2_load(img, old_table, &old_contents);
        if (r == 0) {
            memcpy(q->tmp, old_contents, q->cluster_size);
            /* A cache slot may still hold what the cluster held before it
             * was freed and allocated again: drop it. */
            qc_cache_drop(img, q->l2c, new_table);
            r = io_write(img, new_table, q->tmp, q->cluster_size);
        }
    } else {
        /* An empty table: every entry unallocated. */
        memset(q->tmp, 0, q->cluster_size);
        qc_cache_drop(img, q->l2c, new_table);
        r = io_write(img, new_table, q->tmp, q->cluster_size);
    }
    if (r < 0)
        return r;
    /* ... then point the L1 entry at it (COPIED: its refcount is 1).  One
     * 8-byte write, so the entry is either the old or the new one ... */
    put64(l1_entry, new_table | QE_COPIED);
    r = io_write(img, q->h.l1_table_offset + l1_index * 8, l1_entry, 8);
    if (r < 0)
        return r;
    q->l1[l1_index] = new_table | QE_COPIED;
    /* ... and only then drop our reference to the shared table. */
    if (old_table) {
        r = qc_rc_update(img, old_table >> q->cluster_bits, -1);
        if (r < 0)
            return r;
    }
    *out = new_table;
    return 0;
}

/*
 * Bytes of guest cluster guest_cluster that lie inside the virtual disk:
 * a whole cluster, except for the last cluster of a disk whose size is not
 * a multiple of the cluster size.
 */
static uint32_t cluster_len(struct img *img, uint64_t guest_cluster)
{
    struct qcow2 *q = img->q;
    uint64_t start = guest_cluster << q->cluster_bits;
    uint64_t rest = img->size - start;
    return rest < q->cluster_size ? (uint32_t)rest : q->cluster_size;
}

/*
 * The whole cluster's contents after merging [in_cluster, in_cluster + n)
 * of src into what the guest reads there now (q->tmp receives them).  A
 * partial write into a cluster that is about to get a new host cluster must
 * carry over the rest of the old contents, from wherever they come: the
 * old host cluster, a compressed cluster, the backing file, or zeros.
 */
static int merged_cluster(struct img *img, uint64_t guest_cluster, uint32_t in_cluster,
                          const uint8_t *src, uint32_t n)
{
    struct qcow2 *q = img->q;
    uint32_t len = cluster_len(img, guest_cluster);
    int r;
    /* Past the end of the disk the cluster holds zeros. */
    memset(q->tmp, 0, q->cluster_size);
    /* Nothing to read if the write covers all of the cluster's disk part. */
    if (n < len) {
        r = qc_read(img, guest_cluster << q->cluster_bits, q->tmp, len);
        if (r < 0)
            return r;
    }
    memcpy(q->tmp + in_cluster, src, n);
    return 0;
}

/*
 * Before data is written in place at a host cluster taken from an L2
 * entry, make sure the cluster is not metadata: a damaged or hostile image
 * could point a data entry at its own header or tables, and the write would
 * destroy them (QEMU's "metadata overlap" check).  Only the tables kept in
 * memory are compared (header, L1 and refcount tables, refcount blocks, L2
 * tables, the snapshot table); check finds the rest, since a data cluster
 * that overlaps other metadata has a refcount above 1 and no COPIED flag.
 */
static int check_overlap(struct img *img, uint64_t host_cluster)
{
    struct qcow2 *q = img->q;
    bool overlaps = qc_is_core_metadata(q, host_cluster >> q->cluster_bits);
    /* A refcount block the refcount table points at. */
    for (uint64_t i = 0; !overlaps && i < q->rt_entries; i++)
        overlaps = (q->rt[i] & ~0x1ffull) == host_cluster;
    /* An L2 table of the active L1 table. */
    for (uint64_t i = 0; !overlaps && i < q->h.l1_size; i++)
        overlaps = (q->l1[i] & QE_OFFSET) == host_cluster;
    /* The snapshot table, which need not start on a cluster boundary. */
    if (q->nb_snaps && !overlaps) {
        uint64_t table = q->h.snapshots_offset;
        overlaps = host_cluster + q->cluster_size > table &&
                   host_cluster < table + (uint64_t)q->nb_snaps * QS_FIXED_LEN;
    }
    if (overlaps)
        return img_fail(img, IMG_ECORRUPT,
                        "Data cluster at offset %#llx of '%s' overlaps metadata; refusing to "
                        "write (run check)",
                        (unsigned long long)host_cluster, img->name);
    return 0;
}

/*
 * Does a write of [in_cluster, in_cluster + n) into our own cluster need
 * the rest of the cluster first?  Without extended L2 only a zero flag
 * does: the cluster's other bytes must then read as zeros, not as the old
 * data still in the host cluster.  With extended L2, any subcluster that
 * is not allocated and that the write covers only in part does: its other
 * bytes come from the backing file or are zeros.
 */
static bool in_place_needs_merge(const struct qcow2 *q, uint64_t entry, uint64_t subcluster_bitmap,
                                 uint32_t in_cluster, uint32_t n)
{
    if (!q->ext_l2)
        return (entry & QE_ZERO) != 0;
    for (uint32_t sc = in_cluster / q->sc_size; sc <= (in_cluster + n - 1) / q->sc_size; sc++) {
        uint32_t sc_start = sc * q->sc_size, sc_end = sc_start + q->sc_size;
        bool covered = in_cluster <= sc_start && in_cluster + n >= sc_end;
        if (!((subcluster_bitmap >> sc) & 1) && !covered)
            return true;
    }
    return false;
}

/*
 * Write into a host cluster that is ours alone (COPIED in its L2 entry and
 * in the L1 entry of its table: refcount exactly 1, qcow2.txt "L2 table
 * entry"), in place.  The data goes first; the L2 entry changes only after,
 * if the write makes subclusters allocated or clears a zero flag, so a
 * crash in between leaves the old view of the cluster.
 */
static int write_in_place(struct img *img, uint64_t guest_cluster, uint64_t l2_table_off,
                          uint64_t entry, uint64_t subcluster_bitmap, uint32_t in_cluster,
                          const uint8_t *src, uint32_t n)
{
    struct qcow2 *q = img->q;
    uint64_t host_cluster = entry & QE_OFFSET, new_bitmap;
    int r;

    /* qcow2.txt "Standard Cluster Descriptor": the offset "Must be
     * aligned to a cluster boundary". */
    if (host_cluster & (q->cluster_size - 1))
        return img_fail(img, IMG_ECORRUPT, "Cluster allocation offset %#llx unaligned",
                        (unsigned long long)host_cluster);
    /* Writing in place trusts the entry's offset; a wrong one must not
     * let guest data overwrite metadata.  A data file holds no metadata,
     * but its offsets must be the guest's. */
    r = q->data_file ? qc_data_check_host(img, guest_cluster, host_cluster)
                     : check_overlap(img, host_cluster);
    if (r < 0)
        return r;
    if (in_place_needs_merge(q, entry, subcluster_bitmap, in_cluster, n)) {
        /* The whole cluster, so every subcluster is allocated after it. */
        r = merged_cluster(img, guest_cluster, in_cluster, src, n);
        if (r == 0)
            r = qc_data_write(img, host_cluster, q->tmp, q->cluster_size);
        new_bitmap = 0xffffffffull;
    } else {
        r = qc_data_write(img, host_cluster + in_cluster, src, n);
        /* The written subclusters are allocated and no longer zero
         * (bits 0-31 and 32-63 of qcow2.txt "Subcluster Allocation
         * Bitmap"). */
        new_bitmap = subcluster_bitmap;
        if (q->ext_l2)
            for (uint32_t sc = in_cluster / q->sc_size; sc <= (in_cluster + n - 1) / q->sc_size;
                 sc++)
                new_bitmap = (new_bitmap | (1ull << sc)) & ~(1ull << (32 + sc));
    }
    if (r < 0)
        return r;
    /* Data first, then the entry that makes it visible. */
    if ((entry & QE_ZERO) || new_bitmap != subcluster_bitmap)
        return qc_l2_set(img, l2_table_off, guest_cluster & (q->l2_entries - 1),
                         host_cluster | QE_COPIED, new_bitmap);
    return 0;
}

/*
 * Copy-on-write into a fresh host cluster, for a cluster that is not ours
 * alone: unallocated, compressed, zero without a host cluster, or shared
 * with a snapshot.  The order is what keeps a crash harmless: the new data
 * cluster is written completely before the L2 entry points at it, and the
 * old cluster's refcount drops only after the entry no longer points at
 * it.  A crash in between leaks a cluster (check -r leaks reclaims it) but
 * never makes the guest read a half-written cluster.
 */
static int write_copy_on_write(struct img *img, uint64_t guest_cluster, uint32_t in_cluster,
                               const uint8_t *src, uint32_t n)
{
    struct qcow2 *q = img->q;
    uint64_t l2_index = guest_cluster & (q->l2_entries - 1);
    uint64_t l2_table_off, old_entry, new_cluster;
    int r;

    /* The L2 table first (allocated or made ours; it uses q->tmp as
     * scratch, so before the merge) ... */
    r = qc_l2_load_for_write(img, guest_cluster >> q->l2_bits, &l2_table_off);
    if (r < 0)
        return r;
    /* ... the merged contents of the whole cluster ... */
    if (n < q->cluster_size) {
        r = merged_cluster(img, guest_cluster, in_cluster, src, n);
        if (r < 0)
            return r;
        src = q->tmp;
    }
    /* ... then the data cluster. */
    /* Always a whole cluster: the new host cluster must not show stale
     * bytes of whatever the file held there before.  With a data file the
     * cluster is the one at the guest offset there (qcow2.txt "Header",
     * incompatible bit 2: "The offset field ... must match the guest
     * offset"). */
    if (q->data_file)
        new_cluster = guest_cluster << q->cluster_bits;
    else if ((r = qc_alloc_clusters(img, 1, &new_cluster)) < 0)
        return r;
    r = qc_data_write(img, new_cluster, src, q->cluster_size);
    if (r < 0)
        return r;
    /* A whole new cluster: with extended L2 all 32 subclusters are now
     * allocated. */
    r = qc_l2_replace(img, l2_table_off, l2_index, new_cluster | QE_COPIED,
                      q->ext_l2 ? 0xffffffffull : 0, &old_entry);
    if (r < 0)
        return r;
    /* The old cluster (shared, compressed, or zero-allocated) loses us. */
    return qc_free_l2_entry_clusters(img, old_entry);
}

/*
 * Write n bytes at in_cluster of guest cluster guest_cluster: in place if
 * the host cluster is ours alone, else by copy-on-write.  The L1 entry's
 * COPIED flag counts too: an L2 table shared with a snapshot must be copied
 * before any of its entries changes, even one whose data cluster is ours.
 */
static int write_part(struct img *img, uint64_t guest_cluster, uint32_t in_cluster,
                      const uint8_t *src, uint32_t n)
{
    struct qcow2 *q = img->q;
    uint64_t l2_table_off, entry, subcluster_bitmap;
    int r;

    r = lookup(img, guest_cluster, &l2_table_off, &entry, &subcluster_bitmap);
    if (r < 0)
        return r;
    /* A compressed cluster is never written in place: its data is a
     * stream of another length, shared by the sectors around it. */
    if ((entry & QE_COMPRESSED) && q->data_file)
        return img_fail(img, IMG_ECORRUPT, "Compressed cluster in an image with a data file");
    if (qc_has_host(q, entry) && (entry & QE_COPIED) &&
        (q->l1[guest_cluster >> q->l2_bits] & QE_COPIED))
        return write_in_place(img, guest_cluster, l2_table_off, entry, subcluster_bitmap,
                              in_cluster, src, n);
    return write_copy_on_write(img, guest_cluster, in_cluster, src, n);
}

/*
 * Fast path for large writes: a run of whole, unallocated clusters in one
 * L2 table gets contiguous host clusters, one data write, one refcount
 * write per block and one L2 write, in the same safe order as the
 * cluster-by-cluster path (data, then the entries that point at it).
 * *done is the bytes written; 0 means the fast path does not apply (fewer
 * than two such clusters) and the caller takes the general one.
 */
static int write_run(struct img *img, uint64_t guest_cluster, const uint8_t *buf, size_t len,
                     size_t *done)
{
    struct qcow2 *q = img->q;
    uint64_t l1_index = guest_cluster >> q->l2_bits, l2_index = guest_cluster & (q->l2_entries - 1);
    uint64_t l2_table_off, host_start, run = 0, max_run;
    uint8_t *l2_table = NULL, *entries;
    int r;
    *done = 0;
    /* Whole clusters only, and no further than the end of this L2 table. */
    max_run = len >> q->cluster_bits;
    if (max_run > q->l2_entries - l2_index)
        max_run = q->l2_entries - l2_index;
    l2_table_off = l1_index < q->h.l1_size ? q->l1[l1_index] & QE_OFFSET : 0;
    if (l2_table_off && (r = qc_l2_load(img, l2_table_off, &l2_table)) < 0)
        return r;
    /* Count the unallocated clusters (no host cluster, not compressed; a
     * zero flag is fine, the write replaces it).  Without an L2 table they
     * all are. */
    for (; run < max_run; run++) {
        uint64_t entry = 0, subcluster_bitmap = 0;
        if (l2_table)
            qc_l2_entry(img, l2_table, l2_index + run, &entry, &subcluster_bitmap);
        if (qc_has_host(q, entry) || (entry & QE_COMPRESSED))
            break;
    }
    if (run < 2)
        return 0;
    /* The L2 table first (an empty table hooked into L1 is harmless if we
     * stop here), as QEMU allocates, so layouts match qemu-img's. */
    r = qc_l2_load_for_write(img, l1_index, &l2_table_off);
    if (r < 0)
        return r;
    /* One allocation for the whole run: contiguous host clusters, with
     * their refcounts raised before the data is written. */
    if (q->data_file)
        host_start = guest_cluster << q->cluster_bits; /* the guest offsets there */
    else if ((r = qc_alloc_clusters(img, run, &host_start)) < 0)
        return r;
    r = qc_data_write(img, host_start, buf, (size_t)(run << q->cluster_bits));
    if (r < 0)
        return r;
    /* The run's L2 entries, built in memory and written in one request:
     * each points at its host cluster, COPIED (refcount 1); with extended
     * L2 every subcluster is allocated. */
    entries = img_alloc(img->env, (size_t)run * (size_t)q->l2_esize);
    if (!entries)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    for (uint64_t j = 0; j < run; j++) {
        put64(entries + j * (uint64_t)q->l2_esize,
              (host_start + (j << q->cluster_bits)) | QE_COPIED);
        if (q->ext_l2)
            put64(entries + j * 16 + 8, 0xffffffffull);
    }
    /* The entries were all unallocated, so no old cluster is freed and
     * no refcount drops: the L2 write is the last step. */
    r = io_write(img, l2_table_off + l2_index * (uint64_t)q->l2_esize, entries,
                 (size_t)run * (size_t)q->l2_esize);
    if (r == 0) {
        /* Keep a cached copy of the table in step with the file. */
        for (int i = 0; i < QC_CACHE_SLOTS; i++)
            if (q->l2c[i].off == l2_table_off)
                memcpy(q->l2c[i].data + l2_index * (uint64_t)q->l2_esize, entries,
                       (size_t)run * (size_t)q->l2_esize);
        *done = (size_t)(run << q->cluster_bits);
    }
    img_free(img->env, entries);
    return r;
}

/*
 * Guest write of [off, off + len).  The dirty bit is set before the first
 * write of a session (qc_mark_dirty(): only for images with lazy
 * refcounts), then the range is written cluster by cluster, taking the
 * fast path for runs of whole unallocated clusters where it can.
 */
int qc_write(struct img *img, uint64_t off, const void *vbuf, size_t len)
{
    struct qcow2 *q = img->q;
    const uint8_t *buf = vbuf;
    int r = qc_mark_dirty(img);
    if (r < 0)
        return r;
    while (len) {
        /* At least two whole clusters from a cluster boundary. */
        if (!(off & (q->cluster_size - 1)) && len >= 2ull * q->cluster_size) {
            size_t done;
            r = write_run(img, off >> q->cluster_bits, buf, len, &done);
            if (r < 0)
                return r;
            if (done) {
                buf += done;
                off += done;
                len -= done;
                continue;
            }
        }
        uint64_t guest_cluster = off >> q->cluster_bits;
        uint32_t in_cluster = (uint32_t)(off & (q->cluster_size - 1));
        uint32_t n = part_in_cluster(q, off, len);
        r = write_part(img, guest_cluster, in_cluster, buf, n);
        if (r < 0)
            return r;
        buf += n;
        off += n;
        len -= n;
    }
    return 0;
}

/*
 * Mark a whole cluster of our own as zero but keep its host cluster
 * (qcow2.txt "Standard Cluster Descriptor": an allocated cluster with bit 0
 * set reads as zeros; QEMU calls it ZERO_ALLOC), so that later writes go in
 * place.  With extended L2 entries every subcluster reads as zero instead.
 */
static int zero_keep_allocation(struct img *img, uint64_t guest_cluster, uint64_t l2_table_off,
                                uint64_t entry)
{
    struct qcow2 *q = img->q;
    uint64_t l2_index = guest_cluster & (q->l2_entries - 1);
    /* The host cluster stays referenced by the same entry, so no refcount
     * changes: only the entry is written.  The table is ours (the caller
     * checked the L1 entry's COPIED flag), so it is changed in place. */
    if (q->ext_l2)
        return qc_l2_set(img, l2_table_off, l2_index, entry, 0xffffffff00000000ull);
    return qc_l2_set(img, l2_table_off, l2_index, entry | QE_ZERO, 0);
}

/*
 * The L2 entry of guest_cluster in a table that is ours to change: the
 * table is made ours first (qc_l2_load_for_write() copies a shared one,
 * with the same entries), then the entry is read from it.
 */
static int entry_for_write(struct img *img, uint64_t guest_cluster, uint64_t *l2_table_off,
                           uint64_t *entry, uint64_t *subcluster_bitmap)
{
    struct qcow2 *q = img->q;
    uint8_t *l2_table;
    int r = qc_l2_load_for_write(img, guest_cluster >> q->l2_bits, l2_table_off);
    if (r < 0)
        return r;
    r = qc_l2_load(img, *l2_table_off, &l2_table);
    if (r < 0)
        return r;
    qc_l2_entry(img, l2_table, guest_cluster & (q->l2_entries - 1), entry, subcluster_bitmap);
    return 0;
}

/*
 * Make a whole cluster read as zeros by changing its L2 entry: unallocated
 * if nothing can show through (no backing file, not IMG_ZERO_RECORD), else
 * the zero flag (qcow2.txt "Standard Cluster Descriptor" bit 0, version 3
 * only; with extended L2 the "reads as zeros" half of the subcluster
 * bitmap, qcow2.txt "Extended L2 Entries").  The clusters the old entry
 * pointed at are freed after the entry no longer points at them.
 */
static int zero_whole_cluster(struct img *img, uint64_t guest_cluster, bool zero_flag)
{
    struct qcow2 *q = img->q;
    uint64_t l2_index = guest_cluster & (q->l2_entries - 1);
    uint64_t l2_table_off, old_entry, old_bitmap, new_entry, new_bitmap;
    int r;

    /* No host cluster in the new entry either way: the guest's old data
     * must not come back if the zero flag is cleared by a later write. */
    if (q->ext_l2) {
        new_entry = 0;
        new_bitmap = zero_flag ? 0xffffffff00000000ull : 0;
    } else {
        new_entry = zero_flag ? QE_ZERO : 0;
        new_bitmap = 0;
    }
    /* The entry as it is now, to free what it points at afterwards. */
    r = entry_for_write(img, guest_cluster, &l2_table_off, &old_entry, &old_bitmap);
    if (r < 0)
        return r;
    r = qc_l2_set(img, l2_table_off, l2_index, new_entry, new_bitmap);
    if (r < 0)
        return r;
    /* With a data file the cluster there is handed back to the host
     * instead, as QEMU passes the discard through (its
     * qcow2_free_any_cluster); it reads as zeros anyway. */
    if (q->data_file && qc_has_host(q, old_entry) && q->dio.discard)
        q->dio.discard(q->dio.ctx, old_entry & QE_OFFSET, q->cluster_size);
    return qc_free_l2_entry_clusters(img, old_entry);
}

/*
 * Whole subclusters of an extended L2 entry: set their "reads as zeros"
 * bits and clear their allocation bits (qcow2.txt "Extended L2 Entries"),
 * as QEMU's zero_l2_subclusters does; the host cluster, if any, stays.
 */
static int zero_subclusters(struct img *img, uint64_t guest_cluster, uint32_t in_cluster,
                            uint32_t n)
{
    struct qcow2 *q = img->q;
    uint64_t l2_index = guest_cluster & (q->l2_entries - 1);
    uint32_t first = in_cluster / q->sc_size;
    uint32_t end = (uint32_t)div_up(in_cluster + n, q->sc_size);
    uint64_t mask = ((1ull << (end - first)) - 1) << first;
    uint64_t l2_table_off, entry, subcluster_bitmap;
    int r = entry_for_write(img, guest_cluster, &l2_table_off, &entry, &subcluster_bitmap);
    if (r < 0)
        return r;
    /* Bits 32-63 say "reads as zeros", bits 0-31 "allocated"; a
     * subcluster may not be both (qcow2.txt "Subcluster Allocation
     * Bitmap"). */
    return qc_l2_set(img, l2_table_off, l2_index, entry, (subcluster_bitmap | mask << 32) & ~mask);
}

/* Partial cluster: write real zeros through the normal write path. */
static int zero_by_writing(struct img *img, uint64_t guest_cluster, uint32_t in_cluster, uint32_t n)
{
    /* img_alloc() zeroes: the buffer is the zeros to write. */
    uint8_t *zeros = img_alloc(img->env, n);
    int r;
    if (!zeros)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    r = write_part(img, guest_cluster, in_cluster, zeros, n);
    img_free(img->env, zeros);
    return r;
}

/*
 * Zero [in_cluster, in_cluster + n) of one guest cluster, choosing the
 * cheapest change that makes it read as zeros.  `backed`: the image names
 * a backing file, so unallocated clusters do not read as zeros.
 */
static int zero_part(struct img *img, uint64_t off, uint32_t n, unsigned flags, bool backed)
{
    struct qcow2 *q = img->q;
    uint64_t guest_cluster = off >> q->cluster_bits, l2_table_off, entry, subcluster_bitmap;
    uint32_t in_cluster = (uint32_t)(off & (q->cluster_size - 1));
    /* The last cluster of a disk whose size is not a multiple of the
     * cluster size counts as whole when the range reaches the disk's end. */
    bool whole = in_cluster == 0 && n >= cluster_len(img, guest_cluster);
    int r = lookup(img, guest_cluster, &l2_table_off, &entry, &subcluster_bitmap);
    if (r < 0)
        return r;
    bool unallocated =
        !qc_has_host(q, entry) && !(entry & QE_COMPRESSED) && !(q->ext_l2 && subcluster_bitmap);
    /* Zeros that must be in the image itself, not merely read as zeros for
     * lack of a backing file (IMG_ZERO_RECORD). */
    bool record = (flags & IMG_ZERO_RECORD) != 0;
    /* The same test as write_part()'s for writing in place. */
    bool ours = qc_has_host(q, entry) && (entry & QE_COPIED) &&
                (q->l1[guest_cluster >> q->l2_bits] & QE_COPIED);

    /* Already reads as zeros and stays so. */
    if (unallocated && !backed && !(entry & QE_ZERO) && !record)
        return 0;
    if (whole && !(flags & IMG_ZERO_MAY_UNMAP) && q->h.version >= 3 && ours)
        return zero_keep_allocation(img, guest_cluster, l2_table_off, entry);
    /* Version 2 has no zero flag: only unallocating can zero there. */
    if (whole && (q->h.version >= 3 || (!backed && !record)))
        return zero_whole_cluster(img, guest_cluster, backed || record);
    /* Whole subclusters (the disk's end counts as a subcluster's end). */
    if (q->ext_l2 && !(entry & QE_COMPRESSED) && in_cluster % q->sc_size == 0 &&
        ((in_cluster + n) % q->sc_size == 0 || off + n == img->size))
        return zero_subclusters(img, guest_cluster, in_cluster, n);
    return zero_by_writing(img, guest_cluster, in_cluster, n);
}

/*
 * Zero a range.  Whole clusters become zero clusters (version 3: the zero
 * flag, or all "reads as zero" subcluster bits) or, without a backing file,
 * simply unallocated; without IMG_ZERO_MAY_UNMAP a cluster of our own keeps
 * its host cluster (marked zero).  Partial clusters are written with zeros.
 */
int qc_write_zeroes(struct img *img, uint64_t off, uint64_t len, unsigned flags)
{
    struct qcow2 *q = img->q;
    /* What matters is whether the image names a backing file, not whether
     * this handle opened it (IMG_OPEN_NO_BACKING): an unallocated cluster
     * of such an image reads from the backing file once QEMU opens it, so
     * it never counts as zeros (qcow2.txt "Cluster mapping": "If a cluster is
     * unallocated, read requests shall read the data from the backing
     * file"). */
    bool backed = img->backing || q->backing_file[0];
    /* Zeroing changes metadata like any write: the dirty bit first; a
     * raw data file gets the zeros too (qc_data_zero). */
    int r = qc_mark_dirty(img);
    if (r == 0)
        r = qc_data_zero(img, off, len);
    if (r < 0)
        return r;
    while (len) {
        uint32_t n = part_in_cluster(q, off, len);
        r = zero_part(img, off, n, flags, backed);
        if (r < 0)
            return r;
        off += n;
        len -= n;
    }
    return 0;
}
