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
 */
#include "internal.h"

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
    *entry = 0;
    *subcluster_bitmap = 0;
    /* A virtual disk that grew past its L1 table (or a table shorter than
     * the disk in a damaged image) reads the missing part as unallocated,
     * as QEMU does. */
    *l2_offset = l1_index < q->h.l1_size ? q->l1[l1_index] & QE_OFFSET : 0;
    if (!*l2_offset)
        return 0;
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
    if (q->dcache_off == entry)
        return 0;
    /* The descriptor's length is at most a few sectors over 2 clusters;
     * ctmp holds 2 clusters + 512 bytes.  A stream inside cluster 0 would
     * be the header: both are signs of a damaged descriptor, refused
     * before anything is read. */
    if (stream_len > (uint64_t)q->cluster_size * 2 + 512 || stream_offset < q->cluster_size)
        return img_fail(img, IMG_ECORRUPT, "Invalid compressed cluster descriptor %#llx",
                        (unsigned long long)entry);
    if (io_read(img, stream_offset, q->ctmp, (size_t)stream_len) < 0)
        return -IMG_EIO;
    /* The codecs come from the environment: the hosted build has them
     * (hosted/codec.c), a freestanding build may not. */
    if (!img->env->decompress)
        return img_fail(img, IMG_ENOTSUP, "No decompressor available");
    r = img->env->decompress(img->env->ctx, q->h.compression_type, q->dcache, q->cluster_size,
                             q->ctmp, (size_t)stream_len);
    if (r < 0) {
        /* The cache may hold a partly written cluster now: forget it. */
        q->dcache_off = UINT64_MAX;
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
    uint64_t guest_offset = (guest_cluster << q->cluster_bits) + in_cluster;
    uint64_t host_cluster = entry & QE_OFFSET;

    if (entry & QE_COMPRESSED) {
        /* "Compressed clusters don't have subclusters": their bitmap is
         * reserved and must be 0 (qcow2.txt "Subcluster Allocation
         * Bitmap"). */
        if (q->ext_l2 && subcluster_bitmap)
            return img_fail(img, IMG_ECORRUPT, "Compressed cluster with subcluster bitmap");
        int r = load_compressed(img, entry);
        if (r < 0)
            return r;
        memcpy(buf, q->dcache + in_cluster, n);
        return 0;
    }
    /* A standard descriptor's offset "Must be aligned to a cluster
     * boundary" (qcow2.txt "Standard Cluster Descriptor"); QEMU refuses
     * the read the same way. */
    if (host_cluster & (q->cluster_size - 1))
        return img_fail(img, IMG_ECORRUPT, "Cluster allocation offset %#llx unaligned",
                        (unsigned long long)host_cluster);
    if (!q->ext_l2) {
        if ((entry & QE_ZERO) && q->h.version >= 3) {
            memset(buf, 0, n);
            return 0;
        }
        if (host_cluster)
            return io_read(img, host_cluster + in_cluster, buf, n);
        return img_read_backing(img, guest_offset, buf, n);
    }
    /* Extended L2: walk subcluster by subcluster. */
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
        if (allocated && !host_cluster)
            return img_fail(img, IMG_ECORRUPT, "Allocated subcluster without host cluster");
        if (reads_zero)
            memset(buf, 0, chunk), r = 0;
        else if (allocated)
            r = io_read(img, host_cluster + in_cluster, buf, chunk);
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
    if (qc_l2_load(img, l2_offset, &l2_table) < 0)
        return first;
    while (len - total >= 1 && l2_index + 1 < q->l2_entries && total < (8u << 20)) {
        uint64_t next_entry, next_bitmap;
        qc_l2_entry(img, l2_table, l2_index + 1, &next_entry, &next_bitmap);
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
    while (len) {
        uint64_t guest_cluster = off >> q->cluster_bits, l2_offset, entry, subcluster_bitmap;
        uint32_t in_cluster = (uint32_t)(off & (q->cluster_size - 1));
        uint32_t n = q->cluster_size - in_cluster;
        int r;
        if (n > len)
            n = (uint32_t)len;
        r = lookup(img, guest_cluster, &l2_offset, &entry, &subcluster_bitmap);
        if (r < 0)
            return r;
        uint64_t host_cluster = entry & QE_OFFSET;
        if (!q->ext_l2 && host_cluster && !(entry & (QE_COMPRESSED | QE_ZERO)) && n < len &&
            !(host_cluster & (q->cluster_size - 1))) {
            uint64_t total =
                contiguous_run(img, l2_offset, guest_cluster, host_cluster, in_cluster, n, len);
            if (total > n) {
                r = io_read(img, host_cluster + in_cluster, buf, (size_t)total);
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
int qc_l2_load_for_write(struct img *img, uint64_t l1i, uint64_t *out)
{
    struct qcow2 *q = img->q;
    uint64_t old = q->l1[l1i] & QE_OFFSET, n;
    uint8_t *t, b[8];
    int r;
    if (old && (q->l1[l1i] & QE_COPIED)) {
        *out = old;
        return 0;
    }
    r = qc_alloc_clusters(img, 1, &n);
    if (r < 0)
        return r;
    /* Fill the new table first (a copy of the shared one, or zeros) ... */
    if (old) {
        r = qc_l2_load(img, old, &t);
        if (r == 0) {
            memcpy(q->tmp, t, q->cluster_size);
            qc_cache_drop(img, q->l2c, n);
            r = io_write(img, n, q->tmp, q->cluster_size);
        }
    } else {
        memset(q->tmp, 0, q->cluster_size);
        qc_cache_drop(img, q->l2c, n);
        r = io_write(img, n, q->tmp, q->cluster_size);
    }
    if (r < 0)
        return r;
    /* ... then point the L1 entry at it (COPIED: its refcount is 1) ... */
    put64(b, n | QE_COPIED);
    r = io_write(img, q->h.l1_table_offset + l1i * 8, b, 8);
    if (r < 0)
        return r;
    q->l1[l1i] = n | QE_COPIED;
    /* ... and only then drop our reference to the shared table. */
    if (old) {
        r = qc_rc_update(img, old >> q->cluster_bits, -1);
        if (r < 0)
            return r;
    }
    *out = n;
    return 0;
}

/* Bytes of guest cluster gi that lie inside the virtual disk. */
static uint32_t cluster_len(struct img *img, uint64_t gi)
{
    struct qcow2 *q = img->q;
    uint64_t start = gi << q->cluster_bits;
    uint64_t rest = img->size - start;
    return rest < q->cluster_size ? (uint32_t)rest : q->cluster_size;
}

/* Whole cluster contents after merging [in, in+n) of src into the current
 * contents (q->tmp receives them). */
static int merged_cluster(struct img *img, uint64_t gi, uint32_t in, const uint8_t *src, uint32_t n)
{
    struct qcow2 *q = img->q;
    uint32_t cl = cluster_len(img, gi);
    int r;
    memset(q->tmp, 0, q->cluster_size);
    if (n < cl) {
        r = qc_read(img, gi << q->cluster_bits, q->tmp, cl);
        if (r < 0)
            return r;
    }
    memcpy(q->tmp + in, src, n);
    return 0;
}

/*
 * Before data is written in place at a host cluster taken from an L2
 * entry, make sure the cluster is not metadata: a damaged or hostile image
 * could point a data entry at its own header or tables, and the write would
 * destroy them (QEMU's "metadata overlap" check).
 */
static int check_overlap(struct img *img, uint64_t host)
{
    struct qcow2 *q = img->q;
    uint64_t c = host >> q->cluster_bits;
    bool bad = qc_is_core_metadata(q, c);
    for (uint64_t i = 0; !bad && i < q->rt_entries; i++)
        bad = (q->rt[i] & ~0x1ffull) == host;
    for (uint64_t i = 0; !bad && i < q->h.l1_size; i++)
        bad = (q->l1[i] & QE_OFFSET) == host;
    if (q->nb_snaps && !bad) {
        uint64_t s = q->h.snapshots_offset;
        bad = host + q->cluster_size > s && host < s + (uint64_t)q->nb_snaps * QS_FIXED_LEN;
    }
    if (bad)
        return img_fail(img, IMG_ECORRUPT,
                        "Data cluster at offset %#llx of '%s' overlaps metadata; refusing to "
                        "write (run check)",
                        (unsigned long long)host, img->name);
    return 0;
}

/* Write n bytes at `in` of guest cluster gi. */
static int write_part(struct img *img, uint64_t gi, uint32_t in, const uint8_t *src, uint32_t n)
{
    struct qcow2 *q = img->q;
    uint64_t l1i = gi >> q->l2_bits, l2i = gi & (q->l2_entries - 1);
    uint64_t l2off, e, bm, host, newc, nbm;
    int r;

    r = lookup(img, gi, &l2off, &e, &bm);
    if (r < 0)
        return r;
    host = e & QE_OFFSET;
    if (!(e & QE_COMPRESSED) && host && (e & QE_COPIED) && (q->l1[l1i] & QE_COPIED)) {
        if (host & (q->cluster_size - 1))
            return img_fail(img, IMG_ECORRUPT, "Cluster allocation offset %#llx unaligned",
                            (unsigned long long)host);
        r = check_overlap(img, host);
        if (r < 0)
            return r;
        /* Our own cluster: overwrite in place.  Cases that need the rest
         * of the cluster (a zero flag, or extended-L2 subclusters that are
         * not allocated and only partly written) merge first. */
        bool need_merge = false;
        if (!q->ext_l2) {
            need_merge = (e & QE_ZERO) != 0;
        } else {
            for (uint32_t sc = in / q->sc_size; sc <= (in + n - 1) / q->sc_size; sc++) {
                uint32_t s0 = sc * q->sc_size, s1 = s0 + q->sc_size;
                bool full = in <= s0 && in + n >= s1;
                if (!((bm >> sc) & 1) && !full)
                    need_merge = true;
            }
        }
        if (need_merge) {
            r = merged_cluster(img, gi, in, src, n);
            if (r == 0)
                r = io_write(img, host, q->tmp, q->cluster_size);
            nbm = 0xffffffffull;
        } else {
            r = io_write(img, host + in, src, n);
            nbm = bm;
            if (q->ext_l2)
                for (uint32_t sc = in / q->sc_size; sc <= (in + n - 1) / q->sc_size; sc++)
                    nbm = (nbm | (1ull << sc)) & ~(1ull << (32 + sc));
        }
        if (r < 0)
            return r;
        /* Data first, then the entry that makes it visible. */
        if ((e & QE_ZERO) || nbm != bm)
            return qc_l2_set(img, l2off, l2i, host | QE_COPIED, nbm);
        return 0;
    }

    /* Copy-on-write into a fresh cluster: the L2 table first (allocated or
     * made ours; it uses q->tmp as scratch, so before the merge) ... */
    r = qc_l2_load_for_write(img, l1i, &l2off);
    if (r < 0)
        return r;
    /* ... the merged contents of the whole cluster ... */
    if (n < q->cluster_size) {
        r = merged_cluster(img, gi, in, src, n);
        if (r < 0)
            return r;
        src = q->tmp;
    }
    /* ... then the data cluster. */
    r = qc_alloc_clusters(img, 1, &newc);
    if (r < 0)
        return r;
    r = io_write(img, newc, src, q->cluster_size);
    if (r < 0)
        return r;
    /* Re-read the entry: copying a shared L2 table keeps it unchanged, but
     * this keeps the code obviously right. */
    {
        uint8_t *t;
        r = qc_l2_load(img, l2off, &t);
        if (r < 0)
            return r;
        qc_l2_entry(img, t, l2i, &e, &bm);
    }
    r = qc_l2_set(img, l2off, l2i, newc | QE_COPIED, q->ext_l2 ? 0xffffffffull : 0);
    if (r < 0)
        return r;
    /* The old cluster (shared, compressed, or zero-allocated) loses us. */
    return qc_free_l2_entry_clusters(img, e);
}

/*
 * Fast path for large writes: a run of whole, unallocated clusters in one
 * L2 table gets contiguous host clusters, one data write, one refcount
 * write per block and one L2 write, in the same safe order as the
 * cluster-by-cluster path.  Returns the bytes written (0 = not applicable).
 */
static int write_run(struct img *img, uint64_t gi, const uint8_t *buf, size_t len, size_t *done)
{
    struct qcow2 *q = img->q;
    uint64_t l1i = gi >> q->l2_bits, l2i = gi & (q->l2_entries - 1), l2off, host, k = 0, kmax;
    uint8_t *t = NULL, *ents;
    int r;
    *done = 0;
    kmax = len >> q->cluster_bits;
    if (kmax > q->l2_entries - l2i)
        kmax = q->l2_entries - l2i;
    l2off = l1i < q->h.l1_size ? q->l1[l1i] & QE_OFFSET : 0;
    if (l2off && (r = qc_l2_load(img, l2off, &t)) < 0)
        return r;
    for (; k < kmax; k++) {
        uint64_t e = 0, bm = 0;
        if (t)
            qc_l2_entry(img, t, l2i + k, &e, &bm);
        if (e & (QE_OFFSET | QE_COMPRESSED))
            break;
    }
    if (k < 2)
        return 0;
    /* The L2 table first (an empty table hooked into L1 is harmless if we
     * stop here), as QEMU allocates, so layouts match qemu-img's. */
    r = qc_l2_load_for_write(img, l1i, &l2off);
    if (r < 0)
        return r;
    r = qc_alloc_clusters(img, k, &host);
    if (r < 0)
        return r;
    r = io_write(img, host, buf, (size_t)(k << q->cluster_bits));
    if (r < 0)
        return r;
    ents = img_alloc(img->env, (size_t)k * (size_t)q->l2_esize);
    if (!ents)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    for (uint64_t j = 0; j < k; j++) {
        put64(ents + j * (uint64_t)q->l2_esize, (host + (j << q->cluster_bits)) | QE_COPIED);
        if (q->ext_l2)
            put64(ents + j * 16 + 8, 0xffffffffull);
    }
    r = io_write(img, l2off + l2i * (uint64_t)q->l2_esize, ents, (size_t)k * (size_t)q->l2_esize);
    if (r == 0) {
        /* Keep a cached copy of the table in step with the file. */
        for (int i = 0; i < QC_CACHE_SLOTS; i++)
            if (q->l2c[i].off == l2off)
                memcpy(q->l2c[i].data + l2i * (uint64_t)q->l2_esize, ents,
                       (size_t)k * (size_t)q->l2_esize);
        *done = (size_t)(k << q->cluster_bits);
    }
    img_free(img->env, ents);
    return r;
}

int qc_write(struct img *img, uint64_t off, const void *vbuf, size_t len)
{
    struct qcow2 *q = img->q;
    const uint8_t *buf = vbuf;
    int r = qc_mark_dirty(img);
    if (r < 0)
        return r;
    while (len) {
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
        uint64_t gi = off >> q->cluster_bits;
        uint32_t in = (uint32_t)(off & (q->cluster_size - 1));
        uint32_t n = q->cluster_size - in;
        if (n > len)
            n = (uint32_t)len;
        r = write_part(img, gi, in, buf, n);
        if (r < 0)
            return r;
        buf += n;
        off += n;
        len -= n;
    }
    return 0;
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
    int r = qc_mark_dirty(img);
    if (r < 0)
        return r;
    while (len) {
        uint64_t gi = off >> q->cluster_bits, l2off, e, bm, ne, nbm;
        uint32_t in = (uint32_t)(off & (q->cluster_size - 1));
        uint32_t n = q->cluster_size - in;
        uint32_t cl = cluster_len(img, gi);
        if (n > len)
            n = (uint32_t)len;
        r = lookup(img, gi, &l2off, &e, &bm);
        if (r < 0)
            return r;
        bool unalloc = !(e & (QE_OFFSET | QE_COMPRESSED)) && !(q->ext_l2 && bm);
        /* Zeros that must be in the image itself, not merely read as
         * zeros for lack of a backing file (IMG_ZERO_RECORD). */
        bool record = (flags & IMG_ZERO_RECORD) != 0;
        if (unalloc && !backed && !(e & QE_ZERO) && !record) {
            /* Already reads as zeros and stays so. */
        } else if (in == 0 && n >= cl && !(flags & IMG_ZERO_MAY_UNMAP) && q->h.version >= 3 &&
                   (e & QE_OFFSET) && !(e & QE_COMPRESSED) && (e & QE_COPIED) &&
                   (q->l1[gi >> q->l2_bits] & QE_COPIED)) {
            /* Keep the allocation, mark it zero (spec: an allocated zero
             * cluster, "ZERO_ALLOC" in QEMU): later writes go in place. */
            if (q->ext_l2)
                r = qc_l2_set(img, l2off, gi & (q->l2_entries - 1), e, 0xffffffff00000000ull);
            else
                r = qc_l2_set(img, l2off, gi & (q->l2_entries - 1), e | QE_ZERO, 0);
        } else if (in == 0 && n >= cl && (q->h.version >= 3 || (!backed && !record))) {
            /* A whole cluster: unallocated if nothing can show through,
             * else the zero flag (qcow2.txt "Standard Cluster Descriptor" bit
             * 0, v3 only; with extended L2 the "reads as zeros" half of the
             * subcluster bitmap, spec "Extended L2 Entries"). */
            bool flag = backed || record;
            if (q->ext_l2) {
                ne = 0;
                nbm = flag ? 0xffffffff00000000ull : 0;
            } else {
                ne = flag ? QE_ZERO : 0;
                nbm = 0;
            }
            r = qc_l2_load_for_write(img, gi >> q->l2_bits, &l2off);
            if (r == 0) {
                uint8_t *t;
                r = qc_l2_load(img, l2off, &t);
                if (r == 0) {
                    qc_l2_entry(img, t, gi & (q->l2_entries - 1), &e, &bm);
                    r = qc_l2_set(img, l2off, gi & (q->l2_entries - 1), ne, nbm);
                }
            }
            if (r == 0)
                r = qc_free_l2_entry_clusters(img, e);
        } else if (q->ext_l2 && !(e & QE_COMPRESSED) && in % q->sc_size == 0 &&
                   ((in + n) % q->sc_size == 0 || off + n == img->size)) {
            /* Whole subclusters of an extended L2 entry: set their "reads
             * as zeros" bits and clear their allocation bits (qcow2.txt
             * "Extended L2 Entries"), as QEMU's zero_l2_subclusters does;
             * the host cluster, if any, stays. */
            uint32_t s0 = in / q->sc_size, s1 = (uint32_t)div_up(in + n, q->sc_size);
            uint64_t mask = ((1ull << (s1 - s0)) - 1) << s0;
            r = qc_l2_load_for_write(img, gi >> q->l2_bits, &l2off);
            if (r == 0) {
                uint8_t *t;
                r = qc_l2_load(img, l2off, &t);
                if (r == 0) {
                    qc_l2_entry(img, t, gi & (q->l2_entries - 1), &e, &bm);
                    r = qc_l2_set(img, l2off, gi & (q->l2_entries - 1), e,
                                  (bm | mask << 32) & ~mask);
                }
            }
        } else {
            /* Partial cluster: write real zeros through the normal path. */
            uint8_t *z = img_alloc(img->env, n);
            if (!z)
                return img_fail(img, IMG_ENOMEM, "Out of memory");
            r = write_part(img, gi, in, z, n);
            img_free(img->env, z);
        }
        if (r < 0)
            return r;
        off += n;
        len -= n;
    }
    return 0;
}
