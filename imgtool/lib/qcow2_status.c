/*
 * qcow2_status.c: block status (what backs each byte of the virtual disk),
 * used by qemu-img map, convert -S/-B and compare; and the raw accessors
 * for the teaching view (imgtool dump).
 */
#include "internal.h"

/*
 * A data unit at host offset `host`: data, and also known zero where the
 * image file itself has a hole there (preallocation=metadata leaves the
 * data clusters sparse; QEMU's map asks the file the same question).
 */
/*
 * QEMU only asks the file when the image looks metadata-preallocated
 * (qcow2_detect_metadata_preallocation): more clusters have a refcount than
 * the file really occupies on disk, by a margin of 10% (at least 2).
 */
static bool metadata_preallocated(struct img *img)
{
    struct qcow2 *q = img->q;
    uint64_t flen, real, thr, count = 0, rc;
    if (q->meta_prealloc >= 0)
        return q->meta_prealloc;
    q->meta_prealloc = 0;
    if (!img->io.allocated_size || io_size(img, &flen) < 0 ||
        img->io.allocated_size(img->io.ctx, &real) < 0)
        return false;
    real /= q->cluster_size;
    thr = real * 10 / 9 > real + 2 ? real * 10 / 9 : real + 2;
    for (uint64_t i = 0; i < div_up(flen, q->cluster_size) && count <= thr; i++) {
        if (qc_rc_get(img, i, &rc) < 0)
            return false;
        count += rc != 0;
    }
    q->meta_prealloc = count > thr;
    return q->meta_prealloc;
}

static int data_status(struct img *img, uint64_t host, struct img_extent *x)
{
    bool hole = false;
    uint64_t n = x->length;
    x->flags = IMG_BS_DATA | IMG_BS_ALLOCATED | IMG_BS_OFFSET_VALID;
    x->offset = host;
    if (img->io.extent && metadata_preallocated(img) &&
        img->io.extent(img->io.ctx, host, x->length, &n, &hole) == 0) {
        if (hole)
            x->flags |= IMG_BS_ZERO;
        if (n && n < x->length)
            x->length = n;
    }
    return 0;
}

/*
 * Status of the unit (cluster, or subcluster with extended L2) holding off,
 * limited to `max` bytes.  For unallocated units of an image with a backing
 * file the backing chain decides, one level deeper.
 */
static int unit_status(struct img *img, uint64_t off, uint64_t max, bool follow,
                       struct img_extent *x)
{
    struct qcow2 *q = img->q;
    uint64_t n;

    x->layer = img;
    x->offset = 0;
    x->flags = 0;
    if (!q) {
        /* raw: every byte is at the same offset in the file; holes of a
         * sparse file read as zeros and are not data. */
        bool hole = false;
        x->length = max;
        if (off >= img->file_size) {
            /* The sector tail past the end of the file reads as zeros, at
             * the same offset (QEMU's file-posix reports it as a hole). */
            x->flags = IMG_BS_ZERO | IMG_BS_ALLOCATED | IMG_BS_OFFSET_VALID;
            x->offset = off;
            return 0;
        }
        if (max > img->file_size - off)
            max = x->length = img->file_size - off;
        if (img->io.extent && img->io.extent(img->io.ctx, off, max, &x->length, &hole) < 0)
            return img_fail(img, IMG_EIO, "Could not get the block status of '%s'", img->name);
        x->flags = (hole ? IMG_BS_ZERO : IMG_BS_DATA) | IMG_BS_ALLOCATED | IMG_BS_OFFSET_VALID;
        x->offset = off;
        return 0;
    }
    uint64_t gi = off >> q->cluster_bits, l1i = gi >> q->l2_bits, e = 0, bm = 0;
    uint32_t in = (uint32_t)(off & (q->cluster_size - 1));
    uint64_t l2off = l1i < q->h.l1_size ? q->l1[l1i] & QE_OFFSET : 0;
    if (l2off) {
        uint8_t *t;
        if (qc_l2_load(img, l2off, &t) < 0)
            return -IMG_ECORRUPT;
        qc_l2_entry(img, t, gi & (q->l2_entries - 1), &e, &bm);
    }
    uint32_t unit = (q->ext_l2 && !(e & QE_COMPRESSED)) ? q->sc_size : q->cluster_size;
    n = unit - (in % unit);
    if (n > max)
        n = max;
    x->length = n;
    uint64_t host = e & QE_OFFSET;
    if (e & QE_COMPRESSED) {
        x->flags = IMG_BS_DATA | IMG_BS_ALLOCATED | IMG_BS_COMPRESSED;
        return 0;
    }
    /* A host offset must be cluster aligned, zero cluster or not: QEMU's
     * qcow2_get_host_offset refuses both kinds (qcow2.txt "Standard Cluster
     * Descriptor": bits 9-55 with the low bits of a cluster zero). */
    if (host & (q->cluster_size - 1))
        return img_fail(img, IMG_ECORRUPT, "Cluster allocation offset %#llx unaligned",
                        (unsigned long long)host);
    /* Zero clusters (and subclusters) that keep a host cluster report its
     * offset, as QEMU's map does. */
    if (q->ext_l2) {
        uint32_t sc = in / q->sc_size;
        if ((bm >> (32 + sc)) & 1) {
            x->flags = IMG_BS_ZERO | IMG_BS_ALLOCATED | (host ? IMG_BS_OFFSET_VALID : 0);
            x->offset = host ? host + in : 0;
            return 0;
        }
        if ((bm >> sc) & 1)
            return data_status(img, host + in, x);
    } else if ((e & QE_ZERO) && q->h.version >= 3) {
        x->flags = IMG_BS_ZERO | IMG_BS_ALLOCATED | (host ? IMG_BS_OFFSET_VALID : 0);
        x->offset = host ? host + in : 0;
        return 0;
    } else if (host) {
        return data_status(img, host + in, x);
    }
    /* Unallocated here. */
    if (follow && img->backing) {
        struct img *b = img->backing;
        if (off >= b->size) {
            x->flags = IMG_BS_ZERO;
            x->depth = 1;
            return 0;
        }
        if (n > b->size - off)
            x->length = n = b->size - off;
        int r = img_block_status(b, off, n, true, x);
        if (r < 0)
            return img_fail(img, -r, "%s", b->err);
        x->depth++;
        x->flags &= ~IMG_BS_ALLOCATED;
        /* Allocation is reported for the top image only. */
        return 0;
    }
    x->flags = img->backing ? 0 : IMG_BS_ZERO;
    /* An unallocated subcluster of an allocated cluster (extended L2)
     * still has a host offset reserved for it, which QEMU reports
     * (QCOW2_SUBCLUSTER_UNALLOCATED_ALLOC). */
    if (q->ext_l2 && host) {
        x->flags |= IMG_BS_OFFSET_VALID;
        x->offset = host + in;
    }
    return 0;
}

int img_block_status(struct img *img, uint64_t off, uint64_t maxlen, bool follow_backing,
                     struct img_extent *ext)
{
    struct img_extent cur;
    int r;
    if (off >= img->size || maxlen == 0)
        return img_fail(img, IMG_ERANGE, "Block status query beyond the end of '%s'", img->name);
    if (maxlen > img->size - off)
        maxlen = img->size - off;
    memset(ext, 0, sizeof(*ext));
    r = unit_status(img, off, maxlen, follow_backing, ext);
    if (r < 0)
        return r;
    /* Merge following units while nothing changes (same layer and flags,
     * and for data, the next host byte follows on). */
    while (ext->length < maxlen) {
        memset(&cur, 0, sizeof(cur));
        r = unit_status(img, off + ext->length, maxlen - ext->length, follow_backing, &cur);
        if (r < 0)
            return r;
        if (cur.flags != ext->flags || cur.depth != ext->depth || cur.layer != ext->layer)
            break;
        if ((cur.flags & IMG_BS_OFFSET_VALID) && cur.offset != ext->offset + ext->length)
            break;
        ext->length += cur.length;
    }
    return 0;
}

int img_qcow2_l1_entry(struct img *img, uint64_t idx, uint64_t *entry)
{
    if (!img->q || idx >= img->q->h.l1_size)
        return img_fail(img, IMG_EINVAL, "L1 index %llu out of range", (unsigned long long)idx);
    *entry = img->q->l1[idx];
    return 0;
}

int img_qcow2_l2_entry(struct img *img, uint64_t l2_offset, uint64_t idx, uint64_t *entry,
                       uint64_t *bitmap)
{
    uint8_t *t;
    if (!img->q || idx >= img->q->l2_entries)
        return img_fail(img, IMG_EINVAL, "L2 index %llu out of range", (unsigned long long)idx);
    int r = qc_l2_load(img, l2_offset, &t);
    if (r < 0)
        return r;
    qc_l2_entry(img, t, idx, entry, bitmap);
    return 0;
}

int img_qcow2_refcount(struct img *img, uint64_t cluster_index, uint64_t *refcount)
{
    if (!img->q)
        return img_fail(img, IMG_EINVAL, "Not a qcow2 image");
    return qc_rc_get(img, cluster_index, refcount);
}

/* Rewrite the backing file name/format in the header (rebase -u). */
int img_set_backing(struct img *img, const char *name, const char *fmt)
{
    struct qcow2 *q = img->q;
    if (!q)
        return img_fail(img, IMG_ENOTSUP, "Only qcow2 images have a backing file");
    if (!img->rw)
        return img_fail(img, IMG_EROFS, "Image '%s' is opened read-only", img->name);
    if (name && strlen(name) > 1023)
        return img_fail(img, IMG_EINVAL, "Backing file name too long");
    if (fmt && strlen(fmt) >= sizeof(q->backing_fmt))
        return img_fail(img, IMG_EINVAL, "Backing format name too long");
    ksnprintf(q->backing_file, sizeof(q->backing_file), "%s", name ? name : "");
    ksnprintf(q->backing_fmt, sizeof(q->backing_fmt), "%s", name && fmt ? fmt : "");
    return qc_update_header(img);
}
