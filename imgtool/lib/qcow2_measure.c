/*
 * qcow2_measure.c: space estimates (qemu-img measure) and in-place option
 * changes (qemu-img amend).
 *
 * The estimate follows QEMU 7.2's formulas (block/qcow2.c,
 * qcow2_calc_prealloc_size and qcow2_refcount_metadata_size) so that the
 * numbers agree byte for byte.
 */
#include "internal.h"

static uint64_t round_up(uint64_t v, uint64_t a)
{
    return div_up(v, a) * a;
}

/* Metadata plus data of a fully allocated image. */
static uint64_t prealloc_size(uint64_t size, uint64_t cs, int order, bool extl2)
{
    uint64_t meta = cs, aligned = round_up(size, cs), esz = extl2 ? 16 : 8;
    uint64_t nl2e = round_up(aligned / cs, cs / esz);
    meta += nl2e * esz;
    uint64_t nl1e = round_up(nl2e * esz / cs, cs / 8);
    meta += nl1e * 8;
    meta += qc_refcount_metadata_size((meta + aligned) / cs, cs, order, false, NULL);
    return meta + aligned;
}

int img_measure(const struct img_create_opts *o, uint64_t allocated, uint64_t *required,
                uint64_t *fully_allocated, struct img_err *err)
{
    uint64_t cs = o->cluster_size ? o->cluster_size : 65536, vsize;
    int rb = o->refcount_bits ? o->refcount_bits : 16, order = 0;
    if (o->format == IMG_FMT_RAW) {
        /* raw needs exactly the virtual size, or what is allocated. */
        *fully_allocated = o->size;
        *required = o->prealloc >= IMG_PREALLOC_FALLOC ? o->size : allocated;
        return 0;
    }
    if (cs < 512 || cs > (2u << 20) || (cs & (cs - 1)))
        return err_set(err, IMG_EINVAL,
                       "Cluster size must be a power of two between 512 and 2048k");
    /* Extended L2 entries split a cluster into 32 subclusters of at least
     * 512 bytes (qcow2.txt "Extended L2 Entries"), so clusters must be at
     * least 16 KiB; QEMU's validate_cluster_size() checks it here too. */
    if (o->extended_l2 && cs < 16384)
        return err_set(err, IMG_EINVAL,
                       "Extended L2 entries are only supported with cluster sizes of at least "
                       "16384 bytes");
    if (rb < 1 || rb > 64 || (rb & (rb - 1)))
        return err_set(err, IMG_EINVAL,
                       "Refcount width must be a power of two and may not exceed 64 bits");
    while ((1 << order) < rb)
        order++;
    /* The L1 table may not exceed QEMU's 32 MiB cap; qcow2_measure()
     * counts whole data clusters (rounded down) per L2 table. */
    uint64_t l2_tables = div_up(o->size / cs, cs / (o->extended_l2 ? 16 : 8));
    if (l2_tables * 8 > QCOW_MAX_L1_SIZE)
        return err_set(err, IMG_EINVAL,
                       "The image size is too large (try using a larger cluster size)");
    vsize = round_up(o->size, cs);
    if (o->prealloc == IMG_PREALLOC_FULL || o->prealloc == IMG_PREALLOC_FALLOC)
        allocated = vsize;
    *fully_allocated = prealloc_size(vsize, cs, order, o->extended_l2);
    /* QEMU: "Remove data clusters that are not required." */
    *required = *fully_allocated - vsize + allocated;
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
    r = qc_update_header(img);
    if (r == 0 && compat < (int)q->h.version)
        r = qc_downgrade(img);
    return r;
}
