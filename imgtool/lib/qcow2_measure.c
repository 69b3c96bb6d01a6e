/*
 * qcow2_measure.c: space estimates (qemu-img measure) and in-place option
 * changes (qemu-img amend).
 *
 * The estimate follows QEMU 7.2's formulas (block/qcow2.c,
 * qcow2_calc_prealloc_size and qcow2_refcount_metadata_size) so that the
 * numbers agree byte for byte.  Those formulas are generous on purpose:
 * they count whole tables and a header cluster, never less than a real
 * image of that size needs, so a user who creates a volume of the measured
 * size can always fit the image.  Matching them rather than computing the
 * exact size keeps imgtool's answers interchangeable with qemu-img's in
 * scripts that size volumes from them.
 *
 * amend lives here too because it shares the option checks and changes
 * only what the header and the refcount width describe; the work it may
 * need is done elsewhere (qc_snap_upgrade(), qc_change_refcount_order(),
 * qc_downgrade()).
 */
#include "internal.h"

/* v rounded up to a multiple of a. */
static uint64_t round_up(uint64_t v, uint64_t a)
{
    return div_up(v, a) * a;
}

/*
 * Metadata plus data of a fully allocated image of `size` bytes, as
 * qcow2_calc_prealloc_size() counts it: the header cluster, whole L2
 * tables for every data cluster (qcow2.txt "Cluster mapping"), an L1 table
 * rounded to whole clusters, then the refcount structure for all of that
 * (qcow2.txt "Host cluster management"), which must count itself too.
 */
static uint64_t prealloc_size(uint64_t size, uint64_t cluster_size, int refcount_order,
                              bool extended_l2)
{
    uint64_t meta = cluster_size, aligned = round_up(size, cluster_size);
    uint64_t l2_entry_size = extended_l2 ? 16 : 8;
    /* L2 entries: one per data cluster, rounded to whole L2 tables. */
    uint64_t l2_entries = round_up(aligned / cluster_size, cluster_size / l2_entry_size);
    meta += l2_entries * l2_entry_size;
    /* L1 entries: one per L2 table, rounded to whole clusters. */
    uint64_t l1_entries = round_up(l2_entries * l2_entry_size / cluster_size, cluster_size / 8);
    meta += l1_entries * 8;
    /* Refcounts for every cluster so far, and for the refcount structure
     * itself (QEMU's formula without the margin for growth: a fully
     * allocated image does not grow). */
    meta += qc_refcount_metadata_size((meta + aligned) / cluster_size, cluster_size, refcount_order,
                                      false, NULL);
    return meta + aligned;
}

/*
 * qemu-img measure's two numbers for a new image with options o holding
 * `allocated` bytes of data: the size it needs now (required) and once
 * every cluster is written (fully_allocated).  The options are checked
 * with qcow2_measure()'s messages, which differ from create's in places.
 */
int img_measure(const struct img_create_opts *o, uint64_t allocated, uint64_t *required,
                uint64_t *fully_allocated, struct img_err *err)
{
    uint64_t cluster_size = o->cluster_size ? o->cluster_size : 65536, virtual_size;
    int refcount_bits = o->refcount_bits ? o->refcount_bits : 16, refcount_order = 0;
    if (o->format == IMG_FMT_RAW) {
        /* raw needs exactly the virtual size, or what is allocated. */
        *fully_allocated = o->size;
        *required = o->prealloc >= IMG_PREALLOC_FALLOC ? o->size : allocated;
        return 0;
    }
    /* qcow2.txt "Header", cluster_bits: 512 bytes to QEMU's 2 MiB limit. */
    if (cluster_size < 512 || cluster_size > (2u << 20) || (cluster_size & (cluster_size - 1)))
        return err_set(err, IMG_EINVAL,
                       "Cluster size must be a power of two between 512 and 2048k");
    /* Extended L2 entries split a cluster into 32 subclusters of at least
     * 512 bytes (qcow2.txt "Extended L2 Entries"), so clusters must be at
     * least 16 KiB; QEMU's validate_cluster_size() checks it here too. */
    if (o->extended_l2 && cluster_size < 16384)
        return err_set(err, IMG_EINVAL,
                       "Extended L2 entries are only supported with cluster sizes of at least "
                       "16384 bytes");
    if (refcount_bits < 1 || refcount_bits > 64 || (refcount_bits & (refcount_bits - 1)))
        return err_set(err, IMG_EINVAL,
                       "Refcount width must be a power of two and may not exceed 64 bits");
    /* The header stores the width as its log (refcount_order). */
    while ((1 << refcount_order) < refcount_bits)
        refcount_order++;
    /* The L1 table may not exceed QEMU's 32 MiB cap; qcow2_measure()
     * counts whole data clusters (rounded down) per L2 table. */
    uint64_t l2_tables = div_up(o->size / cluster_size, cluster_size / (o->extended_l2 ? 16 : 8));
    if (l2_tables * 8 > QCOW_MAX_L1_SIZE)
        return err_set(err, IMG_EINVAL,
                       "The image size is too large (try using a larger cluster size)");
    virtual_size = round_up(o->size, cluster_size);
    /* Preallocated data clusters are required from the start; metadata
     * preallocation counts as metadata only, as in QEMU. */
    if (o->prealloc == IMG_PREALLOC_FULL || o->prealloc == IMG_PREALLOC_FALLOC)
        allocated = virtual_size;
    *fully_allocated = prealloc_size(virtual_size, cluster_size, refcount_order, o->extended_l2);
    /* QEMU: "Remove data clusters that are not required." */
    *required = *fully_allocated - virtual_size + allocated;
    return 0;
}

/*
 * amend: version changes (1.1 <-> 0.10), lazy_refcounts, backing file, in
 * QEMU 7.2's order (qcow2_amend_options): upgrade first, then the backing
 * file and lazy refcounts, the downgrade last (qcow2_downgrade.c), so an
 * option that needs version 3 is dealt with before the version goes.
 */
int img_amend(struct img *img, const struct img_create_opts *o)
{
    struct qcow2 *q = img->q;
    int r;
    /* Refusals first, before anything is written: an amend that cannot be
     * done as a whole is not started. */
    if (!q)
        return img_fail(img, IMG_ENOTSUP, "Format driver 'raw' does not support option amendment");
    if (!img->rw)
        return img_fail(img, IMG_EROFS, "Image '%s' is opened read-only", img->name);
    if (o->cluster_size && o->cluster_size != q->cluster_size)
        return img_fail(img, IMG_ENOTSUP, "Changing the cluster size is not supported");
    if (o->refcount_bits && (o->refcount_bits < 1 || o->refcount_bits > 64 ||
                             (o->refcount_bits & (o->refcount_bits - 1))))
        return img_fail(img, IMG_EINVAL,
                        "Refcount width must be a power of two and may not exceed 64 bits");
    if (o->extended_l2 && !q->ext_l2)
        return img_fail(img, IMG_ENOTSUP, "Toggling extended L2 entries is not supported");
    /* An external data file can be renamed (or its name dropped), and the
     * raw promise given up, but neither can be added to an image: QEMU's
     * qcow2_amend_options() words. */
    if (o->data_file && !q->data_file)
        return img_fail(img, IMG_EINVAL,
                        "data-file can only be set for images that use an external data file");
    if (o->data_file_raw && !q->data_raw)
        return img_fail(img, IMG_EINVAL, "data-file-raw cannot be set on existing images");
    /* The wanted version: 0 in o means "keep the image's". */
    int compat = o->compat ? o->compat : (int)q->h.version;
    /* The lazy refcounts bit lives in the compatible features (qcow2.txt
     * "Header", compatible_features bit 0), which version 2 lacks.
     * o->lazy_refcounts is the wanted state; only a change is checked. */
    bool was_lazy = (q->h.compatible_features & QF_COMPAT_LAZY_REFCOUNTS) != 0;
    bool lazy = o->lazy_refcounts;
    if (lazy && !was_lazy && compat < 3)
        return img_fail(img, IMG_EINVAL,
                        "Lazy refcounts only supported with compatibility level 1.1 and "
                        "above (use compat=1.1 or greater)");
    if (compat >= 3 && q->h.version < 3) {
        /* Snapshot entries need their version-3 extra data first. */
        q->h.version = 3;
        r = qc_snap_upgrade(img);
        if (r < 0)
            return r;
    }
    /* A new refcount width after an upgrade and before a downgrade, as in
     * QEMU's qcow2_amend_options(); version 2 knows only 16 bits (qcow2.txt
     * "Header": refcount_order is a version 3 field). */
    if (o->refcount_bits && o->refcount_bits != q->rc_bits) {
        if (compat < 3 && o->refcount_bits != 16)
            return img_fail(img, IMG_EINVAL,
                            "Refcount widths other than 16 bits require compatibility level 1.1 "
                            "or above (use compat=1.1 or greater)");
        r = qc_change_refcount_order(img, o->refcount_bits);
        if (r < 0)
            return r;
    }
    /* The data file's name and raw flag, the backing file: in memory
     * here; the header write below stores them with the feature bits. */
    if (o->data_file && (r = qc_data_set_name(img, o->data_file)) < 0)
        return r;
    if (!o->data_file_raw && q->data_raw) {
        q->data_raw = false;
        q->h.autoclear_features &= ~QF_AUTOCLEAR_DATA_RAW;
    }
    if (o->backing_file) {
        ksnprintf(q->backing_file, sizeof(q->backing_file), "%s", o->backing_file);
        ksnprintf(q->backing_fmt, sizeof(q->backing_fmt), "%s",
                  o->backing_fmt ? o->backing_fmt : "");
    }
    if (lazy != was_lazy) {
        /* Switching lazy refcounts off needs a clean image first; ours
         * are exact (a dirty image was repaired at open), so clearing the
         * dirty bit along with the feature is enough. */
        if (lazy) {
            q->h.compatible_features |= QF_COMPAT_LAZY_REFCOUNTS;
        } else {
            q->h.compatible_features &= ~QF_COMPAT_LAZY_REFCOUNTS;
            q->h.incompatible_features &= ~QF_INCOMPAT_DIRTY;
            q->dirty_marked = false;
        }
    }
    /* One header write for all of the above; the downgrade then rewrites
     * the image's version 3 parts and the header once more. */
    r = qc_update_header(img);
    if (r == 0 && compat < (int)q->h.version)
        r = qc_downgrade(img);
    return r;
}
