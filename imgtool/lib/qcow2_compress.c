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

long img_compress_cluster(struct img *img, const void *in, size_t in_len, void *out, size_t out_len)
{
    struct qcow2 *q = img->q;
    const struct img_env *env = img->env;
    uint8_t *pad = NULL;
    long r;
    if (!q)
        return -IMG_ENOTSUP;
    if (in_len > q->cluster_size || out_len < q->cluster_size)
        return -IMG_EINVAL;
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

int img_write_compressed_raw(struct img *img, uint64_t off, const void *comp, size_t comp_len,
                             const void *plain, size_t plain_len)
{
    struct qcow2 *q = img->q;
    uint64_t gi, l2off, coff, e, bm, nsec;
    uint8_t *t;
    int r;
    if (!q)
        return img_fail(img, IMG_ENOTSUP, "Compression is only supported by qcow2 images");
    if (!img->rw)
        return img_fail(img, IMG_EROFS, "Image '%s' is opened read-only", img->name);
    if ((off & (q->cluster_size - 1)) || off >= img->size)
        return img_fail(img, IMG_EINVAL, "Compressed writes must start on a cluster boundary");
    uint64_t cl = img->size - off < q->cluster_size ? img->size - off : q->cluster_size;
    if (plain_len != cl)
        return img_fail(img, IMG_EINVAL,
                        "Compressed writes must cover exactly one cluster (%llu bytes)",
                        (unsigned long long)cl);
    if (comp_len == 0)
        return img_write(img, off, plain, plain_len);
    r = qc_bitmaps_dirty(img, off, plain_len);
    if (r < 0)
        return r;
    if (comp_len >= q->cluster_size)
        return img_fail(img, IMG_EINVAL, "Compressed data larger than a cluster");
    r = qc_mark_dirty(img);
    if (r < 0)
        return r;
    gi = off >> q->cluster_bits;
    /* 1. The L2 table (as QEMU, so layouts match), 2. space (with its
     * refcount), 3. the data, 4. the L2 entry, 5. the release of whatever
     * the entry pointed at before. */
    r = qc_l2_load_for_write(img, gi >> q->l2_bits, &l2off);
    if (r < 0)
        return r;
    r = qc_alloc_bytes(img, comp_len, &coff);
    if (r < 0)
        return r;
    r = io_write(img, coff, comp, comp_len);
    if (r < 0)
        return r;
    r = qc_l2_load(img, l2off, &t);
    if (r < 0)
        return r;
    qc_l2_entry(img, t, gi & (q->l2_entries - 1), &e, &bm);
    nsec = ((coff + comp_len - 1) >> 9) - (coff >> 9);
    r = qc_l2_set(img, l2off, gi & (q->l2_entries - 1),
                  coff | QE_COMPRESSED | (nsec << q->csize_shift), 0);
    if (r < 0)
        return r;
    q->dcache_off = UINT64_MAX;
    return qc_free_l2_entry_clusters(img, e);
}

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
    if (len % 512 && img->io.truncate(img->io.ctx, (len + 511) & ~(uint64_t)511) < 0)
        return img_fail(img, IMG_EIO, "Could not extend '%s'", img->name);
    return 0;
}
