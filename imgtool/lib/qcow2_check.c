/*
 * qcow2_check.c: consistency check and repair (qemu-img check [-r]).
 *
 * The check recomputes every host cluster's reference count from scratch by
 * walking everything that can point at a cluster (spec, "Host cluster
 * management"): the header cluster, the active L1 table and its L2 tables
 * and data clusters, each snapshot's L1 table with its tree, the snapshot
 * table, the refcount table and its blocks.  The recomputed counts are then
 * compared with the stored ones, with QEMU 7.2's wording for each finding:
 * a stored count too high is a leak (harmless, wastes space), too low is a
 * corruption (a later free would release a cluster still in use).
 */
#include "internal.h"

struct chk {
    struct img *img;
    struct img_check_result *res;
    uint32_t *ref; /* recomputed reference count per host cluster */
    uint64_t nb;   /* clusters in the file */
};

static void report(struct img *img, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(struct img *img, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    if (!img->env->report)
        return;
    va_start(ap, fmt);
    kvsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    img->env->report(img->env->ctx, line);
}

/* Count one more reference to every cluster of [off, off+len). */
static void inc_range(struct chk *c, uint64_t off, uint64_t len)
{
    struct qcow2 *q = c->img->q;
    if (!len)
        return;
    for (uint64_t i = off >> q->cluster_bits; i <= (off + len - 1) >> q->cluster_bits; i++) {
        if (i >= c->nb) {
            report(c->img, "ERROR: cluster %llu is beyond the end of the image file",
                   (unsigned long long)i);
            c->res->corruptions++;
            return;
        }
        if (c->ref[i] != UINT32_MAX)
            c->ref[i]++;
    }
}

/* Walk one L2 table; `active` adds the allocation statistics. */
static int walk_l2(struct chk *c, uint64_t l2off, bool active)
{
    struct qcow2 *q = c->img->q;
    uint64_t next = 0;
    uint8_t *t;
    for (uint64_t i = 0; i < q->l2_entries; i++) {
        uint64_t e, bm;
        if (qc_l2_load(c->img, l2off, &t) < 0) {
            c->res->check_errors++;
            return -1;
        }
        qc_l2_entry(c->img, t, i, &e, &bm);
        if (e & QE_COMPRESSED) {
            if (q->ext_l2 && bm) {
                report(c->img, "ERROR: compressed cluster %llu has a non-zero subcluster bitmap",
                       (unsigned long long)i);
                c->res->corruptions++;
            }
            inc_range(c, qc_comp_off(q, e) & ~511ull,
                      qc_comp_len(q, e) + (qc_comp_off(q, e) & 511));
            if (active) {
                c->res->allocated_clusters++;
                c->res->compressed_clusters++;
                /* Compressed clusters count as fragmented, as in QEMU. */
                c->res->fragmented_clusters++;
            }
            continue;
        }
        uint64_t host = e & QE_OFFSET;
        if (!host)
            continue;
        if (host & (q->cluster_size - 1)) {
            report(c->img,
                   "ERROR offset=%llx: Cluster is not properly aligned; L2 entry corrupted.",
                   (unsigned long long)host);
            c->res->corruptions++;
            continue;
        }
        if (active) {
            c->res->allocated_clusters++;
            if (next && host != next)
                c->res->fragmented_clusters++;
            next = host + q->cluster_size;
        }
        inc_range(c, host, q->cluster_size);
    }
    return 0;
}

static int walk_l1(struct chk *c, uint64_t l1off, uint64_t l1n, const uint64_t *mem, bool active)
{
    struct qcow2 *q = c->img->q;
    inc_range(c, l1off, l1n * 8);
    for (uint64_t i = 0; i < l1n; i++) {
        uint64_t e;
        if (mem) {
            e = mem[i];
        } else {
            uint8_t b[8];
            if (io_read(c->img, l1off + i * 8, b, 8) < 0) {
                c->res->check_errors++;
                return -1;
            }
            e = be64(b);
        }
        uint64_t l2 = e & QE_OFFSET;
        if (!l2)
            continue;
        if (l2 & (q->cluster_size - 1) || l2 >= c->nb << q->cluster_bits) {
            report(c->img,
                   "ERROR l2_offset=%llx: Table is not cluster aligned or outside the "
                   "image; L1 entry corrupted",
                   (unsigned long long)l2);
            c->res->corruptions++;
            continue;
        }
        inc_range(c, l2, q->cluster_size);
        walk_l2(c, l2, active);
    }
    return 0;
}

/* Size in bytes of the on-disk snapshot table as loaded. */
static uint64_t snap_table_size(struct qcow2 *q)
{
    uint64_t sz = 0;
    for (int i = 0; i < q->nb_snaps; i++)
        sz = (sz + QS_FIXED_LEN + q->snaps[i].extra_size + strlen(q->snaps[i].id) +
              strlen(q->snaps[i].name) + 7) &
             ~7ull;
    return sz;
}

/* COPIED must be set exactly on entries whose cluster has refcount 1. */
static int check_copied(struct chk *c, unsigned fix)
{
    struct img *img = c->img;
    struct qcow2 *q = img->q;
    for (uint64_t i = 0; i < q->h.l1_size; i++) {
        uint64_t l2 = q->l1[i] & QE_OFFSET, rc;
        uint8_t *t;
        if (!l2 || (l2 >> q->cluster_bits) >= c->nb || (l2 & (q->cluster_size - 1)))
            continue;
        if (qc_rc_get(img, l2 >> q->cluster_bits, &rc) < 0)
            return -1;
        if ((rc == 1) != !!(q->l1[i] & QE_COPIED)) {
            report(img, "%s OFLAG_COPIED L2 cluster: l1_index=%llu l1_entry=%llx refcount=%llu",
                   (fix & IMG_CHECK_FIX_ERRORS) ? "Repairing" : "ERROR", (unsigned long long)i,
                   (unsigned long long)q->l1[i], (unsigned long long)rc);
            if (fix & IMG_CHECK_FIX_ERRORS) {
                uint8_t b[8];
                uint64_t ne = rc == 1 ? (q->l1[i] | QE_COPIED) : (q->l1[i] & ~QE_COPIED);
                put64(b, ne);
                if (io_write(img, q->h.l1_table_offset + i * 8, b, 8) < 0)
                    return -1;
                q->l1[i] = ne;
                c->res->corruptions_fixed++;
            } else {
                c->res->corruptions++;
            }
        }
        for (uint64_t j = 0; j < q->l2_entries; j++) {
            uint64_t e, bm;
            if (qc_l2_load(img, l2, &t) < 0)
                return -1;
            qc_l2_entry(img, t, j, &e, &bm);
            uint64_t host = e & QE_OFFSET;
            if ((e & QE_COMPRESSED) || !host || (host & (q->cluster_size - 1)) ||
                (host >> q->cluster_bits) >= c->nb)
                continue;
            if (qc_rc_get(img, host >> q->cluster_bits, &rc) < 0)
                return -1;
            if ((rc == 1) != !!(e & QE_COPIED)) {
                report(img, "%s OFLAG_COPIED data cluster: l2_entry=%llx refcount=%llu",
                       (fix & IMG_CHECK_FIX_ERRORS) ? "Repairing" : "ERROR", (unsigned long long)e,
                       (unsigned long long)rc);
                if ((fix & IMG_CHECK_FIX_ERRORS) && (q->l1[i] & QE_COPIED)) {
                    if (qc_l2_set(img, l2, j, rc == 1 ? e | QE_COPIED : e & ~QE_COPIED, bm) < 0)
                        return -1;
                    c->res->corruptions_fixed++;
                } else {
                    c->res->corruptions++;
                }
            }
        }
    }
    return 0;
}

int img_check(struct img *img, unsigned fix, struct img_check_result *res)
{
    struct qcow2 *q = img->q;
    struct chk c;
    uint64_t fsz, highest = 0;
    int r = 0;

    memset(res, 0, sizeof(*res));
    if (!q)
        return img_fail(img, IMG_ENOTSUP, "This image format does not support checks");
    if (fix && !img->rw)
        return img_fail(img, IMG_EROFS, "Image '%s' must be opened read-write to repair it",
                        img->name);
    if (io_size(img, &fsz) < 0)
        return -IMG_EIO;
    c.img = img;
    c.res = res;
    c.nb = div_up(fsz, q->cluster_size);
    c.ref = img_alloc(img->env, (size_t)(c.nb ? c.nb : 1) * sizeof(uint32_t));
    if (!c.ref)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    res->total_clusters = div_up(img->size, q->cluster_size);

    /* 1. Count every reference. */
    inc_range(&c, 0, q->cluster_size);
    walk_l1(&c, q->h.l1_table_offset, q->h.l1_size, q->l1, true);
    for (int i = 0; i < q->nb_snaps; i++)
        walk_l1(&c, q->snaps[i].l1_offset, q->snaps[i].l1_size, NULL, false);
    if (q->nb_snaps)
        inc_range(&c, q->h.snapshots_offset, snap_table_size(q));
    inc_range(&c, q->h.refcount_table_offset,
              (uint64_t)q->h.refcount_table_clusters << q->cluster_bits);
    for (uint64_t i = 0; i < q->rt_entries; i++)
        if (q->rt[i] & ~0x1ffull)
            inc_range(&c, q->rt[i] & ~0x1ffull, q->cluster_size);

    /* 2. Compare with the stored counts.  While repairing, new refcount
     * blocks must not land on clusters that are in use but recorded as
     * free, so allocation is pushed past the end of the file. */
    if (fix)
        q->free_hint = c.nb > q->alloc_end ? c.nb : q->alloc_end;
    for (uint64_t i = 0; i < c.nb; i++) {
        uint64_t rc, ref = c.ref[i];
        if (qc_rc_get(img, i, &rc) < 0) {
            res->check_errors++;
            continue;
        }
        if (rc || ref)
            highest = i;
        if (rc == ref)
            continue;
        bool can =
            (rc > ref && (fix & IMG_CHECK_FIX_LEAKS)) || (rc < ref && (fix & IMG_CHECK_FIX_ERRORS));
        report(img, "%s cluster %llu refcount=%llu reference=%llu",
               can        ? "Repairing"
               : rc < ref ? "ERROR"
                          : "Leaked",
               (unsigned long long)i, (unsigned long long)rc, (unsigned long long)ref);
        if (can) {
            if (qc_rc_set(img, i, ref) < 0) {
                res->check_errors++;
                continue;
            }
            if (rc > ref)
                res->leaks_fixed++;
            else
                res->corruptions_fixed++;
        } else if (rc < ref) {
            res->corruptions++;
        } else {
            res->leaks++;
        }
    }
    /* 3. The COPIED flags of the active tree. */
    if (check_copied(&c, fix) < 0)
        res->check_errors++;
    res->image_end_offset = (highest + 1) << q->cluster_bits;
    if (fix)
        q->free_hint = 0;
    img_free(img->env, c.ref);
    return r;
}

/*
 * Opening a dirty lazy-refcounts image read-write: the refcounts may be
 * stale, so they are repaired silently before use, then the dirty bit is
 * cleared (spec, "incompatible_features" bit 0).
 */
int qc_repair_dirty(struct img *img)
{
    struct img_check_result res;
    struct img_env quiet = *img->env;
    const struct img_env *saved = img->env;
    uint8_t b[8];
    int r;
    quiet.report = NULL;
    img->env = &quiet;
    r = img_check(img, IMG_CHECK_FIX_LEAKS | IMG_CHECK_FIX_ERRORS, &res);
    img->env = saved;
    if (r < 0)
        return r;
    if (res.corruptions)
        return img_fail(img, IMG_ECORRUPT, "Could not repair dirty image '%s'", img->name);
    img->q->h.incompatible_features &= ~QF_INCOMPAT_DIRTY;
    put64(b, img->q->h.incompatible_features);
    return io_write(img, QH_INCOMPAT, b, 8);
}
