/*
 * qcow2_status.c: block status (what backs each byte of the virtual disk),
 * used by qemu-img map, convert -S/-B and compare; and the raw accessors
 * for the teaching view (imgtool dump).
 *
 * Block status answers, for a range of the virtual disk, where its bytes
 * come from: data in this image (at which host offset), zeros recorded in
 * this image, a compressed cluster, or nothing here, in which case the
 * backing file or plain zeros show through.  img_block_status() asks per
 * unit (a cluster, or a subcluster with extended L2 entries, qcow2.txt
 * "Extended L2 Entries") and merges neighbouring units that answer the
 * same, so that map prints one line per run, as qemu-img map does.  The
 * flags, depth and offsets follow QEMU's bdrv_block_status() so that map
 * and convert make the same choices as qemu-img.
 */
#include "internal.h"

/*
 * Does the image look metadata-preallocated?  Such an image has data
 * clusters whose L2 entries point at host clusters that were never written
 * (preallocation=metadata leaves them sparse in the file), and block status
 * then asks the file whether each data cluster is a hole, which reads as
 * zeros.  QEMU only asks the file when the image looks preallocated this
 * way (qcow2_detect_metadata_preallocation): more clusters have a refcount
 * than the file really occupies on disk, by a margin of 10% (at least 2).
 * The answer is computed once per open and kept in q->meta_prealloc.
 */
static bool metadata_preallocated(struct img *img)
{
    struct qcow2 *q = img->q;
    uint64_t file_len, allocated, threshold, in_use = 0, refcount;
    if (q->meta_prealloc >= 0)
        return q->meta_prealloc;
    /* "No" until proven otherwise, also when the backend cannot tell. */
    q->meta_prealloc = 0;
    if (!img->io.allocated_size || io_size(img, &file_len) < 0 ||
        img->io.allocated_size(img->io.ctx, &allocated) < 0)
        return false;
    allocated /= q->cluster_size;
    threshold = allocated * 10 / 9 > allocated + 2 ? allocated * 10 / 9 : allocated + 2;
    /* Count clusters in use up to the threshold only: a large image that
     * is clearly not preallocated is not read to its end. */
    for (uint64_t i = 0; i < div_up(file_len, q->cluster_size) && in_use <= threshold; i++) {
        if (qc_rc_get(img, i, &refcount) < 0)
            return false;
        in_use += refcount != 0;
    }
    /* Preallocated: more clusters claimed than the file holds blocks. */
    q->meta_prealloc = in_use > threshold;
    return q->meta_prealloc;
}

/*
 * A data unit at host offset `host`: data, and also known zero where the
 * image file itself has a hole there (preallocation=metadata leaves the
 * data clusters sparse; QEMU's map asks the file the same question).  The
 * extent may be shortened to where the file's hole or data ends.
 */
static int data_status(struct img *img, uint64_t host, struct img_extent *x)
{
    bool hole = false;
    uint64_t n = x->length;
    x->flags = IMG_BS_DATA | IMG_BS_ALLOCATED | IMG_BS_OFFSET_VALID;
    x->offset = host;
    /* Asking the file costs a system call per unit; only do it where it
     * can change the answer.  The data lives in the external data file if
     * there is one, and QEMU asks that file, but only when the image file
     * looks metadata-preallocated (the test is about the image file). */
    const struct img_io *io = img->q->data_file ? &img->q->dio : &img->io;
    if (io->extent && metadata_preallocated(img) &&
        io->extent(io->ctx, host, x->length, &n, &hole) == 0) {
        if (hole)
            x->flags |= IMG_BS_ZERO;
        if (n && n < x->length)
            x->length = n;
    }
    return 0;
}

/*
 * Raw: every byte is at the same offset in the file; holes of a sparse
 * file read as zeros and are not data, which lets convert and map skip
 * them as qemu-img does.
 */
static int raw_unit_status(struct img *img, uint64_t off, uint64_t max, struct img_extent *x)
{
    bool hole = false;
    x->length = max;
    if (off >= img->file_size) {
        /* The sector tail past the end of the file reads as zeros, at
         * the same offset (QEMU's file-posix reports it as a hole). */
        x->flags = IMG_BS_ZERO | IMG_BS_ALLOCATED | IMG_BS_OFFSET_VALID;
        x->offset = off;
        return 0;
    }
    /* The file's own data ends before the sector tail. */
    if (max > img->file_size - off)
        max = x->length = img->file_size - off;
    /* Without extent() (hv's disks) everything counts as data. */
    if (img->io.extent && img->io.extent(img->io.ctx, off, max, &x->length, &hole) < 0)
        return img_fail(img, IMG_EIO, "Could not get the block status of '%s'", img->name);
    x->flags = (hole ? IMG_BS_ZERO : IMG_BS_DATA) | IMG_BS_ALLOCATED | IMG_BS_OFFSET_VALID;
    x->offset = off;
    return 0;
}

/*
 * A unit this image does not allocate: the backing file decides, one level
 * deeper (x->depth counts the levels), as QEMU's
 * bdrv_block_status_above() follows the chain.  Past the backing file's end the overlay
 * reads zeros.  Allocation is reported for the top image only.
 */
static int backing_unit_status(struct img *img, uint64_t off, uint64_t n, struct img_extent *x)
{
    struct img *backing = img->backing;
    if (off >= backing->size) {
        x->flags = IMG_BS_ZERO;
        x->depth = 1;
        return 0;
    }
    if (n > backing->size - off)
        x->length = n = backing->size - off;
    int r = img_block_status(backing, off, n, true, x);
    if (r < 0)
        return img_fail(img, -r, "%s", backing->err);
    x->depth++;
    x->flags &= ~IMG_BS_ALLOCATED;
    return 0;
}

/*
 * Status of the unit (cluster, or subcluster with extended L2) holding off,
 * limited to `max` bytes.  For unallocated units of an image with a backing
 * file the backing chain decides, one level deeper.  The L2 entry decides
 * as it does for a read (qcow2_io.c read_part()): compressed, zero, data at
 * a host offset, or unallocated (qcow2.txt "Cluster mapping").
 */
static int unit_status(struct img *img, uint64_t off, uint64_t max, bool follow,
                       struct img_extent *x)
{
    struct qcow2 *q = img->q;
    uint64_t n;

    /* The image that answers; the backing chain replaces it below. */
    x->layer = img;
    x->offset = 0;
    x->flags = 0;
    if (!q)
        return raw_unit_status(img, off, max, x);
    uint64_t guest_cluster = off >> q->cluster_bits, l1_index = guest_cluster >> q->l2_bits;
    uint64_t entry = 0, subcluster_bitmap = 0;
    uint32_t in_cluster = (uint32_t)(off & (q->cluster_size - 1));
    /* Past the L1 table or without an L2 table: unallocated. */
    uint64_t l2_table_off = l1_index < q->h.l1_size ? q->l1[l1_index] & QE_OFFSET : 0;
    if (l2_table_off) {
        uint8_t *l2_table;
        if (qc_l2_load(img, l2_table_off, &l2_table) < 0)
            return -IMG_ECORRUPT;
        qc_l2_entry(img, l2_table, guest_cluster & (q->l2_entries - 1), &entry, &subcluster_bitmap);
    }
    /* Compressed clusters have no subclusters (qcow2.txt "Subcluster
     * Allocation Bitmap"), so they are one unit even with extended L2. */
    uint32_t unit = (q->ext_l2 && !(entry & QE_COMPRESSED)) ? q->sc_size : q->cluster_size;
    n = unit - (in_cluster % unit);
    if (n > max)
        n = max;
    x->length = n;
    uint64_t host_cluster = entry & QE_OFFSET;
    /* With a data file, offset 0 is a host offset too (qc_has_host). */
    bool has_host = qc_has_host(q, entry);
    /* A compressed cluster has no host offset of its own to report: its
     * data is a stream, not the guest's bytes. */
    if (entry & QE_COMPRESSED) {
        x->flags = IMG_BS_DATA | IMG_BS_ALLOCATED | IMG_BS_COMPRESSED;
        return 0;
    }
    /* A host offset must be cluster aligned, zero cluster or not: QEMU's
     * qcow2_get_host_offset refuses both kinds (qcow2.txt "Standard Cluster
     * Descriptor": bits 9-55 with the low bits of a cluster zero). */
    if (host_cluster & (q->cluster_size - 1))
        return img_fail(img, IMG_ECORRUPT, "Cluster allocation offset %#llx unaligned",
                        (unsigned long long)host_cluster);
    /* Zero clusters (and subclusters) that keep a host cluster report its
     * offset, as QEMU's map does. */
    /* With extended L2 the subcluster's two bits decide, "reads as zeros"
     * first (qcow2.txt "Subcluster Allocation Bitmap"); a subcluster with
     * neither bit falls through to "unallocated" below. */
    if (q->ext_l2) {
        uint32_t sc = in_cluster / q->sc_size;
        if ((subcluster_bitmap >> (32 + sc)) & 1) {
            x->flags = IMG_BS_ZERO | IMG_BS_ALLOCATED | (has_host ? IMG_BS_OFFSET_VALID : 0);
            x->offset = has_host ? host_cluster + in_cluster : 0;
            return 0;
        }
        if ((subcluster_bitmap >> sc) & 1)
            return data_status(img, host_cluster + in_cluster, x);
    } else if ((entry & QE_ZERO) && q->h.version >= 3) {
        x->flags = IMG_BS_ZERO | IMG_BS_ALLOCATED | (has_host ? IMG_BS_OFFSET_VALID : 0);
        x->offset = has_host ? host_cluster + in_cluster : 0;
        return 0;
    } else if (has_host) {
        return data_status(img, host_cluster + in_cluster, x);
    }
    /* Unallocated here. */
    if (follow && img->backing)
        return backing_unit_status(img, off, n, x);
    /* Without a backing file, unallocated reads as zeros; with one that
     * the caller does not follow, nothing is known about the contents. */
    x->flags = img->backing ? 0 : IMG_BS_ZERO;
    /* An unallocated subcluster of an allocated cluster (extended L2)
     * still has a host offset reserved for it, which QEMU reports
     * (QCOW2_SUBCLUSTER_UNALLOCATED_ALLOC). */
    if (q->ext_l2 && has_host) {
        x->flags |= IMG_BS_OFFSET_VALID;
        x->offset = host_cluster + in_cluster;
    }
    return 0;
}

/*
 * The status of the run of units that starts at off, at most maxlen bytes.
 * The first unit decides the answer; following units extend the run while
 * they answer the same, so a caller walking the disk gets one extent per
 * run (map's lines), not one per cluster.  With follow_backing, units this
 * image does not allocate are answered by the backing chain.
 */
int img_block_status(struct img *img, uint64_t off, uint64_t maxlen, bool follow_backing,
                     struct img_extent *ext)
{
    struct img_extent cur;
    int r;
    /* A query must start inside the disk; callers loop while off < size. */
    if (off >= img->size || maxlen == 0)
        return img_fail(img, IMG_ERANGE, "Block status query beyond the end of '%s'", img->name);
    if (maxlen > img->size - off)
        maxlen = img->size - off;
    /* Fields a unit does not set (depth, offset) must read as 0. */
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
        /* Data that continues elsewhere in the file is a new extent: map
         * shows each host run on its own line, as qemu-img map does. */
        if ((cur.flags & IMG_BS_OFFSET_VALID) && cur.offset != ext->offset + ext->length)
            break;
        ext->length += cur.length;
    }
    return 0;
}

/*
 * ---- Raw accessors for imgtool dump ----
 *
 * dump shows the tables as they are on disk, so that a student can follow
 * a guest offset through L1 and L2 to its host cluster by hand.  These
 * calls hand out raw entries in host byte order, with every index checked
 * against the table it indexes.
 */

/* Entry idx of the active L1 table, flags included. */
int img_qcow2_l1_entry(struct img *img, uint64_t idx, uint64_t *entry)
{
    if (!img->q || idx >= img->q->h.l1_size)
        return img_fail(img, IMG_EINVAL, "L1 index %llu out of range", (unsigned long long)idx);
    *entry = img->q->l1[idx];
    return 0;
}

/* Entry idx of the L2 table at l2_offset; the offset is the caller's, so
 * qc_l2_load() checks it like any table offset before it reads. */
int img_qcow2_l2_entry(struct img *img, uint64_t l2_offset, uint64_t idx, uint64_t *entry,
                       uint64_t *bitmap)
{
    uint8_t *l2_table;
    if (!img->q || idx >= img->q->l2_entries)
        return img_fail(img, IMG_EINVAL, "L2 index %llu out of range", (unsigned long long)idx);
    int r = qc_l2_load(img, l2_offset, &l2_table);
    if (r < 0)
        return r;
    qc_l2_entry(img, l2_table, idx, entry, bitmap);
    return 0;
}

/* The refcount of one host cluster, through the refcount table and
 * block (qcow2.txt "Host cluster management"); a cluster past the table
 * reads as 0, free. */
int img_qcow2_refcount(struct img *img, uint64_t cluster_index, uint64_t *refcount)
{
    if (!img->q)
        return img_fail(img, IMG_EINVAL, "Not a qcow2 image");
    return qc_rc_get(img, cluster_index, refcount);
}

/*
 * Rewrite the backing file name/format in the header (rebase, and rebase
 * -u alone).  Only the header changes: whether the new backing file holds
 * what the old one did is the caller's business (safe rebase copies the
 * differences first).  A NULL name removes the backing file, and with it
 * the backing format extension (qc_update_header() writes it only with a
 * name).  The limits are those of qcow2.txt "Header" (1023 bytes) and of
 * the format name buffer.
 */
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
    /* Checked before anything changes, so a refusal leaves the image and
     * the handle as they were. */
    ksnprintf(q->backing_file, sizeof(q->backing_file), "%s", name ? name : "");
    ksnprintf(q->backing_fmt, sizeof(q->backing_fmt), "%s", name && fmt ? fmt : "");
    return qc_update_header(img);
}
