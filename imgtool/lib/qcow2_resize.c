/*
 * qcow2_resize.c: changing the virtual size (qemu-img resize, and the last
 * step of create) and preallocation.
 *
 * Growing may need a larger L1 table (qcow2.txt "Header": l1_size must cover
 * the virtual size).  The new table is written to fresh clusters first;
 * l1_size and l1_table_offset are adjacent header fields (bytes 36..47), so
 * one 12-byte write switches to it; the old table is freed afterwards.
 */
#include "internal.h"

static int grow_l1(struct img *img, uint64_t need)
{
    struct qcow2 *q = img->q;
    uint64_t old_off = q->h.l1_table_offset, old_n = q->h.l1_size, off, bytes;
    uint64_t *nl1;
    uint8_t *b, hb[12];
    int r;
    if ((need * 8) > QCOW_MAX_L1_SIZE)
        return img_fail(img, IMG_EINVAL, "Failed to grow the L1 table: File too large");
    bytes = div_up(need * 8, q->cluster_size) * q->cluster_size;
    nl1 = img_alloc(img->env, (size_t)need * 8);
    b = img_alloc(img->env, (size_t)bytes);
    if (!nl1 || !b) {
        img_free(img->env, nl1);
        img_free(img->env, b);
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    }
    memcpy(nl1, q->l1, (size_t)old_n * 8);
    for (uint64_t i = 0; i < need; i++)
        put64(b + i * 8, nl1[i]);
    r = qc_alloc_clusters(img, bytes / q->cluster_size, &off);
    /* Only the entries are written (QEMU does the same, so a new image's
     * file ends right after its L1 table); the rest of the last cluster is
     * never read. */
    if (r == 0)
        r = io_write(img, off, b, (size_t)need * 8);
    if (r == 0) {
        put32(hb, (uint32_t)need);
        put64(hb + 4, off);
        r = io_write(img, QH_L1_SIZE, hb, 12);
    }
    img_free(img->env, b);
    if (r < 0) {
        img_free(img->env, nl1);
        return r;
    }
    img_free(img->env, q->l1);
    q->l1 = nl1;
    q->h.l1_size = (uint32_t)need;
    q->h.l1_table_offset = off;
    if (old_n)
        r = qc_rc_update_range(img, old_off, old_n * 8, -1);
    return r;
}

/*
 * Allocate every unallocated cluster of [from, to) (preallocation=metadata,
 * and the fallback for the other modes).  As QEMU's preallocate_co does,
 * each L2 table is made ready first, then its unallocated entries get one
 * contiguous run of host clusters, so layouts match qemu-img's.
 */
/*
 * Growing from a size inside a cluster over a backing file: the head of
 * that cluster, [cluster start, from), reads from the backing file, the
 * rest is new and must read as zeros.  Allocating the cluster as zeros
 * would lose the head, so it is written whole, head copied up from the
 * backing file (QEMU's copy-on-write of the preallocated cluster).  With
 * extended L2 and metadata preallocation the subclusters stay unallocated
 * instead, so nothing needs copying.
 */
static int cow_head(struct img *img, uint64_t from, uint64_t to, int mode)
{
    struct qcow2 *q = img->q;
    uint64_t cstart = from & ~(uint64_t)(q->cluster_size - 1);
    uint64_t cend = cstart + q->cluster_size < to ? cstart + q->cluster_size : to;
    uint8_t *b;
    int r;
    if (from == cstart || !img->backing || (q->ext_l2 && mode == IMG_PREALLOC_METADATA))
        return 0;
    b = img_alloc(img->env, q->cluster_size);
    if (!b)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    memset(b, 0, q->cluster_size);
    r = qc_read(img, cstart, b, (size_t)(from - cstart));
    if (r == 0)
        r = qc_write(img, cstart, b, (size_t)(cend - cstart));
    img_free(img->env, b);
    return r;
}

static int preallocate(struct img *img, uint64_t from, uint64_t to, int mode)
{
    struct qcow2 *q = img->q;
    uint64_t end = 0, gi = from >> q->cluster_bits, gend = div_up(to, q->cluster_size);
    uint8_t *zero = NULL;
    int r = cow_head(img, from, to, mode);
    if (r < 0)
        return r;
    /* With a backing file (allowed only with extended L2) metadata
     * preallocation reserves the clusters but leaves their subclusters
     * unallocated, so reads still come from the backing file (QEMU's
     * "unallocated_alloc"); falloc and full put zeros there, which the
     * subclusters then hold (qcow2.txt "Extended L2 Entries", bits 0-31). */
    uint64_t bm2 =
        q->ext_l2 && (!q->backing_file[0] || mode != IMG_PREALLOC_METADATA) ? 0xffffffffull : 0;
    if (mode == IMG_PREALLOC_FULL) {
        zero = img_alloc(img->env, q->cluster_size);
        if (!zero)
            return img_fail(img, IMG_ENOMEM, "Out of memory");
    }
    while (gi < gend && r == 0) {
        uint64_t l1i = gi >> q->l2_bits, l2i = gi & (q->l2_entries - 1), l2off, e, bm, host, k;
        uint8_t *t;
        r = qc_l2_load_for_write(img, l1i, &l2off);
        if (r == 0)
            r = qc_l2_load(img, l2off, &t);
        if (r < 0)
            break;
        qc_l2_entry(img, t, l2i, &e, &bm);
        if (e & (QE_OFFSET | QE_COMPRESSED)) {
            gi++;
            continue;
        }
        /* The run of unallocated entries in this table. */
        for (k = 1; l2i + k < q->l2_entries && gi + k < gend; k++) {
            qc_l2_entry(img, t, l2i + k, &e, &bm);
            if (e & (QE_OFFSET | QE_COMPRESSED))
                break;
        }
        r = qc_alloc_clusters(img, k, &host);
        for (uint64_t j = 0; j < k && r == 0; j++) {
            uint64_t h = host + (j << q->cluster_bits);
            if (zero)
                r = io_write(img, h, zero, q->cluster_size);
            else if (mode == IMG_PREALLOC_FALLOC && img->io.allocate)
                r = img->io.allocate(img->io.ctx, h, q->cluster_size) < 0 ? -IMG_EIO : 0;
            if (r == 0)
                r = qc_l2_set(img, l2off, l2i + j, h | QE_COPIED, bm2);
        }
        if (r == 0 && host + (k << q->cluster_bits) > end)
            end = host + (k << q->cluster_bits);
        gi += k;
    }
    img_free(img->env, zero);
    /* Metadata-only preallocation leaves the data clusters as a sparse
     * tail; extend the file so every referenced cluster lies inside it. */
    if (r == 0 && end && img->io.truncate) {
        uint64_t sz;
        if (io_size(img, &sz) == 0 && sz < end)
            r = img->io.truncate(img->io.ctx, end) < 0 ? -IMG_EIO : 0;
    }
    return r;
}

/*
 * preallocation=falloc/full as QEMU 7.2 lays it out (qcow2_co_truncate):
 * a fresh refcount structure right after the last cluster in use, sized
 * for all new data clusters and L2 tables; then the data clusters as one
 * contiguous run after it (zeroed or fallocated); then the L2 entries, with
 * L2 tables from the normal allocator.  Order: refcounts, data, L2, L1.
 */
static int preallocate_run(struct img *img, uint64_t from, uint64_t to, int mode,
                           const uint8_t *head, uint32_t head_len)
{
    struct qcow2 *q = img->q;
    uint64_t fsz, last = 0, rc, start, ndata, nl2, astart, g0 = from >> q->cluster_bits;
    bool found = false;
    int r;
    if (io_size(img, &fsz) < 0)
        return -IMG_EIO;
    for (uint64_t c = div_up(fsz, q->cluster_size); c-- > 0;) {
        if ((r = qc_rc_get(img, c, &rc)) < 0)
            return r;
        if (rc) {
            last = c;
            found = true;
            break;
        }
    }
    start = found ? (last + 1) << q->cluster_bits : div_up(fsz, q->cluster_size) * q->cluster_size;
    ndata = div_up(to, q->cluster_size) - g0;
    nl2 = div_up(ndata, q->l2_entries) + 1;
    r = qc_refcount_area(img, start, ndata + nl2, true, 0, 0, &astart);
    if (r < 0)
        return r;
    r = qc_alloc_clusters_at(img, astart >> q->cluster_bits, ndata);
    if (r < 0)
        return r;
    /* The data area itself. */
    if (mode == IMG_PREALLOC_FALLOC && img->io.allocate) {
        if (img->io.allocate(img->io.ctx, astart, ndata << q->cluster_bits) < 0)
            return img_fail(img, IMG_EIO, "Could not preallocate space for '%s'", img->name);
    } else {
        static const uint8_t zero[65536];
        for (uint64_t o = 0; o < ndata << q->cluster_bits; o += sizeof(zero)) {
            uint64_t n = (ndata << q->cluster_bits) - o;
            if ((r = io_write(img, astart + o, zero, n < sizeof(zero) ? (size_t)n : sizeof(zero))) <
                0)
                return r;
        }
    }
    /* The part of the first cluster below the old end, copied up before
     * any entry points at the new cluster. */
    if (head_len && (r = io_write(img, astart, head, head_len)) < 0)
        return r;
    /* L2 entries, a table at a time. */
    for (uint64_t i = 0; i < ndata;) {
        uint64_t gi = g0 + i, l2off, l2i = gi & (q->l2_entries - 1), k = q->l2_entries - l2i;
        uint8_t *ents;
        if (k > ndata - i)
            k = ndata - i;
        if ((r = qc_l2_load_for_write(img, gi >> q->l2_bits, &l2off)) < 0)
            return r;
        ents = img_alloc(img->env, (size_t)(k * (uint64_t)q->l2_esize));
        if (!ents)
            return img_fail(img, IMG_ENOMEM, "Out of memory");
        for (uint64_t j = 0; j < k; j++) {
            put64(ents + j * (uint64_t)q->l2_esize,
                  (astart + ((i + j) << q->cluster_bits)) | QE_COPIED);
            /* The data area holds zeros: every subcluster is allocated,
             * backing file or not. */
            if (q->ext_l2)
                put64(ents + j * 16 + 8, 0xffffffffull);
        }
        r = io_write(img, l2off + l2i * (uint64_t)q->l2_esize, ents,
                     (size_t)(k * (uint64_t)q->l2_esize));
        img_free(img->env, ents);
        if (r < 0)
            return r;
        qc_cache_drop(img, q->l2c, l2off);
        i += k;
    }
    return 0;
}

/*
 * falloc/full growth.  When the old size ends inside a cluster, that
 * cluster is replaced too, as QEMU does: a new host cluster in the
 * preallocated run gets the old head (read through the current mapping,
 * backing file included) and zeros or preallocated space after it, so
 * writes to the rest of the cluster no longer grow the file; the old host
 * cluster is released once no entry points at it.
 */
static int preallocate_data(struct img *img, uint64_t from, uint64_t to, int mode)
{
    struct qcow2 *q = img->q;
    uint32_t head_len = (uint32_t)(from & (q->cluster_size - 1));
    uint64_t gi = from >> q->cluster_bits, l1e = q->l1[gi >> q->l2_bits], old = 0, bm;
    uint8_t *head, *t;
    int r;
    if (!head_len)
        return preallocate_run(img, from, to, mode, NULL, 0);
    head = img_alloc(img->env, head_len);
    if (!head)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    r = qc_read(img, from - head_len, head, head_len);
    if (r == 0 && (l1e & QE_OFFSET) && (r = qc_l2_load(img, l1e & QE_OFFSET, &t)) == 0)
        qc_l2_entry(img, t, gi & (q->l2_entries - 1), &old, &bm);
    if (r == 0)
        r = preallocate_run(img, from, to, mode, head, head_len);
    img_free(img->env, head);
    /* The old host cluster (or compressed data) loses the reference the
     * replaced entry held. */
    if (r == 0)
        r = qc_free_l2_entry_clusters(img, old);
    return r;
}

/* Drop every cluster at or past guest offset `from` (shrinking). */
static int discard_tail(struct img *img, uint64_t from)
{
    struct qcow2 *q = img->q;
    uint64_t first = div_up(from, q->cluster_size);
    for (uint64_t l1i = first >> q->l2_bits; l1i < q->h.l1_size; l1i++) {
        uint64_t l2off, e, bm;
        uint8_t *t, b[8];
        int r;
        if (!(q->l1[l1i] & QE_OFFSET))
            continue;
        uint64_t i0 = l1i == (first >> q->l2_bits) ? first & (q->l2_entries - 1) : 0;
        if (i0 == 0) {
            /* The whole table goes: unhook it, then release what it held. */
            l2off = q->l1[l1i] & QE_OFFSET;
            put64(b, 0);
            r = io_write(img, q->h.l1_table_offset + l1i * 8, b, 8);
            if (r < 0)
                return r;
            q->l1[l1i] = 0;
            for (uint64_t i = 0; i < q->l2_entries; i++) {
                r = qc_l2_load(img, l2off, &t);
                if (r < 0)
                    return r;
                qc_l2_entry(img, t, i, &e, &bm);
                r = qc_free_l2_entry_clusters(img, e);
                if (r < 0)
                    return r;
            }
            r = qc_rc_update(img, l2off >> q->cluster_bits, -1);
            if (r < 0)
                return r;
            continue;
        }
        r = qc_l2_load_for_write(img, l1i, &l2off);
        for (uint64_t i = i0; r == 0 && i < q->l2_entries; i++) {
            r = qc_l2_load(img, l2off, &t);
            if (r < 0)
                return r;
            qc_l2_entry(img, t, i, &e, &bm);
            if (!e && !bm)
                continue;
            r = qc_l2_set(img, l2off, i, 0, 0);
            if (r == 0)
                r = qc_free_l2_entry_clusters(img, e);
        }
        if (r < 0)
            return r;
    }
    return 0;
}

/*
 * Growing over a longer backing file must not make the backing file's
 * bytes appear in the new area (it was past the end of the disk, so it
 * read as zeros).  As QEMU does (BDRV_REQ_ZERO_WRITE in bdrv_co_truncate,
 * then qcow2_co_truncate), after any preallocation the new area becomes
 * zero clusters from the first subcluster boundary on, keeping preallocated
 * host clusters (qcow2.txt "Extended L2 Entries": a subcluster can be "reads
 * as zeros" while its cluster stays allocated), with real zeros written
 * for the unaligned head.  falloc and full preallocation already made the
 * area allocated zeros, so nothing is left to do for them.
 */
static int zero_new_area(struct img *img, uint64_t old, uint64_t new_size, int prealloc)
{
    struct qcow2 *q = img->q;
    uint64_t zstart = div_up(old, q->sc_size) * q->sc_size;
    int r = 0;
    if (!img->backing || img->backing->size <= old || prealloc == IMG_PREALLOC_FALLOC ||
        prealloc == IMG_PREALLOC_FULL)
        return 0;
    if (zstart > new_size)
        zstart = new_size;
    if (new_size > zstart)
        r = qc_write_zeroes(img, zstart, new_size - zstart, 0);
    if (r == 0 && zstart > old)
        r = qc_write_zeroes(img, old, zstart - old, 0);
    return r;
}

/*
 * After a shrink: a refcount block whose entries are all 0 (apart from its
 * own, when it counts itself) counts nothing any more; it is unhooked from
 * the refcount table and freed, as QEMU's qcow2_shrink_reftable() does
 * (qcow2.txt "Host cluster management": a refcount table entry of 0 means
 * "all refcounts managed by this refcount block are 0").
 */
static int drop_empty_refblocks(struct img *img)
{
    struct qcow2 *q = img->q;
    uint8_t *tmp = img_alloc(img->env, q->cluster_size), *b, zero8[8] = {0};
    int r = 0;
    if (!tmp)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    for (uint64_t i = 0; i < q->rt_entries && r == 0; i++) {
        uint64_t rb = q->rt[i] & QE_OFFSET, c = rb >> q->cluster_bits, boff;
        size_t blen;
        bool self = c / q->rb_entries == i, empty = true;
        if (!rb || (r = qc_rb_load(img, rb, &b)) < 0)
            continue;
        memcpy(tmp, b, q->cluster_size);
        if (self)
            qc_rb_put_entry(q, tmp, c % q->rb_entries, 0, &boff, &blen);
        for (uint32_t k = 0; k < q->cluster_size && empty; k++)
            empty = tmp[k] == 0;
        if (!empty)
            continue;
        /* Unhook first; then the block's own cluster is free (a block
         * that counted itself took its count with it). */
        r = io_write(img, q->h.refcount_table_offset + i * 8, zero8, 8);
        if (r < 0)
            break;
        q->rt[i] = 0;
        qc_cache_drop(img, q->rbc, rb);
        if (!self)
            r = qc_rc_update(img, c, -1);
    }
    img_free(img->env, tmp);
    return r;
}

/*
 * After a shrink, give the space back to the host: the file is cut after
 * the last cluster still in use (QEMU: qcow2_get_last_cluster, then a
 * truncate of the file), and free clusters before that become holes.
 * QEMU discards the clusters the shrink freed (QCOW2_DISCARD_ALWAYS);
 * imgtool punches every free cluster, which differs only in the bytes of
 * clusters nothing refers to.
 */
static int give_back_space(struct img *img)
{
    struct qcow2 *q = img->q;
    uint64_t fsz, nclus, last = 0, rc, run = 0;
    int r;
    if ((r = io_size(img, &fsz)) < 0)
        return r;
    nclus = div_up(fsz, q->cluster_size);
    for (uint64_t c = nclus; c-- > 0;) {
        if ((r = qc_rc_get(img, c, &rc)) < 0)
            return r;
        if (rc) {
            last = c;
            break;
        }
    }
    if (img->io.truncate && (last + 1) << q->cluster_bits < fsz) {
        if (img->io.truncate(img->io.ctx, (last + 1) << q->cluster_bits) < 0)
            return img_fail(img, IMG_EIO, "Could not truncate '%s'", img->name);
        q->alloc_end = last + 1;
    }
    if (!img->io.discard)
        return 0;
    /* Runs of free clusters below the end become holes. */
    for (uint64_t c = 1; c <= last + 1; c++) {
        bool free_c = c <= last && qc_rc_get(img, c, &rc) == 0 && rc == 0;
        if (free_c) {
            run++;
            continue;
        }
        if (run)
            img->io.discard(img->io.ctx, (c - run) << q->cluster_bits, run << q->cluster_bits);
        run = 0;
    }
    return 0;
}

int qc_resize(struct img *img, uint64_t new_size, int prealloc, bool allow_shrink)
{
    struct qcow2 *q = img->q;
    uint64_t old = img->size, need;
    uint8_t b[8];
    int r;
    if (new_size % 512)
        return img_fail(img, IMG_EINVAL, "The new size must be a multiple of 512");
    /* The virtual size is limited by the L1 table only (grow_l1), as in
     * QEMU; it may exceed the 56 bits of host offsets. */
    /* A snapshot records the disk size it was taken at in its extra data,
     * which only version 3 requires (qcow2.txt "Snapshots": "Version 3 images
     * must include extra data at least up to byte 55").  A v2 snapshot may
     * lack it and would then take the new size when applied, so QEMU
     * refuses to resize such an image at all, growing included. */
    if (q->nb_snaps && q->h.version < 3)
        return img_fail(img, IMG_ENOTSUP, "Can't resize a v2 image which has snapshots");
    if (new_size < old) {
        if (!allow_shrink)
            return img_fail(img, IMG_EINVAL,
                            "Use the --shrink option to perform a shrink "
                            "operation.");
        if (q->nb_snaps)
            return img_fail(img, IMG_ENOTSUP, "Can't resize an image which has snapshots");
        if (prealloc != IMG_PREALLOC_OFF)
            return img_fail(img, IMG_ENOTSUP,
                            "Preallocation can't be used for shrinking an "
                            "image");
    }
    r = qc_mark_dirty(img);
    if (r < 0)
        return r;
    need = div_up(new_size, (uint64_t)q->cluster_size << q->l2_bits);
    if (need > q->h.l1_size) {
        r = grow_l1(img, need);
        if (r < 0)
            return r;
    }
    if (new_size < old) {
        /* The part of the new last cluster past the new end is zeroed, so
         * growing again later shows zeros there, as a raw file would (QEMU
         * leaves the old bytes, which then reappear). */
        uint64_t tail = div_up(new_size, q->cluster_size) * q->cluster_size;
        if (tail > old)
            tail = old;
        if (tail > new_size) {
            r = qc_write_zeroes(img, new_size, tail - new_size, 0);
            if (r < 0)
                return r;
        }
        r = discard_tail(img, new_size);
        if (r < 0)
            return r;
    }
    /* The new size becomes visible last: after it every new cluster can be
     * addressed, and a crash before it just leaves an unused L1 table. */
    put64(b, new_size);
    r = io_write(img, QH_SIZE, b, 8);
    if (r < 0)
        return r;
    q->h.size = new_size;
    img->size = new_size;
    if (new_size < old) {
        r = drop_empty_refblocks(img);
        if (r == 0)
            r = give_back_space(img);
        return r;
    }
    if (new_size > old && prealloc != IMG_PREALLOC_OFF)
        r = prealloc != IMG_PREALLOC_METADATA ? preallocate_data(img, old, new_size, prealloc)
                                              : preallocate(img, old, new_size, prealloc);
    if (r == 0 && new_size > old)
        r = zero_new_area(img, old, new_size, prealloc);
    return r;
}

int img_resize(struct img *img, uint64_t new_size, int prealloc, bool allow_shrink)
{
    if (!img->rw)
        return img_fail(img, IMG_EROFS, "Image '%s' is opened read-only", img->name);
    if (img->q) {
        /* Bitmaps follow the disk's size: loaded at the old size, then
         * cut or zero-extended (QEMU's bdrv_dirty_bitmap_truncate).  A
         * grow stores the larger tables first (see qc_bitmaps_resize); if
         * the grow itself then fails, the bitmaps go back to the old size
         * and are stored so at close. */
        uint64_t old = img->size;
        bool grow = new_size > old;
        int r = qc_bitmaps_load_all(img);
        if (r == 0 && grow)
            r = qc_bitmaps_resize(img, new_size);
        if (r == 0) {
            r = qc_resize(img, new_size, prealloc, allow_shrink);
            if (r < 0 && grow)
                qc_bitmaps_resize(img, old);
        }
        if (r == 0 && !grow)
            r = qc_bitmaps_resize(img, new_size);
        return r;
    }
    if (new_size < img->size && !allow_shrink)
        return img_fail(img, IMG_EINVAL, "Use the --shrink option to perform a shrink operation.");
    if (!img->io.truncate)
        return img_fail(img, IMG_ENOTSUP, "Cannot resize '%s'", img->name);
    if (img->io.truncate(img->io.ctx, new_size) < 0)
        return img_fail(img, IMG_EIO, "Could not resize '%s'", img->name);
    uint64_t old = img->size;
    img->size = new_size;
    img->file_size = new_size;
    if (new_size > old && prealloc == IMG_PREALLOC_FALLOC && img->io.allocate)
        img->io.allocate(img->io.ctx, old, new_size - old);
    else if (new_size > old && prealloc >= IMG_PREALLOC_FALLOC)
        return img_write_zeroes(img, old, new_size - old, 0);
    return 0;
}
