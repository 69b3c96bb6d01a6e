/*
 * qcow2_downgrade.c: amend -o compat=0.10, turning a version 3 image into
 * a version 2 one, step by step as QEMU 7.2's qcow2_downgrade() does.
 *
 * Version 2 lacks everything the spec ("Header") adds in version 3: the
 * feature bit fields, refcount widths other than 16, and the "reads as
 * zeros" flag of a cluster (qcow2.txt "Standard Cluster Descriptor", bit 0:
 * "With version 2 ..., this is always 0").  So the image's zero clusters
 * must be turned into something version 2 can say, in the active L2 tables
 * AND in every table only a snapshot reaches: applying that snapshot later
 * would otherwise bring back an entry QEMU calls corrupt ("Zero cluster
 * entry found in pre-v3 image").
 *
 * The order of the work is what keeps a failed or interrupted downgrade
 * harmless.  Every refusal that needs no writing comes first, so a refused
 * image is left untouched.  Then the zero clusters are expanded: an
 * expanded zero cluster is an ordinary data cluster full of zeros, which a
 * version 3 reader reads exactly as it read the zero flag, so an image
 * interrupted in the middle is still a valid version 3 image with the same
 * contents.  The header is rewritten last, and only that one write makes
 * the image version 2: it is the commit point of the whole operation.
 */
#include "internal.h"

/*
 * Does an L2 entry say "reads as zeros"?  Bit 0 is the zero flag only in a
 * standard cluster descriptor; in a compressed one the same bit belongs to
 * the host offset of the compressed data (qcow2.txt "Compressed Clusters
 * Descriptor"), so a compressed entry is never a zero cluster.
 */
static bool zero_entry(uint64_t entry)
{
    return (entry & QE_ZERO) && !(entry & QE_COMPRESSED);
}

/*
 * Give one zero entry real storage: a host cluster filled with zeros.
 * `l2_refcount` is the refcount of the L2 table itself: every L1 table
 * that shares the table also shares the new cluster, so the cluster gets
 * that many references (QEMU does the same), and COPIED only when that is
 * 1 (qcow2.txt "L2 table entry", bit 63: "1 for standard clusters whose
 * refcount is exactly one").
 */
static int fill_zero_entry(struct img *img, uint64_t l2_off, uint64_t l2_index, uint64_t entry,
                           uint64_t l2_refcount, const uint8_t *zeros)
{
    struct qcow2 *q = img->q;
    /* host_off: the cluster that will hold the zeros; old_off: a cluster
     * the entry stops pointing at, whose references are dropped last. */
    uint64_t host_off = entry & QE_OFFSET, old_off = 0, host_refcount = 0;
    int r;
    if (host_off) {
        /* A preallocated zero cluster keeps its host cluster, unless
         * something outside this table also points at it (then writing
         * zeros there would change what that other reference reads). */
        if (host_off & (q->cluster_size - 1))
            return img_fail(img, IMG_ECORRUPT,
                            "Cluster allocation offset %#llx unaligned (L2 offset: %#llx, L2 "
                            "index: %#llx)",
                            (unsigned long long)host_off, (unsigned long long)l2_off,
                            (unsigned long long)l2_index);
        if ((r = qc_rc_get(img, host_off >> q->cluster_bits, &host_refcount)) < 0)
            return r;
        /* The L1 tables sharing this L2 table account for l2_refcount of
         * the cluster's references; any beyond those come from another L2
         * table (one copied on a write after a snapshot, say) that still
         * reads the old contents through this cluster. */
        if (host_refcount > l2_refcount) {
            old_off = host_off;
            host_off = 0;
        }
    }
    if (!host_off) {
        /* Refcounts first, then the zeros, then the entry (crash order:
         * an interruption leaves at worst a leaked cluster).  Had the
         * entry come first, a crash could leave it pointing at a cluster
         * whose refcount is still 0, and the next allocation would hand
         * that cluster out a second time: two owners of one cluster is
         * data corruption, where a leak only wastes space that check -r
         * gives back. */
        if ((r = qc_alloc_clusters(img, 1, &host_off)) < 0)
            return r;
        /* qc_alloc_clusters() gave the one reference of the first owner;
         * the other L1 tables sharing the L2 table add theirs. */
        if (l2_refcount > 1 &&
            (r = qc_rc_update(img, host_off >> q->cluster_bits, (int64_t)l2_refcount - 1)) < 0)
            return r;
    }
    /* The zeros go in before the entry loses its zero flag: until the entry
     * is rewritten it still reads as zeros, whatever an earlier owner left
     * in the cluster, so no crash can expose stale data to the guest. */
    if ((r = io_write(img, host_off, zeros, q->cluster_size)) < 0)
        return r;
    if ((r = qc_l2_set(img, l2_off, l2_index, host_off | (l2_refcount == 1 ? QE_COPIED : 0), 0)) <
        0)
        return r;
    /* Only now that no entry of this table points at the old cluster may
     * its references go: dropping them earlier could free a cluster that a
     * crash leaves still referenced. */
    if (old_off)
        r = qc_rc_update(img, old_off >> q->cluster_bits, -(int64_t)l2_refcount);
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
    for (uint64_t l1_index = 0; l1_index < l1_size; l1_index++) {
        uint64_t l2_off = l1[l1_index] & QE_OFFSET, l2_refcount, entry, sc_bitmap;
        uint8_t *l2_table;
        int r;
        /* An L1 entry of 0 means the whole L2 table is unallocated
         * (qcow2.txt "L1 table entry"): nothing to expand there. */
        if (!l2_off)
            continue;
        /* L2 tables are whole clusters (qcow2.txt "L1 table entry": "Must
         * be aligned to a cluster boundary"); QEMU refuses with these words
         * rather than read a table from the middle of another cluster. */
        if (l2_off & (q->cluster_size - 1))
            return img_fail(img, IMG_ECORRUPT, "L2 table offset %#llx unaligned (L1 index: %#llx)",
                            (unsigned long long)l2_off, (unsigned long long)l1_index);
        if ((r = qc_rc_get(img, l2_off >> q->cluster_bits, &l2_refcount)) < 0)
            return r;
        for (uint64_t l2_index = 0; l2_index < q->l2_entries; l2_index++) {
            /* Reload each time: the table lives in the L2 cache, and a
             * pointer into the cache is not kept across the allocations
             * and writes of fill_zero_entry() (when nothing else was
             * loaded, the load is a cache hit). */
            if ((r = qc_l2_load(img, l2_off, &l2_table)) < 0)
                return r;
            qc_l2_entry(img, l2_table, l2_index, &entry, &sc_bitmap);
            if (!zero_entry(entry))
                continue;
            if (!(entry & QE_OFFSET) && !backed)
                r = qc_l2_set(img, l2_off, l2_index, 0, 0);
            else
                /* A reachable L2 table whose refcount reads 0 is itself a
                 * corruption (check reports it); it is counted as one
                 * owner, so the new cluster gets at least the reference
                 * its entry makes. */
                r = fill_zero_entry(img, l2_off, l2_index, entry, l2_refcount ? l2_refcount : 1,
                                    zeros);
            if (r < 0)
                return r;
        }
    }
    return 0;
}

/*
 * Read a snapshot's L1 table (host byte order) into a new buffer.  The
 * table is checked first as QEMU checks it before using it, so a damaged
 * snapshot entry fails with QEMU's words instead of a read at a wild
 * offset.
 */
static int load_snap_l1(struct img *img, const struct qc_snapshot *snap, uint64_t **out)
{
    uint64_t *l1;
    uint8_t *raw;
    int r = qc_snap_l1_usable(img, snap);
    if (r < 0)
        return r;
    l1 = img_alloc(img->env, (size_t)snap->l1_size * 8 + 8);
    raw = img_alloc(img->env, (size_t)snap->l1_size * 8 + 8);
    if (!l1 || !raw)
        r = img_fail(img, IMG_ENOMEM, "Out of memory");
    if (r == 0 && snap->l1_size)
        r = io_read(img, snap->l1_offset, raw, (size_t)snap->l1_size * 8);
    /* The file holds big-endian entries (qcow2.txt "General"). */
    for (uint32_t i = 0; r == 0 && i < snap->l1_size; i++)
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
    /* One cluster of zeros, written to every cluster an entry gets. */
    uint8_t *zeros = img_alloc(img->env, q->cluster_size);
    int r;
    if (!zeros)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    memset(zeros, 0, q->cluster_size);
    r = expand_l1(img, q->l1, q->h.l1_size, zeros);
    for (int i = 0; r == 0 && i < q->nb_snaps; i++) {
        uint64_t *snap_l1;
        r = load_snap_l1(img, &q->snaps[i], &snap_l1);
        if (r == 0) {
            r = expand_l1(img, snap_l1, q->snaps[i].l1_size, zeros);
            img_free(img->env, snap_l1);
        }
    }
    img_free(img->env, zeros);
    return r;
}

/* Is any cluster that an L1 table reaches compressed?  Stops at the first
 * one found: one is enough to refuse. */
static int l1_has_compressed(struct img *img, const uint64_t *l1, uint64_t l1_size, bool *found)
{
    struct qcow2 *q = img->q;
    for (uint64_t l1_index = 0; l1_index < l1_size && !*found; l1_index++) {
        uint64_t l2_off = l1[l1_index] & QE_OFFSET, entry, sc_bitmap;
        uint8_t *l2_table;
        int r;
        if (!l2_off)
            continue;
        /* Only reading here, so one load serves the whole table. */
        if ((r = qc_l2_load(img, l2_off, &l2_table)) < 0)
            return r;
        for (uint64_t l2_index = 0; l2_index < q->l2_entries && !*found; l2_index++) {
            qc_l2_entry(img, l2_table, l2_index, &entry, &sc_bitmap);
            /* Bit 62 (qcow2.txt "L2 table entry"): 1 for compressed. */
            *found = (entry & QE_COMPRESSED) != 0;
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
        uint64_t *snap_l1;
        r = load_snap_l1(img, &q->snaps[i], &snap_l1);
        if (r == 0) {
            r = l1_has_compressed(img, snap_l1, q->snaps[i].l1_size, found);
            img_free(img->env, snap_l1);
        }
    }
    return r;
}

/*
 * The steps and the messages of QEMU's qcow2_downgrade(), in its order, so
 * that an image qemu-img refuses is refused here with the same words and
 * at the same point, and one it converts ends up with the same header.
 */
int qc_downgrade(struct img *img)
{
    struct qcow2 *q = img->q;
    uint8_t field[8];
    bool has_comp;
    int r;
    /* Version 2 knows only 16-bit refcounts (qcow2.txt "Header",
     * refcount_order: "For version 2 images, the order is always assumed
     * to be 4"). */
    if (q->rc_bits != 16)
        return img_fail(img, IMG_ENOTSUP, "compat=0.10 requires refcount_bits=16");
    /* Version 2 has no feature bits, so no external data file. */
    if (q->data_file)
        return img_fail(img, IMG_ENOTSUP, "Cannot downgrade an image with a data file");
    /* A v2 reader takes the disk size of a snapshot from the header and
     * its VM state size from the 32-bit field (qcow2.txt "Snapshot table
     * entry": the 64-bit size and the disk size are version 3 extra data).
     * A snapshot these two cannot describe would change meaning. */
    for (int i = 0; i < q->nb_snaps; i++)
        if (q->snaps[i].vm_state_size > 0xffffffffull || q->snaps[i].disk_size != img->size)
            return img_fail(img, IMG_ENOTSUP, "Internal snapshots prevent downgrade of image");
    /* The refcounts are exact (a dirty image was repaired when it was
     * opened read-write), so the dirty bit can simply go.  It is written
     * at once, as QEMU's qcow2_mark_clean() does before the other steps,
     * rather than with the rest of the header at the end. */
    if (q->h.incompatible_features & QF_INCOMPAT_DIRTY) {
        q->h.incompatible_features &= ~QF_INCOMPAT_DIRTY;
        q->dirty_marked = false;
        put64(field, q->h.incompatible_features);
        if ((r = io_write(img, QH_INCOMPAT, field, 8)) < 0)
            return r;
    }
    /* Any other incompatible feature (corrupt, external data file,
     * extended L2 entries: qcow2.txt "Header", incompatible_features)
     * changes how the image must be read, and version 2 has no field to
     * say so.  Only the compression type is dealt with below. */
    if (q->h.incompatible_features & ~QF_INCOMPAT_COMPRESSION)
        return img_fail(
            img, IMG_ENOTSUP, "Cannot downgrade an image with incompatible features 0x%llx set",
            (unsigned long long)(q->h.incompatible_features & ~QF_INCOMPAT_COMPRESSION));
    /* Compatible features may be ignored by any reader, autoclear ones
     * must be cleared by one that does not maintain them (qcow2.txt
     * "Header", compatible_features and autoclear_features).  Only the
     * copy in memory changes here; the header written at the end has no
     * room for either field. */
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
    /* Version 2 compresses with zlib only (qcow2.txt "Additional fields
     * (version 3 and higher)", compression_type).  A zstd image may go
     * back only if no cluster is compressed, as nothing would be left to
     * read with the wrong algorithm. */
    if (q->h.incompatible_features & QF_INCOMPAT_COMPRESSION) {
        if ((r = has_compressed(img, &has_comp)) < 0)
            return img_fail(img, IMG_EINVAL, "Failed to check block status");
        if (has_comp)
            return img_fail(img, IMG_ENOTSUP,
                            "Cannot downgrade an image with zstd compression type and existing "
                            "compressed clusters");
        q->h.incompatible_features &= ~QF_INCOMPAT_COMPRESSION;
        q->h.compression_type = 0;
    }
    /* The commit point: qc_update_header() writes a 72-byte version 2
     * header (qcow2.txt "Header": "For version 2, the header is exactly
     * 72 bytes in length"), which drops every version 3 field at once. */
    q->h.version = 2;
    return qc_update_header(img);
}
