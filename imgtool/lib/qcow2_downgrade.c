/*
 * qcow2_downgrade.c: amend -o compat=0.10, turning a version 3 image into
 * a version 2 one, step by step as QEMU 7.2's qcow2_downgrade() does.
 *
 * Version 2 lacks everything the spec ("Header") adds in version 3: the
 * feature bit fields, refcount widths other than 16, and the "reads as
 * zeros" flag of a cluster (qcow2.txt "Cluster mapping", Standard Cluster
 * Descriptor bit 0: "With version 2 ..., this is always 0").  So the
 * image's zero clusters must be turned into something version 2 can say,
 * in the active L2 tables AND in every table only a snapshot reaches:
 * applying that snapshot later would otherwise bring back an entry QEMU
 * calls corrupt ("Zero cluster entry found in pre-v3 image").
 */
#include "internal.h"

/* Does an L2 entry say "reads as zeros" (and is it not compressed)? */
static bool zero_entry(uint64_t e)
{
    return (e & QE_ZERO) && !(e & QE_COMPRESSED);
}

/*
 * Give one zero entry real storage: a host cluster filled with zeros.
 * `l2rc` is the refcount of the L2 table itself: every L1 table that
 * shares the table also shares the new cluster, so the cluster gets that
 * many references (QEMU does the same), and COPIED only when that is 1
 * (qcow2.txt "Cluster mapping", L2 table entry bit 63).
 */
static int fill_zero_entry(struct img *img, uint64_t l2off, uint64_t j, uint64_t e, uint64_t l2rc,
                           const uint8_t *zeros)
{
    struct qcow2 *q = img->q;
    uint64_t host = e & QE_OFFSET, drop = 0, rc = 0;
    int r;
    if (host) {
        /* A preallocated zero cluster keeps its host cluster, unless
         * something outside this table also points at it (then writing
         * zeros there would change what that other reference reads). */
        if (host & (q->cluster_size - 1))
            return img_fail(img, IMG_ECORRUPT,
                            "Cluster allocation offset %#llx unaligned (L2 offset: %#llx, L2 "
                            "index: %#llx)",
                            (unsigned long long)host, (unsigned long long)l2off,
                            (unsigned long long)j);
        if ((r = qc_rc_get(img, host >> q->cluster_bits, &rc)) < 0)
            return r;
        if (rc > l2rc) {
            drop = host;
            host = 0;
        }
    }
    if (!host) {
        /* Refcounts first, then the zeros, then the entry (crash order:
         * an interruption leaves at worst a leaked cluster). */
        if ((r = qc_alloc_clusters(img, 1, &host)) < 0)
            return r;
        if (l2rc > 1 && (r = qc_rc_update(img, host >> q->cluster_bits, (int64_t)l2rc - 1)) < 0)
            return r;
    }
    if ((r = io_write(img, host, zeros, q->cluster_size)) < 0)
        return r;
    if ((r = qc_l2_set(img, l2off, j, host | (l2rc == 1 ? QE_COPIED : 0), 0)) < 0)
        return r;
    if (drop)
        r = qc_rc_update(img, drop >> q->cluster_bits, -(int64_t)l2rc);
    return r;
}

/* Expand the zero entries of every L2 table an L1 table reaches. */
static int expand_l1(struct img *img, const uint64_t *l1, uint64_t l1_size, const uint8_t *zeros)
{
    struct qcow2 *q = img->q;
    /* Without a backing file an unallocated cluster reads as zeros too
     * (qcow2.txt "Cluster mapping": "If there is no backing file ... they
     * shall read zeros"), so a zero entry without a host cluster simply
     * becomes unallocated.  The image's own backing name decides, not
     * whether this handle opened the backing file. */
    bool backed = img->backing || q->backing_file[0];
    for (uint64_t i = 0; i < l1_size; i++) {
        uint64_t l2off = l1[i] & QE_OFFSET, l2rc, e, bm;
        uint8_t *t;
        int r;
        if (!l2off)
            continue;
        if (l2off & (q->cluster_size - 1))
            return img_fail(img, IMG_ECORRUPT, "L2 table offset %#llx unaligned (L1 index: %#llx)",
                            (unsigned long long)l2off, (unsigned long long)i);
        if ((r = qc_rc_get(img, l2off >> q->cluster_bits, &l2rc)) < 0)
            return r;
        for (uint64_t j = 0; j < q->l2_entries; j++) {
            /* Reload each time: allocating may evict the table. */
            if ((r = qc_l2_load(img, l2off, &t)) < 0)
                return r;
            qc_l2_entry(img, t, j, &e, &bm);
            if (!zero_entry(e))
                continue;
            if (!(e & QE_OFFSET) && !backed)
                r = qc_l2_set(img, l2off, j, 0, 0);
            else
                r = fill_zero_entry(img, l2off, j, e, l2rc ? l2rc : 1, zeros);
            if (r < 0)
                return r;
        }
    }
    return 0;
}

/* Read a snapshot's L1 table (host byte order) into a new buffer. */
static int load_snap_l1(struct img *img, const struct qc_snapshot *s, uint64_t **out)
{
    uint64_t *l1;
    uint8_t *raw;
    int r = qc_snap_l1_usable(img, s);
    if (r < 0)
        return r;
    l1 = img_alloc(img->env, (size_t)s->l1_size * 8 + 8);
    raw = img_alloc(img->env, (size_t)s->l1_size * 8 + 8);
    if (!l1 || !raw)
        r = img_fail(img, IMG_ENOMEM, "Out of memory");
    if (r == 0 && s->l1_size)
        r = io_read(img, s->l1_offset, raw, (size_t)s->l1_size * 8);
    for (uint32_t i = 0; r == 0 && i < s->l1_size; i++)
        l1[i] = be64(raw + i * 8);
    img_free(img->env, raw);
    if (r < 0) {
        img_free(img->env, l1);
        return r;
    }
    *out = l1;
    return 0;
}

/* The active tree first, then each snapshot's (QEMU's order: a table
 * shared by both is expanded once, the second visit finds no zeros). */
static int expand_zero_clusters(struct img *img)
{
    struct qcow2 *q = img->q;
    uint8_t *zeros = img_alloc(img->env, q->cluster_size);
    int r;
    if (!zeros)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    memset(zeros, 0, q->cluster_size);
    r = expand_l1(img, q->l1, q->h.l1_size, zeros);
    for (int i = 0; r == 0 && i < q->nb_snaps; i++) {
        uint64_t *l1;
        r = load_snap_l1(img, &q->snaps[i], &l1);
        if (r == 0) {
            r = expand_l1(img, l1, q->snaps[i].l1_size, zeros);
            img_free(img->env, l1);
        }
    }
    img_free(img->env, zeros);
    return r;
}

/* Is any cluster that an L1 table reaches compressed? */
static int l1_has_compressed(struct img *img, const uint64_t *l1, uint64_t l1_size, bool *found)
{
    struct qcow2 *q = img->q;
    for (uint64_t i = 0; i < l1_size && !*found; i++) {
        uint64_t l2off = l1[i] & QE_OFFSET, e, bm;
        uint8_t *t;
        int r;
        if (!l2off)
            continue;
        if ((r = qc_l2_load(img, l2off, &t)) < 0)
            return r;
        for (uint64_t j = 0; j < q->l2_entries && !*found; j++) {
            qc_l2_entry(img, t, j, &e, &bm);
            *found = (e & QE_COMPRESSED) != 0;
        }
    }
    return 0;
}

/*
 * QEMU looks at the active disk only; a snapshot's compressed clusters
 * would be just as unreadable once the compression type field is gone
 * (version 2 always means zlib), so imgtool looks at the snapshots too.
 */
static int has_compressed(struct img *img, bool *found)
{
    struct qcow2 *q = img->q;
    int r;
    *found = false;
    r = l1_has_compressed(img, q->l1, q->h.l1_size, found);
    for (int i = 0; r == 0 && !*found && i < q->nb_snaps; i++) {
        uint64_t *l1;
        r = load_snap_l1(img, &q->snaps[i], &l1);
        if (r == 0) {
            r = l1_has_compressed(img, l1, q->snaps[i].l1_size, found);
            img_free(img->env, l1);
        }
    }
    return r;
}

int qc_downgrade(struct img *img)
{
    struct qcow2 *q = img->q;
    uint8_t b[8];
    bool comp;
    int r;
    /* Version 2 knows only 16-bit refcounts (qcow2.txt "Header",
     * refcount_order: "For version 2 images, the order is always 4"). */
    if (q->rc_bits != 16)
        return img_fail(img, IMG_ENOTSUP, "compat=0.10 requires refcount_bits=16");
    /* A v2 reader takes the disk size of a snapshot from the header and
     * its VM state size from the 32-bit field (qcow2.txt "Snapshots": the
     * 64-bit size and the disk size are version 3 extra data). */
    for (int i = 0; i < q->nb_snaps; i++)
        if (q->snaps[i].vm_state_size > 0xffffffffull || q->snaps[i].disk_size != img->size)
            return img_fail(img, IMG_ENOTSUP, "Internal snapshots prevent downgrade of image");
    /* The refcounts are exact (a dirty image was repaired when it was
     * opened read-write), so the dirty bit can simply go. */
    if (q->h.incompatible_features & QF_INCOMPAT_DIRTY) {
        q->h.incompatible_features &= ~QF_INCOMPAT_DIRTY;
        q->dirty_marked = false;
        put64(b, q->h.incompatible_features);
        if ((r = io_write(img, QH_INCOMPAT, b, 8)) < 0)
            return r;
    }
    if (q->h.incompatible_features & ~QF_INCOMPAT_COMPRESSION)
        return img_fail(
            img, IMG_ENOTSUP, "Cannot downgrade an image with incompatible features 0x%llx set",
            (unsigned long long)(q->h.incompatible_features & ~QF_INCOMPAT_COMPRESSION));
    /* Compatible features may be ignored by any reader, autoclear ones
     * must be cleared by one that does not maintain them. */
    q->h.compatible_features = 0;
    q->h.autoclear_features = 0;
    r = expand_zero_clusters(img);
    if (r < 0) {
        /* QEMU adds the cause after its own words; img->err is the
         * destination, so the cause is copied out first. */
        char why[sizeof(img->err)];
        ksnprintf(why, sizeof(why), "%s", img->err);
        return img_fail(img, -r, "Failed to turn zero into data clusters: %s", why);
    }
    if (q->h.incompatible_features & QF_INCOMPAT_COMPRESSION) {
        if ((r = has_compressed(img, &comp)) < 0)
            return img_fail(img, IMG_EINVAL, "Failed to check block status");
        if (comp)
            return img_fail(img, IMG_ENOTSUP,
                            "Cannot downgrade an image with zstd compression type and existing "
                            "compressed clusters");
        q->h.incompatible_features &= ~QF_INCOMPAT_COMPRESSION;
        q->h.compression_type = 0;
    }
    q->h.version = 2;
    return qc_update_header(img);
}
