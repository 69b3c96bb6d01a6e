/*
 * qcow2_compress.c: writing compressed clusters (qemu-img convert -c).
 *
 * A compressed cluster's L2 entry holds a host byte offset and a length in
 * 512-byte sectors instead of a cluster offset (qcow2.txt "Compressed Clusters
 * Descriptor"): bits 0..x-1 are the offset and bits x..61 the number of
 * additional sectors, with x = 62 - (cluster_bits - 8).  The entry never
 * has the COPIED flag.  Compressed data is packed back to back, so several
 * compressed clusters can share one host cluster, each holding a reference.
 *
 * Compression itself (img_compress_cluster) touches no image state, so the
 * CLI can run it on many threads; the write (img_write_compressed_raw)
 * then happens in order on one thread.
 */
#include "internal.h"

/*
 * Compress one guest cluster with the image's codec (the header's
 * compression_type) into out.  Returns the compressed length, 0 if the
 * data does not shrink (the caller then writes it uncompressed, as QEMU
 * does), or a negative IMG_E* code.  out must have room for a whole
 * cluster, although at most cluster_size - 1 bytes are used.
 */
long img_compress_cluster(struct img *img, const void *in, size_t in_len, void *out, size_t out_len)
{
    struct qcow2 *q = img->q;
    const struct img_env *env = img->env;
    uint8_t *pad = NULL;
    long r;
    /* No message on the handle: this may run on a worker thread while
     * the handle is in use elsewhere, so only codes are returned. */
    if (!q)
        return -IMG_ENOTSUP;
    if (in_len > q->cluster_size || out_len < q->cluster_size)
        return -IMG_EINVAL;
    /* A freestanding build may have no compressor (struct img_env). */
    if (!env->compress)
        return -IMG_ENOTSUP;
    /* The last cluster of a disk whose size is not a multiple of the
     * cluster size is compressed padded with zeros, as QEMU does. */
    if (in_len < q->cluster_size) {
        pad = img_alloc(env, q->cluster_size);
        if (!pad)
            return -IMG_ENOMEM;
        memcpy(pad, in, in_len);
        in = pad;
    }
    /* QEMU allows at most cluster_size - 1 bytes of output: a cluster that
     * does not shrink is stored uncompressed (qcow2_co_pwritev_compressed). */
    r = env->compress(env->ctx, q->h.compression_type, out, q->cluster_size - 1, in,
                      q->cluster_size);
    img_free(env, pad);
    return r;
}

/*
 * Store one cluster that img_compress_cluster() compressed: comp_len bytes
 * of comp, or, when comp_len is 0 (the data did not shrink), plain as an
 * ordinary write.  plain is needed for that case only.  The guest cluster
 * must be a whole one, or the last, shorter one of the disk.
 */
int img_write_compressed_raw(struct img *img, uint64_t off, const void *comp, size_t comp_len,
                             const void *plain, size_t plain_len)
{
    struct qcow2 *q = img->q;
    uint64_t guest_cluster, l2_index, l2_table_off, data_off, old_entry;
    uint64_t extra_sectors;
    int r;
    if (!q)
        return img_fail(img, IMG_ENOTSUP, "Compression is only supported by qcow2 images");
    if (!img->rw)
        return img_fail(img, IMG_EROFS, "Image '%s' is opened read-only", img->name);
    /* An image with an external data file has no compressed clusters
     * (qcow2.txt "Header", incompatible bit 2); QEMU's compressed write
     * fails with ENOTSUP, which qemu-img reports in these words. */
    if (q->data_file)
        return img_fail(img, IMG_ENOTSUP, "Operation not supported");
    if ((off & (q->cluster_size - 1)) || off >= img->size)
        return img_fail(img, IMG_EINVAL, "Compressed writes must start on a cluster boundary");
    /* A compressed cluster replaces the whole guest cluster, so a write
     * of less would lose the rest of it. */
    uint64_t cluster_len = img->size - off < q->cluster_size ? img->size - off : q->cluster_size;
    if (plain_len != cluster_len)
        return img_fail(img, IMG_EINVAL,
                        "Compressed writes must cover exactly one cluster (%llu bytes)",
                        (unsigned long long)cluster_len);
    /* Incompressible: an ordinary write (which marks the bitmaps itself). */
    if (comp_len == 0)
        return img_write(img, off, plain, plain_len);
    /* The bitmaps first, as for every write (img.c img_write()). */
    r = qc_bitmaps_dirty(img, off, plain_len);
    if (r < 0)
        return r;
    if (comp_len >= q->cluster_size)
        return img_fail(img, IMG_EINVAL, "Compressed data larger than a cluster");
    r = qc_mark_dirty(img);
    if (r < 0)
        return r;
    guest_cluster = off >> q->cluster_bits;
    l2_index = guest_cluster & (q->l2_entries - 1);
    /* 1. The L2 table (as QEMU, so layouts match), 2. space (with its
     * refcount), 3. the data, 4. the L2 entry, 5. the release of whatever
     * the entry pointed at before.  The same order as every write
     * (qcow2_io.c): a crash leaves the old cluster or the new one, at worst
     * with leaked space. */
    r = qc_l2_load_for_write(img, guest_cluster >> q->l2_bits, &l2_table_off);
    if (r < 0)
        return r;
    r = qc_alloc_bytes(img, comp_len, &data_off);
    if (r < 0)
        return r;
    r = io_write(img, data_off, comp, comp_len);
    if (r < 0)
        return r;
    /* The sector count field holds the sectors after the first one the
     * data touches (qcow2.txt "Compressed Clusters Descriptor"), so the
     * data may start anywhere within its first sector.  No COPIED flag,
     * and with extended L2 no subcluster bitmap: compressed clusters have
     * none. */
    extra_sectors = ((data_off + comp_len - 1) >> 9) - (data_off >> 9);
    r = qc_l2_replace(img, l2_table_off, l2_index,
                      data_off | QE_COMPRESSED | (extra_sectors << q->csize_shift), 0, &old_entry);
    if (r < 0)
        return r;
    /* The decompression cache is keyed by descriptor; a new descriptor
     * could equal an old one at the same offset with other contents. */
    q->dcache_off = UINT64_MAX;
    return qc_free_l2_entry_clusters(img, old_entry);
}

/* Compress and store one cluster in one call, for callers without their
 * own compression threads (the unit tests; convert compresses on worker
 * threads and calls the two halves itself).  The image's compressed-data
 * scratch buffer holds the output, so this is for one thread only. */
int img_write_compressed(struct img *img, uint64_t off, const void *buf, size_t len)
{
    struct qcow2 *q = img->q;
    long n;
    if (!q)
        return img_fail(img, IMG_ENOTSUP, "Compression is only supported by qcow2 images");
    if (len > q->cluster_size)
        return img_fail(img, IMG_EINVAL, "Compressed writes must cover exactly one cluster");
    n = img_compress_cluster(img, buf, len, q->ctmp, q->cluster_size);
    if (n < 0)
        return img_fail(img, (int)-n, "Could not compress data for '%s'", img->name);
    return img_write_compressed_raw(img, off, q->ctmp, (size_t)n, buf, len);
}

/* Called once the last compressed cluster is written (convert -c). */
int img_compressed_end(struct img *img)
{
    uint64_t len;
    /* Compressed clusters are packed to the byte (qcow2.txt "Compressed
     * Clusters Descriptor": the data "does not necessarily occupy all of
     * the bytes in the final sector"), so the file may end inside a
     * sector; QEMU's qcow2 driver rounds it up for sector-based readers. */
    if (!img->q || !img->io.truncate)
        return 0;
    if (io_size(img, &len) < 0)
        return -IMG_EIO;
    /* Only ever grows the file, by less than a sector of zeros. */
    if (len % 512 && img->io.truncate(img->io.ctx, (len + 511) & ~(uint64_t)511) < 0)
        return img_fail(img, IMG_EIO, "Could not extend '%s'", img->name);
    return 0;
}
