/*
 * qcow2_check.c: consistency check and repair (qemu-img check [-r]).
 *
 * The check recomputes every host cluster's reference count from scratch by
 * walking everything that can point at a cluster (qcow2.txt "Host cluster
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
    uint64_t nb;   /* clusters in the file (or counted past its end) */
    uint64_t flen; /* bytes in the file */
    bool stats;    /* collect the allocation statistics (first pass only) */
    unsigned fix;  /* repairs allowed while counting (first pass only) */
    bool rebuild;  /* the refcount structure must be rebuilt */
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

static int grow_ref(struct chk *c, uint64_t n);

/*
 * Count one more reference to every cluster of [off, off+len) (QEMU's
 * qcow2_inc_refcounts_imrt).  The last cluster of an image may be only
 * partly written, so a range may end less than one cluster past the end
 * of the file; anything further is a corruption and counts nothing.
 */
static void inc_range(struct chk *c, uint64_t off, uint64_t len)
{
    struct qcow2 *q = c->img->q;
    if (!len)
        return;
    if (off + len > c->flen && off + len - c->flen >= q->cluster_size) {
        report(c->img,
               "ERROR: counting reference for region exceeding the end of the file by one "
               "cluster or more: offset 0x%llx size 0x%llx",
               (unsigned long long)off, (unsigned long long)len);
        c->res->corruptions++;
        return;
    }
    for (uint64_t i = off >> q->cluster_bits; i <= (off + len - 1) >> q->cluster_bits; i++) {
        if (i >= c->nb && grow_ref(c, i + 1) < 0) {
            c->res->check_errors++;
            return;
        }
        /* A count the image's refcount width cannot hold (1-bit
         * refcounts and a cluster referenced twice): reported per
         * cluster, with QEMU's advice, and not counted further. */
        if (c->ref[i] >= q->rc_max || c->ref[i] == UINT32_MAX) {
            report(c->img, "ERROR: overflow cluster offset=0x%llx",
                   (unsigned long long)(i << q->cluster_bits));
            const char *tool = c->img->env->tool_name ? c->img->env->tool_name : "imgtool";
            report(c->img,
                   "Use %s amend to increase the refcount entry width or %s convert to create "
                   "a clean copy if the image cannot be opened for writing",
                   tool, tool);
            c->res->corruptions++;
            continue;
        }
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
        /* Bits 1..8 and 56..61 of a standard descriptor are reserved
         * (qcow2.txt "Standard Cluster Descriptor"); QEMU reports them for
         * every entry, allocated or not, and repairs nothing. */
        if (e & QL2_RESERVED) {
            report(c->img, "ERROR found l2 entry with reserved bits set: %llx",
                   (unsigned long long)e);
            c->res->corruptions++;
        }
        uint64_t host = e & QE_OFFSET;
        if (!host)
            continue;
        /* A subcluster cannot be both allocated and "reads as zeros"
         * (qcow2.txt "Extended L2 Entries": "In this case the allocation
         * status bit must be unset").  QEMU reports it and repairs nothing:
         * which of the two bits is wrong cannot be known. */
        if (q->ext_l2 && ((bm >> 32) & bm & 0xffffffffull)) {
            report(c->img,
                   "ERROR offset=%llx: Allocated cluster has corrupted subcluster allocation "
                   "bitmap",
                   (unsigned long long)host);
            c->res->corruptions++;
        }
        /* An unaligned offset is reported; QEMU still counts the
         * clusters the misplaced cluster overlaps (qcow2-refcount.c,
         * check_refcounts_l2).  A preallocated zero cluster holds no data,
         * so -r all turns it into a plain zero cluster instead (with
         * extended L2: an unallocated one whose zero bits stay). */
        if (host & (q->cluster_size - 1)) {
            bool data = q->ext_l2 ? (bm & 0xffffffffull) != 0 : !(e & QE_ZERO);
            c->res->corruptions++;
            if (data) {
                report(c->img,
                       "ERROR offset=%llx: Data cluster is not properly aligned; L2 entry "
                       "corrupted.",
                       (unsigned long long)host);
            } else {
                bool fix = c->fix & IMG_CHECK_FIX_ERRORS;
                report(c->img,
                       "%s offset=%llx: Preallocated cluster is not properly aligned; L2 "
                       "entry corrupted.",
                       fix ? "Repairing" : "ERROR", (unsigned long long)host);
                /* Only the bad offset goes: with extended L2 the bitmap
                 * stays as it is (its zero bits still say which
                 * subclusters read as zeros, the others keep reading from
                 * the backing file), as QEMU repairs it. */
                if (fix && qc_l2_set(c->img, l2off, i, q->ext_l2 ? 0 : QE_ZERO, bm) == 0) {
                    c->res->corruptions--;
                    c->res->corruptions_fixed++;
                    continue;
                }
            }
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
        if (!l2)
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
        /* A table outside the file reads as zeroes in QEMU: no entries.
         * An unaligned one was reported by the walk; it is not read. */
        if ((l2 >> q->cluster_bits) >= c->nb || (l2 & (q->cluster_size - 1)))
            continue;
        for (uint64_t j = 0; j < q->l2_entries; j++) {
            uint64_t e, bm;
            if (qc_l2_load(img, l2, &t) < 0)
                return -1;
            qc_l2_entry(img, t, j, &e, &bm);
            uint64_t host = e & QE_OFFSET;
            /* Every allocated entry, even one pointing past the end or
             * unaligned, as QEMU's check_oflag_copied does. */
            if ((e & QE_COMPRESSED) || !host)
                continue;
            if (qc_rc_get(img, host >> q->cluster_bits, &rc) < 0)
                return -1;
            if ((rc == 1) != !!(e & QE_COPIED)) {
                report(img, "%s OFLAG_COPIED data cluster: l2_entry=%llx refcount=%llu",
                       (fix & IMG_CHECK_FIX_ERRORS) ? "Repairing" : "ERROR", (unsigned long long)e,
                       (unsigned long long)rc);
                /* Also in an L2 table shared with a snapshot, as QEMU's
                 * check_oflag_copied: the flag describes the data
                 * cluster's refcount, the same for every table. */
                if (fix & IMG_CHECK_FIX_ERRORS) {
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

/*
 * Give the recounted references room for clusters up to n (the file grew).
 */
static int grow_ref(struct chk *c, uint64_t n)
{
    uint32_t *nr;
    if (n <= c->nb)
        return 0;
    nr = img_alloc(c->img->env, (size_t)n * sizeof(uint32_t));
    if (!nr)
        return img_fail(c->img, IMG_ENOMEM, "Out of memory");
    memcpy(nr, c->ref, (size_t)c->nb * sizeof(uint32_t));
    img_free(c->img->env, c->ref);
    c->ref = nr;
    c->nb = n;
    return 0;
}

/*
 * Count the refcount blocks themselves, checking each table entry (QEMU's
 * check_refblocks, same order and wording).  An entry with reserved bits
 * set (qcow2.txt "Refcount table entry": bits 0..8) is not trusted and its
 * block not counted; either way the structure must be rebuilt.  A block
 * past the end of the file is, when repairing errors, made real by growing
 * the file to hold it (its refcounts then read as the zeroes they already
 * read as), so the rebuild sees one more cluster in use and frees it as
 * a leak once the new structure no longer points to it.
 */
static int check_refblocks(struct chk *c)
{
    struct img *img = c->img;
    struct qcow2 *q = img->q;
    for (uint64_t i = 0; i < q->rt_entries; i++) {
        uint64_t off = q->rt[i] & ~0x1ffull, cl = off >> q->cluster_bits;
        if (q->rt[i] & 0x1ff) {
            report(img, "ERROR refcount table entry %llu has reserved bits set",
                   (unsigned long long)i);
            c->res->corruptions++;
            c->rebuild = true;
            continue;
        }
        /* The open refused unaligned entries, so only the end remains. */
        if (cl >= c->nb) {
            bool fix = c->fix & IMG_CHECK_FIX_ERRORS;
            int r = -IMG_ENOTSUP;
            c->res->corruptions++;
            report(img, "%s refcount block %llu is outside image", fix ? "Repairing" : "ERROR",
                   (unsigned long long)i);
            if (!fix)
                continue;
            if (img->io.truncate)
                r = img->io.truncate(img->io.ctx, off + q->cluster_size);
            if (r == 0)
                r = grow_ref(c, cl + 1);
            if (r < 0) {
                c->rebuild = true;
                report(img, "ERROR could not resize image: %s",
                       r == -IMG_ENOMEM ? "Cannot allocate memory" : "Input/output error");
                continue;
            }
            c->flen = off + q->cluster_size;
            if (cl + 1 > q->alloc_end)
                q->alloc_end = cl + 1;
            c->res->corruptions--;
            c->res->corruptions_fixed++;
            inc_range(c, off, q->cluster_size);
            continue;
        }
        if (!off)
            continue;
        inc_range(c, off, q->cluster_size);
        if (c->ref[cl] != 1) {
            report(img, "ERROR refcount block %llu refcount=%llu", (unsigned long long)i,
                   (unsigned long long)c->ref[cl]);
            c->res->corruptions++;
            c->rebuild = true;
        }
    }
    return 0;
}

/* Recount every reference into c->ref (sized for the file). */
/* inc_range for qc_bitmaps_refs. */
static void inc_cb(void *ctx, uint64_t off, uint64_t len)
{
    inc_range(ctx, off, len);
}

static int calculate(struct chk *c)
{
    struct img *img = c->img;
    struct qcow2 *q = img->q;
    uint64_t fsz;
    if (io_size(img, &fsz) < 0)
        return -IMG_EIO;
    img_free(img->env, c->ref);
    c->nb = div_up(fsz, q->cluster_size);
    c->flen = fsz;
    c->ref = img_alloc(img->env, (size_t)(c->nb ? c->nb : 1) * sizeof(uint32_t));
    if (!c->ref)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    inc_range(c, 0, q->cluster_size);
    walk_l1(c, q->h.l1_table_offset, q->h.l1_size, q->l1, c->stats);
    for (int i = 0; i < q->nb_snaps; i++) {
        const struct qc_snapshot *s = &q->snaps[i];
        /* A snapshot entry whose L1 table cannot be followed is itself the
         * corruption (QEMU's qcow2_check_refcounts, same words); its tree
         * is not counted. */
        if (s->l1_offset & (q->cluster_size - 1)) {
            report(c->img,
                   "ERROR snapshot %s (%s) l1_offset=%#llx: L1 table is not cluster aligned; "
                   "snapshot table entry corrupted",
                   s->id, s->name, (unsigned long long)s->l1_offset);
            c->res->corruptions++;
            continue;
        }
        if ((uint64_t)s->l1_size * 8 > QCOW_MAX_L1_SIZE) {
            report(c->img,
                   "ERROR snapshot %s (%s) l1_size=%#x: L1 table is too large; snapshot table "
                   "entry corrupted",
                   s->id, s->name, (unsigned)s->l1_size);
            c->res->corruptions++;
            continue;
        }
        walk_l1(c, s->l1_offset, s->l1_size, NULL, false);
    }
    if (q->nb_snaps)
        inc_range(c, q->h.snapshots_offset, snap_table_size(q));
    inc_range(c, q->h.refcount_table_offset,
              (uint64_t)q->h.refcount_table_clusters << q->cluster_bits);
    /* The bitmap directory, tables and data (qcow2_check_bitmaps_refcounts). */
    int r = qc_bitmaps_refs(img, inc_cb, c);
    if (r < 0)
        return r;
    return check_refblocks(c);
}

/*
 * A cluster whose leaked refcount was just repaired to 0: QEMU frees it
 * with QCOW2_DISCARD_ALWAYS (qcow2-refcount.c, compare_refcounts), which
 * punches a hole in the file, so it reads as zeroes afterwards.  The
 * library's backends have no discard, so the same contents are produced
 * by writing zeroes (only if the cluster is not all zeroes already).  The
 * caches may hold the cluster as an old table: they forget it first.
 */
static int zap_cluster(struct img *img, uint64_t cluster)
{
    struct qcow2 *q = img->q;
    uint64_t off = cluster << q->cluster_bits;
    bool zero = true;
    int r;
    qc_cache_drop(img, q->rbc, off);
    qc_cache_drop(img, q->l2c, off);
    if ((r = io_read(img, off, q->tmp, q->cluster_size)) < 0)
        return r;
    for (uint32_t i = 0; i < q->cluster_size && zero; i++)
        zero = q->tmp[i] == 0;
    if (zero)
        return 0;
    /* A hole punched in the last, partial cluster does not make the file
     * longer: zero only what the file holds. */
    uint64_t fsz, n = q->cluster_size;
    if (io_size(img, &fsz) == 0 && off < fsz && fsz - off < n)
        n = fsz - off;
    memset(q->tmp, 0, q->cluster_size);
    return io_write(img, off, q->tmp, (size_t)n);
}

/*
 * Compare stored and recounted refcounts (QEMU's compare_refcounts).  A
 * stored 0 for a cluster in use cannot be fixed by updating one entry
 * safely (its refcount block may be missing or itself be the problem):
 * that asks for a rebuild of the whole refcount structure.
 */
static void compare(struct chk *c, unsigned fix, bool *rebuild, uint64_t *highest)
{
    struct img *img = c->img;
    struct img_check_result *res = c->res;
    for (uint64_t i = 0; i < c->nb; i++) {
        uint64_t rc, ref = c->ref[i];
        if (qc_rc_get(img, i, &rc) < 0) {
            res->check_errors++;
            continue;
        }
        if (rc || ref)
            *highest = i;
        if (rc == ref)
            continue;
        bool can = false;
        if (rc == 0)
            *rebuild = true;
        else if (rc > ref && (fix & IMG_CHECK_FIX_LEAKS))
            can = true;
        else if (rc < ref && (fix & IMG_CHECK_FIX_ERRORS))
            can = true;
        report(img, "%s cluster %llu refcount=%llu reference=%llu",
               can        ? "Repairing"
               : rc < ref ? "ERROR"
                          : "Leaked",
               (unsigned long long)i, (unsigned long long)rc, (unsigned long long)ref);
        if (can && qc_rc_set(img, i, ref) == 0 && (ref || zap_cluster(img, i) == 0)) {
            if (rc > ref)
                res->leaks_fixed++;
            else
                res->corruptions_fixed++;
            continue;
        }
        if (can)
            res->check_errors++;
        else if (rc < ref)
            res->corruptions++;
        else
            res->leaks++;
    }
}

/* First run of n clusters with no reference at or after *first (growing
 * the array past the end of the file as needed); marks them used. */
static int claim(struct chk *c, uint64_t n, uint64_t *first, uint64_t *out)
{
    uint64_t i = *first, run = 0;
    for (;; i++) {
        if (i >= c->nb) {
            /* Past the end: extend the array. */
            uint64_t nn = c->nb * 2 + n + 16;
            uint32_t *nr = img_alloc(c->img->env, (size_t)nn * sizeof(uint32_t));
            if (!nr)
                return img_fail(c->img, IMG_ENOMEM, "Out of memory");
            memcpy(nr, c->ref, (size_t)c->nb * sizeof(uint32_t));
            img_free(c->img->env, c->ref);
            c->ref = nr;
            c->nb = nn;
        }
        run = c->ref[i] ? 0 : run + 1;
        if (run == n)
            break;
    }
    *out = i + 1 - n;
    for (uint64_t k = *out; k <= i; k++)
        c->ref[k] = 1;
    if (*out == *first)
        *first = i + 1;
    return 0;
}

/*
 * Where the rebuilt structure goes (the planning half of QEMU's
 * rebuild_refcount_structure): one refcount block for every range of
 * clusters with any reference in it, then the table, each in the first
 * free clusters (claim).  Placing a block or the table past the last
 * cluster in use can make the structure need one more block, so the plan
 * is redone until the blocks cover everything, the table's own clusters
 * included.  *rt receives the new table's entries (nblk of them), *toff
 * and *tclusters the table's place and size.
 */
static int plan_structure(struct chk *c, uint64_t **rt, uint64_t *nblk, uint64_t *toff,
                          uint64_t *tclusters)
{
    struct img *img = c->img;
    struct qcow2 *q = img->q;
    uint64_t first = 0;
    int r;
    for (;;) {
        *nblk = div_up(c->nb, q->rb_entries);
        img_free(img->env, *rt);
        *rt = img_alloc(img->env, (size_t)(*nblk ? *nblk : 1) * 8);
        if (!*rt)
            return img_fail(img, IMG_ENOMEM, "Out of memory");
        first = 0;
        bool grew = false;
        /* One block per range with any reference in it. */
        for (uint64_t bl = 0; bl < *nblk && !grew; bl++) {
            bool any = false;
            for (uint64_t i = bl * q->rb_entries; i < (bl + 1) * q->rb_entries && i < c->nb; i++)
                any |= c->ref[i] != 0;
            if (!any)
                continue;
            uint64_t at, before = c->nb;
            if ((r = claim(c, 1, &first, &at)) < 0)
                return r;
            (*rt)[bl] = at << q->cluster_bits;
            if (at >= before) {
                c->nb = at + 1;
                grew = div_up(c->nb, q->rb_entries) > *nblk;
            }
        }
        if (grew)
            continue;
        *tclusters = div_up(*nblk * 8, q->cluster_size);
        uint64_t at, before = c->nb;
        if ((r = claim(c, *tclusters, &first, &at)) < 0)
            return r;
        *toff = at << q->cluster_bits;
        if (at + *tclusters > before)
            c->nb = at + *tclusters;
        if (div_up(c->nb, q->rb_entries) == *nblk) {
            bool covered = true;
            for (uint64_t k = at; k < at + *tclusters; k++)
                covered &= (*rt)[k / q->rb_entries] != 0;
            if (covered)
                return 0;
        }
        /* The table landed where no block was planned: plan again with
         * the table's clusters counted (they stay claimed). */
    }
}

/* Write the planned refcount blocks, each filled from the recounted
 * references of its range (a count the width cannot hold is refused). */
static int write_rebuilt_blocks(struct chk *c, const uint64_t *rt, uint64_t nblk)
{
    struct img *img = c->img;
    struct qcow2 *q = img->q;
    uint8_t *block = img_alloc(img->env, q->cluster_size);
    int r = 0;
    if (!block)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    for (uint64_t bl = 0; bl < nblk && r == 0; bl++) {
        uint64_t touched_off;
        size_t touched_len;
        if (!rt[bl])
            continue;
        memset(block, 0, q->cluster_size);
        for (uint64_t i = 0; i < q->rb_entries && bl * q->rb_entries + i < c->nb; i++) {
            uint64_t v = c->ref[bl * q->rb_entries + i];
            if (v > q->rc_max) {
                r = img_fail(img, IMG_ERANGE, "Reference count overflow while rebuilding");
                break;
            }
            qc_rb_put_entry(q, block, i, v, &touched_off, &touched_len);
        }
        if (r == 0)
            r = io_write(img, rt[bl], block, q->cluster_size);
    }
    img_free(img->env, block);
    return r;
}

/*
 * Write the new table, switch the header to it with one 12-byte write
 * (refcount_table_offset and refcount_table_clusters are adjacent,
 * qcow2.txt "Header" bytes 48-59), then the in-memory state.
 */
static int switch_to_rebuilt_table(struct chk *c, const uint64_t *rt, uint64_t nblk, uint64_t toff,
                                   uint64_t tclusters)
{
    struct img *img = c->img;
    struct qcow2 *q = img->q;
    uint64_t tbytes = tclusters << q->cluster_bits;
    uint8_t *table = img_alloc(img->env, (size_t)tbytes), header[12];
    int r;
    if (!table)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    for (uint64_t bl = 0; bl < nblk; bl++)
        put64(table + bl * 8, rt[bl]);
    r = io_write(img, toff, table, (size_t)tbytes);
    img_free(img->env, table);
    if (r < 0)
        return r;
    put64(header, toff);
    put32(header + 8, (uint32_t)tclusters);
    if ((r = io_write(img, QH_RT_OFFSET, header, 12)) < 0)
        return r;
    /* Switch the in-memory state to the new structure. */
    img_free(img->env, q->rt);
    q->rt_entries = tclusters * q->cluster_size / 8;
    q->rt = img_alloc(img->env, (size_t)q->rt_entries * 8);
    if (!q->rt)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    memcpy(q->rt, rt, (size_t)nblk * 8);
    q->h.refcount_table_offset = toff;
    q->h.refcount_table_clusters = (uint32_t)tclusters;
    for (int i = 0; i < QC_CACHE_SLOTS; i++)
        q->rbc[i].off = 0;
    if (c->nb > q->alloc_end)
        q->alloc_end = c->nb;
    return 0;
}

/*
 * Write a new refcount structure from the recounted references (QEMU's
 * rebuild_refcount_structure): refcount blocks in the first free clusters,
 * then the table, then one header write switches to them.  The old
 * structure becomes leaked clusters, which the caller then frees.
 */
static int rebuild_structure(struct chk *c)
{
    uint64_t nblk = 0, *rt = NULL, tclusters = 0, toff = 0, used_end = 0;
    int r;
    /* The recount may have looked past the file end; only the real part
     * matters.  Find the last used cluster. */
    for (uint64_t i = 0; i < c->nb; i++)
        if (c->ref[i])
            used_end = i + 1;
    c->nb = used_end;
    r = plan_structure(c, &rt, &nblk, &toff, &tclusters);
    if (r == 0)
        r = write_rebuilt_blocks(c, rt, nblk);
    if (r == 0)
        r = switch_to_rebuilt_table(c, rt, nblk, toff, tclusters);
    img_free(c->img->env, rt);
    return r;
}

static int check_impl(struct img *img, unsigned fix, struct img_check_result *res, int *structural);

/* Clear the dirty and corrupt bits of a repaired image. */
static int mark_clean(struct img *img)
{
    struct qcow2 *q = img->q;
    uint64_t bits = QF_INCOMPAT_DIRTY | QF_INCOMPAT_CORRUPT;
    uint8_t b[8];
    q->dirty_marked = false;
    if (!(q->h.incompatible_features & bits))
        return 0;
    q->h.incompatible_features &= ~bits;
    put64(b, q->h.incompatible_features);
    return io_write(img, QH_INCOMPAT, b, 8);
}

int img_check(struct img *img, unsigned fix, struct img_check_result *res)
{
    int structural;
    return check_impl(img, fix, res, &structural);
}

/* `structural` counts the problems found while walking the metadata
 * (bad offsets, references past the end of the file): refcount repairs
 * cannot fix those. */
/*
 * Step 0 of a check: version 3 snapshot entries need at least 16 bytes of
 * extra data (qcow2.txt "Snapshots": "Version 3 images must include extra
 * data at least up to byte 55"); QEMU's qcow2_check_read_snapshot_table
 * reports each short entry first and rewrites the table last.  Returns
 * how many entries are short.
 */
static int report_incomplete_snapshots(struct img *img, unsigned fix)
{
    struct qcow2 *q = img->q;
    int incomplete = 0;
    for (int i = 0; q->h.version >= 3 && i < q->nb_snaps; i++) {
        if (q->snaps[i].extra_size >= 16)
            continue;
        report(img, "%s snapshot table entry %d is incomplete",
               (fix & IMG_CHECK_FIX_ERRORS) ? "Repairing" : "ERROR", i);
        incomplete++;
    }
    return incomplete;
}

/*
 * Repair by rebuilding (check -r all on a refcount structure that cannot
 * be repaired entry by entry): write a new structure from the counted
 * references, then count again, which finds the old structure as leaked
 * clusters and, with IMG_CHECK_FIX_LEAKS, frees them.  The result reports
 * what the rebuild fixed, as QEMU's does.
 */
static int rebuild_and_recount(struct chk *c, unsigned fix, uint64_t *highest)
{
    struct img *img = c->img;
    struct img_check_result *res = c->res;
    struct img_check_result old = *res, saved;
    int fresh = 0, r;
    report(img, "Rebuilding refcount structure");
    r = rebuild_structure(c);
    if (r < 0) {
        res->check_errors++;
        return r;
    }
    res->corruptions = 0;
    res->leaks = 0;
    img->q->rt_damaged = false;
    /* The old structure is now unreferenced: recount and free it. */
    r = calculate(c);
    if (r < 0)
        return r;
    if (fix & IMG_CHECK_FIX_LEAKS) {
        bool again = false;
        saved = *res;
        memset(res, 0, sizeof(*res));
        compare(c, IMG_CHECK_FIX_LEAKS, &again, highest);
        if (again)
            report(img, "ERROR rebuilt refcount structure is still broken");
        fresh = res->leaks;
        *res = saved;
    }
    if (res->corruptions < old.corruptions)
        res->corruptions_fixed += old.corruptions - res->corruptions;
    if (res->leaks < old.leaks)
        res->leaks_fixed += old.leaks - res->leaks;
    res->leaks += fresh;
    return 0;
}

/*
 * Repair in place (check -r leaks, or -r all when no rebuild is needed):
 * compare again from the result before the first compare (`before`), this
 * time with the fix flags, so every finding is reported once and fixed.
 * A structure that needs a rebuild cannot be repaired with -r leaks alone:
 * QEMU fails with EIO then, and so do we.
 */
static int repair_in_place(struct chk *c, unsigned fix, const struct img_check_result *before,
                           bool *rebuild, uint64_t *highest)
{
    struct img_check_result *res = c->res;
    if (*rebuild) {
        report(c->img, "ERROR need to rebuild refcount structures");
        res->check_errors++;
        return img_fail(c->img, IMG_EIO, "Input/output error");
    }
    if (res->leaks || res->corruptions) {
        *res = *before;
        compare(c, fix, rebuild, highest);
    }
    return 0;
}

/* Step 3's fix mode for the COPIED flags of the active tree.  With only
 * leaks to fix, QEMU repairs them only if the refcounts are now
 * trustworthy. */
static unsigned copied_fix_mode(unsigned fix, const struct img_check_result *res)
{
    if (fix & IMG_CHECK_FIX_ERRORS)
        return IMG_CHECK_FIX_ERRORS;
    if ((fix & IMG_CHECK_FIX_LEAKS) && !res->check_errors && !res->corruptions && !res->leaks)
        return IMG_CHECK_FIX_ERRORS;
    return 0;
}

/* The last cluster in use after a repair, from the stored refcounts and
 * the counted references ("Image end offset" in check's report). */
static uint64_t last_cluster_in_use(struct chk *c)
{
    uint64_t highest = 0;
    for (uint64_t i = 0; i < c->nb; i++) {
        uint64_t rc;
        if (qc_rc_get(c->img, i, &rc) == 0 && (rc || c->ref[i]))
            highest = i;
    }
    return highest;
}

/*
 * The check, in QEMU's steps (qcow2_check_refcounts and
 * qcow2_co_check_locked): 0. short snapshot entries; 1. count every
 * reference (calculate); 2. compare counts with references, then repair
 * by rebuilding or in place; 3. the COPIED flags; 4. the rewritten
 * snapshot table and the cleared dirty and corrupt bits.
 */
static int check_impl(struct img *img, unsigned fix, struct img_check_result *res, int *structural)
{
    struct qcow2 *q = img->q;
    struct img_check_result before;
    struct chk c;
    uint64_t highest = 0;
    bool rebuild = false;
    int r = 0;

    memset(res, 0, sizeof(*res));
    if (!q)
        return img_fail(img, IMG_ENOTSUP, "This image format does not support checks");
    if (fix && !img->rw)
        return img_fail(img, IMG_EROFS, "Image '%s' must be opened read-write to repair it",
                        img->name);
    memset(&c, 0, sizeof(c));
    c.img = img;
    c.res = res;
    c.stats = true;
    c.fix = fix;
    res->total_clusters = div_up(img->size, q->cluster_size);
    int incomplete = report_incomplete_snapshots(img, fix);

    /* 1. Count every reference (this pass may already repair a refcount
     * block outside the image, as QEMU's does). */
    r = calculate(&c);
    if (r < 0)
        goto out;
    c.stats = false;
    c.fix = 0;
    rebuild = c.rebuild;
    *structural = res->corruptions;

    /* 2. Compare without fixing first (this reports every finding); when
     * repairing, compare again from the same starting point with the fix
     * flags, as QEMU's qcow2_check_refcounts does.  New refcount blocks
     * must not land on clusters in use but recorded as free, so
     * allocation is pushed past the end of the file meanwhile. */
    before = *res;
    compare(&c, 0, &rebuild, &highest);
    if (fix)
        q->free_hint = c.nb > q->alloc_end ? c.nb : q->alloc_end;
    if (rebuild && (fix & IMG_CHECK_FIX_ERRORS))
        r = rebuild_and_recount(&c, fix, &highest);
    else if (fix)
        r = repair_in_place(&c, fix, &before, &rebuild, &highest);
    if (r < 0)
        goto out;
    /* 3. The COPIED flags of the active tree. */
    if (check_copied(&c, copied_fix_mode(fix, res)) < 0)
        res->check_errors++;
    /* Recompute the end from the stored refcounts after any repair. */
    if (fix)
        highest = last_cluster_in_use(&c);
    res->image_end_offset = (highest + 1) << q->cluster_bits;
out:
    if (fix)
        q->free_hint = 0;
    /* The short snapshot entries, rewritten with full extra data once the
     * refcounts are right (qcow2_check_fix_snapshot_table). */
    if (r == 0 && incomplete && (fix & IMG_CHECK_FIX_ERRORS)) {
        r = qc_snap_upgrade(img);
        if (r < 0)
            res->check_errors++;
        else
            res->corruptions_fixed += incomplete;
    } else if (r == 0) {
        res->corruptions += incomplete;
    }
    /* 4. A repair that left no corruption behind makes the refcounts
     * trustworthy again: the dirty bit (lazy refcounts not yet written
     * back) and the corrupt bit go, as in QEMU's qcow2_co_check_locked()
     * (qcow2.txt "Header", incompatible_features bits 0 and 1). */
    if (r == 0 && fix && !res->check_errors && !res->corruptions)
        r = mark_clean(img);
    img_free(img->env, c.ref);
    return r;
}

/*
 * Opening a dirty lazy-refcounts image read-write: the refcounts may be
 * stale, so they are repaired before use, then the dirty bit is
 * cleared (qcow2.txt "Header", incompatible_features bit 0).
 */
int qc_repair_dirty(struct img *img)
{
    struct img_check_result res;
    struct img_env quiet = *img->env;
    const struct img_env *saved = img->env;
    uint8_t b[8];
    int r, structural = 0;
    quiet.report = NULL;
    img->env = &quiet;
    /* A dry run first: if the metadata itself is damaged, a refcount
     * repair cannot help, and the image is refused before anything is
     * written. */
    r = check_impl(img, 0, &res, &structural);
    if (r == 0 && (structural || res.check_errors)) {
        img->env = saved;
        return img_fail(img, IMG_ECORRUPT,
                        "Image '%s' was not closed cleanly and its metadata is damaged; "
                        "run 'check -r all' on it",
                        img->name);
    }
    /* The repair itself reports what it finds and mends, as QEMU's
     * automatic repair of a dirty image does on every read-write open. */
    img->env = saved;
    if (r == 0)
        r = img_check(img, IMG_CHECK_FIX_LEAKS | IMG_CHECK_FIX_ERRORS, &res);
    if (r < 0)
        return r;
    if (res.corruptions)
        return img_fail(img, IMG_ECORRUPT, "Could not repair dirty image '%s'", img->name);
    img->q->h.incompatible_features &= ~QF_INCOMPAT_DIRTY;
    put64(b, img->q->h.incompatible_features);
    return io_write(img, QH_INCOMPAT, b, 8);
}
