/*
 * qcow2_snapshot.c: internal snapshots (qemu-img snapshot -l/-c/-a/-d).
 *
 * A snapshot is a saved copy of the L1 table plus one extra reference on
 * every cluster reachable from it (qcow2.txt "Snapshots").  Taking one copies
 * the active L1 table and raises the refcount of every L2 table and data
 * cluster it reaches; from then on writes to those clusters copy them
 * (their COPIED flags are cleared, since their refcount is now above 1).
 * The snapshot table lists the snapshots; it is always rewritten to new
 * clusters and switched in the header with one write, so a crash leaves the
 * old or the new table, never a half-written one.
 */
#include "internal.h"

#define SNAP_TABLE_MAX (64ull << 20) /* QEMU's QCOW_MAX_SNAPSHOTS_SIZE */

void qc_snap_free(struct img *img)
{
    struct qcow2 *q = img->q;
    for (int i = 0; i < q->nb_snaps; i++) {
        img_free(img->env, q->snaps[i].id);
        img_free(img->env, q->snaps[i].name);
        img_free(img->env, q->snaps[i].extra);
    }
    img_free(img->env, q->snaps);
    q->snaps = NULL;
    q->nb_snaps = 0;
}

static char *read_str(struct img *img, uint64_t off, uint32_t len)
{
    char *s = img_alloc(img->env, (size_t)len + 1);
    if (s && len && io_read(img, off, s, len) < 0) {
        img_free(img->env, s);
        return NULL;
    }
    return s;
}

int qc_snap_load(struct img *img)
{
    struct qcow2 *q = img->q;
    uint64_t off = q->h.snapshots_offset;
    uint32_t n = q->h.nb_snapshots;
    if (!n)
        return 0;
    q->snaps = img_alloc(img->env, sizeof(*q->snaps) * n);
    if (!q->snaps)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    for (uint32_t i = 0; i < n; i++) {
        struct qc_snapshot *s = &q->snaps[i];
        uint8_t f[QS_FIXED_LEN];
        uint32_t idl, nl;
        /* Past the end of the file the table reads as zeros (the
         * backend's rule, and QEMU's): such entries are "incomplete" for
         * check, not a reason to refuse the image. */
        if (off - q->h.snapshots_offset > SNAP_TABLE_MAX)
            return img_fail(img, IMG_ECORRUPT, "Snapshot table exceeds the maximum size");
        if (io_read(img, off, f, sizeof(f)) < 0)
            return -IMG_EIO;
        q->nb_snaps = (int)i + 1;
        s->l1_offset = be64(f + QS_L1_OFFSET);
        s->l1_size = be32(f + QS_L1_SIZE);
        idl = be16(f + QS_ID_SIZE);
        nl = be16(f + QS_NAME_SIZE);
        s->date_sec = be32(f + QS_DATE_SEC);
        s->date_nsec = be32(f + QS_DATE_NSEC);
        s->vm_clock_nsec = be64(f + QS_VM_CLOCK);
        s->vm_state_size = be32(f + QS_VM_STATE);
        s->extra_size = be32(f + QS_EXTRA_SIZE);
        s->icount = UINT64_MAX;
        s->disk_size = q->h.size;
        if (s->extra_size > QCOW_MAX_SNAPSHOT_EXTRA)
            return img_fail(img, IMG_ECORRUPT,
                            "Too much extra metadata in snapshot table "
                            "entry %u",
                            i);
        /* A damaged L1 table reference does not stop the image from
         * opening, as in QEMU (qcow2_read_snapshots checks it only when
         * the snapshot is used), so that check can report it and
         * snapshot -d can remove other snapshots; every use of its tree
         * goes through qc_snap_l1_usable() first. */
        off += QS_FIXED_LEN;
        s->extra = img_alloc(img->env, s->extra_size);
        if (!s->extra || (s->extra_size && io_read(img, off, s->extra, s->extra_size) < 0))
            return -IMG_EIO;
        if (s->extra_size >= 8)
            s->vm_state_size = be64(s->extra);
        if (s->extra_size >= 16)
            s->disk_size = be64(s->extra + 8);
        if (s->extra_size >= 24)
            s->icount = be64(s->extra + 16);
        off += s->extra_size;
        s->id = read_str(img, off, idl);
        s->name = read_str(img, off + idl, nl);
        if (!s->id || !s->name)
            return img_fail(img, IMG_ENOMEM, "Out of memory");
        off += idl + nl;
        off = (off + 7) & ~7ull;
    }
    return 0;
}

int img_snapshot_count(struct img *img)
{
    return img->q ? img->q->nb_snaps : 0;
}

int img_snapshot_get(struct img *img, int index, struct img_snapshot_info *info)
{
    struct qcow2 *q = img->q;
    if (!q || index < 0 || index >= q->nb_snaps)
        return img_fail(img, IMG_EINVAL, "No snapshot with index %d", index);
    struct qc_snapshot *s = &q->snaps[index];
    memset(info, 0, sizeof(*info));
    ksnprintf(info->id, sizeof(info->id), "%s", s->id);
    ksnprintf(info->name, sizeof(info->name), "%s", s->name);
    info->vm_state_size = s->vm_state_size;
    info->date_sec = s->date_sec;
    info->date_nsec = s->date_nsec;
    info->vm_clock_nsec = s->vm_clock_nsec;
    info->icount = s->icount;
    info->disk_size = s->disk_size;
    return 0;
}

/* Find a snapshot by id first, then by name (QEMU's find_snapshot_by_id_or_name). */
static int find_snap(struct qcow2 *q, const char *key)
{
    for (int i = 0; i < q->nb_snaps; i++)
        if (!strcmp(q->snaps[i].id, key))
            return i;
    for (int i = 0; i < q->nb_snaps; i++)
        if (!strcmp(q->snaps[i].name, key))
            return i;
    return -1;
}

/* Serialize the snapshot table (qcow2.txt "Snapshots"; entries 8-aligned). */
static uint64_t table_size(struct qcow2 *q)
{
    uint64_t sz = 0;
    for (int i = 0; i < q->nb_snaps; i++)
        sz = (sz + QS_FIXED_LEN + q->snaps[i].extra_size + strlen(q->snaps[i].id) +
              strlen(q->snaps[i].name) + 7) &
             ~7ull;
    return sz;
}

/*
 * Write the in-memory snapshot list as a new table in fresh clusters, switch
 * the header to it (nb_snapshots and snapshots_offset are adjacent, bytes
 * 60..71: one write), then free the old table.
 */
static int write_table(struct img *img, uint64_t old_off, uint64_t old_size)
{
    struct qcow2 *q = img->q;
    uint64_t sz = table_size(q), off = 0, pos = 0;
    uint8_t *b = NULL, hb[12];
    int r = 0;
    if (sz) {
        b = img_alloc(img->env, (size_t)sz);
        if (!b)
            return img_fail(img, IMG_ENOMEM, "Out of memory");
        for (int i = 0; i < q->nb_snaps; i++) {
            struct qc_snapshot *s = &q->snaps[i];
            uint32_t idl = (uint32_t)strlen(s->id), nl = (uint32_t)strlen(s->name);
            uint8_t *e = b + pos;
            put64(e + QS_L1_OFFSET, s->l1_offset);
            put32(e + QS_L1_SIZE, s->l1_size);
            put16(e + QS_ID_SIZE, (uint16_t)idl);
            put16(e + QS_NAME_SIZE, (uint16_t)nl);
            put32(e + QS_DATE_SEC, s->date_sec);
            put32(e + QS_DATE_NSEC, s->date_nsec);
            put64(e + QS_VM_CLOCK, s->vm_clock_nsec);
            put32(e + QS_VM_STATE, s->vm_state_size > UINT32_MAX ? 0 : (uint32_t)s->vm_state_size);
            put32(e + QS_EXTRA_SIZE, s->extra_size);
            memcpy(e + QS_FIXED_LEN, s->extra, s->extra_size);
            memcpy(e + QS_FIXED_LEN + s->extra_size, s->id, idl);
            memcpy(e + QS_FIXED_LEN + s->extra_size + idl, s->name, nl);
            pos = (pos + QS_FIXED_LEN + s->extra_size + idl + nl + 7) & ~7ull;
        }
        r = qc_alloc_clusters(img, div_up(sz, q->cluster_size), &off);
        if (r == 0)
            r = io_write(img, off, b, (size_t)sz);
        img_free(img->env, b);
        if (r < 0)
            return r;
    }
    put32(hb, (uint32_t)q->nb_snaps);
    put64(hb + 4, off);
    r = io_write(img, QH_NB_SNAPSHOTS, hb, 12);
    if (r < 0)
        return r;
    q->h.nb_snapshots = (uint32_t)q->nb_snaps;
    q->h.snapshots_offset = off;
    if (old_size)
        r = qc_rc_update_range(img, old_off, old_size, -1);
    return r;
}

/*
 * Add delta to the refcount of every cluster reachable from an L1 table
 * (its L2 tables and their data clusters), like QEMU's
 * qcow2_update_snapshot_refcount.  The L1 table's own clusters are not
 * included.
 */
static int tree_update(struct img *img, const uint64_t *l1, uint64_t l1n, int64_t delta)
{
    struct qcow2 *q = img->q;
    for (uint64_t i = 0; i < l1n; i++) {
        uint64_t l2_offset = l1[i] & QE_OFFSET;
        uint8_t *l2_table;
        int r;
        if (!l2_offset)
            continue;
        for (uint64_t j = 0; j < q->l2_entries; j++) {
            uint64_t entry, subcluster_bitmap;
            /* Loaded again for every entry: the refcount updates below go
             * through the same small caches and may evict the table. */
            r = qc_l2_load(img, l2_offset, &l2_table);
            if (r < 0)
                return r;
            qc_l2_entry(img, l2_table, j, &entry, &subcluster_bitmap);
            if (entry & QE_COMPRESSED) {
                /* A compressed stream holds one reference on every host
                 * cluster its sectors touch (qcow2.txt "Compressed
                 * Clusters Descriptor": it may run into the next cluster). */
                uint64_t stream_offset = qc_comp_off(q, entry);
                r = qc_rc_update_range(img, stream_offset & ~511ull,
                                       qc_comp_len(q, entry) + (stream_offset & 511), delta);
            } else if (entry & QE_OFFSET) {
                r = qc_rc_update(img, (entry & QE_OFFSET) >> q->cluster_bits, delta);
            }
            if (r < 0)
                return r;
        }
        /* The L2 table itself is shared by the snapshot as well. */
        r = qc_rc_update(img, l2_offset >> q->cluster_bits, delta);
        if (r < 0)
            return r;
    }
    return 0;
}

/*
 * Would one more reference on everything an L1 table reaches overflow a
 * refcount?  Checked before a snapshot is taken or applied, so a small
 * refcount width fails cleanly instead of half way.  A tree holds at most
 * rc references to a cluster whose refcount is rc, so rc * 2 must fit.
 */
static int tree_can_add(struct img *img, const uint64_t *l1, uint64_t l1n)
{
    struct qcow2 *q = img->q;
    for (uint64_t i = 0; i < l1n; i++) {
        uint64_t l2_offset = l1[i] & QE_OFFSET, rc;
        uint8_t *l2_table;
        int r;
        if (!l2_offset)
            continue;
        if ((r = qc_rc_get(img, l2_offset >> q->cluster_bits, &rc)) < 0)
            return r;
        if (rc > q->rc_max / 2)
            goto overflow;
        for (uint64_t j = 0; j < q->l2_entries; j++) {
            uint64_t entry, subcluster_bitmap, first_cluster, last_cluster;
            if ((r = qc_l2_load(img, l2_offset, &l2_table)) < 0)
                return r;
            qc_l2_entry(img, l2_table, j, &entry, &subcluster_bitmap);
            if (entry & QE_COMPRESSED) {
                uint64_t stream_offset = qc_comp_off(q, entry);
                first_cluster = stream_offset >> q->cluster_bits;
                last_cluster = (stream_offset + qc_comp_len(q, entry) - 1) >> q->cluster_bits;
            } else if (entry & QE_OFFSET) {
                first_cluster = last_cluster = (entry & QE_OFFSET) >> q->cluster_bits;
            } else {
                continue;
            }
            for (uint64_t c = first_cluster; c <= last_cluster; c++) {
                if ((r = qc_rc_get(img, c, &rc)) < 0)
                    return r;
                if (rc > q->rc_max / 2)
                    goto overflow;
            }
        }
    }
    return 0;
overflow:
    return img_fail(img, IMG_ERANGE,
                    "refcount_bits=%d is too small for another reference to the image's "
                    "clusters",
                    q->rc_bits);
}

/*
 * Set COPIED in the active tree exactly where the refcount is 1.
 *
 * COPIED (bit 63 of L1 and L2 entries) promises "refcount is exactly one",
 * which is what lets a write go in place instead of copying.  The promise
 * "is only accurate in the active L1 table" (qcow2.txt "Cluster mapping"),
 * and "When loading a snapshot, bit 63 of all entries in the new active L1
 * table and all L2 tables referenced by it must be reconstructed from the
 * refcount table" (qcow2.txt "Snapshots"): after every create, apply and
 * delete the refcounts have moved, so the flags are recomputed here.
 */
static int fix_copied(struct img *img)
{
    struct qcow2 *q = img->q;
    for (uint64_t i = 0; i < q->h.l1_size; i++) {
        uint64_t l2_offset = q->l1[i] & QE_OFFSET, table_rc;
        uint8_t *l2_table, raw[8];
        int r;
        if (!l2_offset)
            continue;
        r = qc_rc_get(img, l2_offset >> q->cluster_bits, &table_rc);
        if (r < 0)
            return r;
        /* Data entries get COPIED only in a table that is ours alone; in a
         * shared table the flags are cleared (this changes no mapping, so
         * the other users of the table are unaffected). */
        for (uint64_t j = 0; j < q->l2_entries; j++) {
            uint64_t entry, subcluster_bitmap, data_rc, new_entry;
            r = qc_l2_load(img, l2_offset, &l2_table);
            if (r < 0)
                return r;
            qc_l2_entry(img, l2_table, j, &entry, &subcluster_bitmap);
            /* Compressed entries never carry COPIED: they are never
             * written in place. */
            if ((entry & QE_COMPRESSED) || !(entry & QE_OFFSET))
                continue;
            r = qc_rc_get(img, (entry & QE_OFFSET) >> q->cluster_bits, &data_rc);
            if (r < 0)
                return r;
            new_entry = (table_rc == 1 && data_rc == 1) ? entry | QE_COPIED : entry & ~QE_COPIED;
            if (new_entry != entry &&
                (r = qc_l2_set(img, l2_offset, j, new_entry, subcluster_bitmap)) < 0)
                return r;
        }
        uint64_t new_l1_entry = table_rc == 1 ? q->l1[i] | QE_COPIED : q->l1[i] & ~QE_COPIED;
        if (new_l1_entry != q->l1[i]) {
            /* One 8-byte write per changed L1 entry, as for L2 entries. */
            put64(raw, new_l1_entry);
            r = io_write(img, q->h.l1_table_offset + i * 8, raw, 8);
            if (r < 0)
                return r;
            q->l1[i] = new_l1_entry;
        }
    }
    return 0;
}

int qc_snap_l1_usable(struct img *img, const struct qc_snapshot *s)
{
    /* The checks of QEMU's qcow2_validate_table(), in its order: a size
     * past the L1 limit, then an offset that is not cluster aligned (qcow2.txt
     * "Snapshots": the L1 table "Must be aligned to a cluster boundary"). */
    if ((uint64_t)s->l1_size * 8 > QCOW_MAX_L1_SIZE)
        return img_fail(img, IMG_ECORRUPT, "Snapshot L1 table too large");
    if (s->l1_offset & (img->q->cluster_size - 1))
        return img_fail(img, IMG_ECORRUPT, "Snapshot L1 table offset invalid");
    return 0;
}

static int read_l1(struct img *img, uint64_t off, uint32_t n, uint64_t **out)
{
    uint64_t *t = img_alloc(img->env, (size_t)(n ? n : 1) * 8);
    if (!t)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    if (n && io_read(img, off, t, (size_t)n * 8) < 0) {
        img_free(img->env, t);
        return -IMG_EIO;
    }
    for (uint32_t i = 0; i < n; i++) {
        t[i] = be64(&t[i]);
        uint64_t o = t[i] & QE_OFFSET;
        if (o && qc_check_meta_offset(img, o, img->q->cluster_size, "snapshot L2 table") < 0) {
            img_free(img->env, t);
            return -IMG_ECORRUPT;
        }
    }
    *out = t;
    return 0;
}

/*
 * qemu-img snapshot -c (QEMU's qcow2_snapshot_create).  What qcow2.txt
 * "Snapshots" asks for: "the L1 table should be copied and the refcount of
 * all L2 tables and clusters reachable from this L1 table must be
 * increased, so that a write causes a COW and isn't visible in other
 * snapshots."  The steps go in crash-safe order: the copy of the L1 table
 * and the raised refcounts come first (a crash there leaves leaks), the
 * snapshot table that makes the snapshot visible last, switched with one
 * header write (write_table).  Everything that can be refused (name,
 * count, refcount width, overflow) is checked before the first write.
 */
int img_snapshot_create(struct img *img, const char *name, uint32_t date_sec, uint32_t date_nsec)
{
    struct qcow2 *q = img->q;
    struct qc_snapshot *ns, *s;
    uint64_t l1off = 0, old_off, old_size, maxid = 0;
    uint8_t *b;
    char idbuf[24];
    int r;
    if (!q)
        return img_fail(img, IMG_ENOTSUP, "Only qcow2 images support snapshots");
    if (!img->rw)
        return img_fail(img, IMG_EROFS, "Image '%s' is opened read-only", img->name);
    if (find_snap(q, name) >= 0)
        return img_fail(img, IMG_EEXIST, "Snapshot '%s' already exists", name);
    if (strlen(name) > 65535)
        return img_fail(img, IMG_EINVAL, "Snapshot name too long");
    if (q->nb_snaps >= QCOW_MAX_SNAPSHOTS)
        return img_fail(img, IMG_ENOSPC, "Too many snapshots");
    if (q->rc_bits < 2)
        return img_fail(img, IMG_ENOTSUP,
                        "Snapshots need refcount_bits of at least 2 (this image uses 1)");
    /* The new id is one more than the largest numeric id, as QEMU does. */
    for (int i = 0; i < q->nb_snaps; i++) {
        uint64_t v = kstrtoull(q->snaps[i].id, NULL, 10);
        if (v > maxid)
            maxid = v;
    }
    ksnprintf(idbuf, sizeof(idbuf), "%llu", (unsigned long long)(maxid + 1));
    r = tree_can_add(img, q->l1, q->h.l1_size);
    if (r < 0)
        return r;
    r = qc_mark_dirty(img);
    if (r < 0)
        return r;

    /* 1. A copy of the active L1 table in new clusters. */
    if (q->h.l1_size) {
        uint64_t bytes = (uint64_t)q->h.l1_size * 8;
        r = qc_alloc_clusters(img, div_up(bytes, q->cluster_size), &l1off);
        if (r < 0)
            return r;
        b = img_alloc(img->env, (size_t)bytes);
        if (!b)
            return img_fail(img, IMG_ENOMEM, "Out of memory");
        for (uint32_t i = 0; i < q->h.l1_size; i++)
            put64(b + i * 8, q->l1[i]);
        r = io_write(img, l1off, b, (size_t)bytes);
        img_free(img->env, b);
        if (r < 0)
            return r;
    }
    /* 2. One more reference on everything the tree reaches; the active
     * tree's COPIED flags no longer hold. */
    r = tree_update(img, q->l1, q->h.l1_size, 1);
    if (r == 0)
        r = fix_copied(img);
    if (r < 0)
        return r;
    /* 3. The new table entry. */
    ns = img_alloc(img->env, sizeof(*ns) * (size_t)(q->nb_snaps + 1));
    if (!ns)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    /* An image without snapshots has no table (q->snaps is NULL), and
     * memcpy's source must be valid even for zero bytes (C11 7.24.1). */
    if (q->nb_snaps)
        memcpy(ns, q->snaps, sizeof(*ns) * (size_t)q->nb_snaps);
    s = &ns[q->nb_snaps];
    s->l1_offset = l1off;
    s->l1_size = q->h.l1_size;
    s->id = img_strdup(img->env, idbuf);
    s->name = img_strdup(img->env, name);
    s->date_sec = date_sec;
    s->date_nsec = date_nsec;
    s->disk_size = img->size;
    /* The spec ("Snapshots", snapshot table entry, extra data bytes
     * 56-63) reserves -1 for "icount was disabled", but qemu-img 7.2 stores
     * what replay_get_current_icount() returns outside record/replay,
     * which is 0, and `snapshot -l` then shows 0 in the ICOUNT column.
     * imgtool writes the same bytes. */
    s->icount = 0;
    /* Extra data as QEMU 7.2 writes it: vm_state_size_large, disk_size,
     * icount.  Version 3 requires at least 16 bytes. */
    s->extra_size = 24;
    s->extra = img_alloc(img->env, 24);
    if (!s->id || !s->name || !s->extra) {
        img_free(img->env, ns);
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    }
    put64(s->extra, 0);
    put64(s->extra + 8, img->size);
    put64(s->extra + 16, s->icount);
    old_off = q->h.snapshots_offset;
    old_size = table_size(q);
    img_free(img->env, q->snaps);
    q->snaps = ns;
    q->nb_snaps++;
    return write_table(img, old_off, old_size);
}

/*
 * qemu-img snapshot -a (QEMU's qcow2_snapshot_goto): the snapshot's tree
 * becomes the active one.  The snapshot keeps its own copy of the L1
 * table, so the active table gets the snapshot's entries written into it
 * (grown first if the snapshot's table is larger), with references taken
 * on the snapshot's tree before the active tree's references are dropped:
 * at no point can a cluster still reachable have its refcount reach 0.
 * The COPIED flags are then recomputed, as qcow2.txt "Snapshots" requires
 * "When loading a snapshot".
 */
int img_snapshot_apply(struct img *img, const char *key)
{
    struct qcow2 *q = img->q;
    uint64_t *sl1 = NULL, *old = NULL;
    uint32_t old_n;
    int i, r;
    if (!q)
        return img_fail(img, IMG_ENOTSUP, "Only qcow2 images support snapshots");
    if (!img->rw)
        return img_fail(img, IMG_EROFS, "Image '%s' is opened read-only", img->name);
    i = find_snap(q, key);
    if (i < 0)
        return img_fail(img, IMG_ENOENT, "Can't find snapshot '%s'", key);
    struct qc_snapshot *s = &q->snaps[i];
    r = qc_snap_l1_usable(img, s);
    if (r == 0)
        r = qc_mark_dirty(img);
    if (r == 0)
        r = read_l1(img, s->l1_offset, s->l1_size, &sl1);
    if (r == 0)
        r = tree_can_add(img, sl1, s->l1_size);
    if (r < 0) {
        img_free(img->env, sl1);
        return r;
    }
    /* The active L1 table must be able to hold the snapshot's. */
    if (s->l1_size > q->h.l1_size) {
        r = qc_resize(img, s->disk_size > img->size ? s->disk_size : img->size, IMG_PREALLOC_OFF,
                      false);
        if (r == 0 && s->l1_size > q->h.l1_size)
            r = img_fail(img, IMG_ECORRUPT, "Snapshot L1 table larger than the disk needs");
        if (r < 0)
            goto out;
    }
    old_n = q->h.l1_size;
    old = img_alloc(img->env, (size_t)(old_n ? old_n : 1) * 8);
    if (!old) {
        r = img_fail(img, IMG_ENOMEM, "Out of memory");
        goto out;
    }
    memcpy(old, q->l1, (size_t)old_n * 8);
    /* 1. References for the snapshot's tree, which becomes active ... */
    r = tree_update(img, sl1, s->l1_size, 1);
    if (r < 0)
        goto out;
    /* 2. ... the active L1 table now holds the snapshot's entries ... */
    {
        uint8_t *b = img_alloc(img->env, (size_t)old_n * 8 + 8);
        if (!b) {
            r = img_fail(img, IMG_ENOMEM, "Out of memory");
            goto out;
        }
        for (uint32_t k = 0; k < old_n; k++) {
            q->l1[k] = k < s->l1_size ? sl1[k] : 0;
            put64(b + k * 8, q->l1[k]);
        }
        r = old_n ? io_write(img, q->h.l1_table_offset, b, (size_t)old_n * 8) : 0;
        img_free(img->env, b);
        if (r < 0)
            goto out;
    }
    /* ... 3. and the previous active tree loses its references. */
    r = tree_update(img, old, old_n, -1);
    if (r == 0)
        r = fix_copied(img);
    /* The disk size is the snapshot's (QEMU restores it too). */
    if (r == 0 && s->disk_size != img->size) {
        uint8_t b8[8];
        put64(b8, s->disk_size);
        r = io_write(img, QH_SIZE, b8, 8);
        if (r == 0)
            img->size = q->h.size = s->disk_size;
    }
out:
    img_free(img->env, sl1);
    img_free(img->env, old);
    return r;
}

/*
 * qemu-img snapshot -d (QEMU's qcow2_snapshot_delete): the snapshot is
 * taken out of the table first, so nothing refers to its tree any more,
 * and only then are its references dropped and its L1 table freed.  A
 * crash in between leaks clusters but never frees one still in use.
 */
int img_snapshot_delete(struct img *img, const char *key)
{
    struct qcow2 *q = img->q;
    uint64_t *sl1 = NULL, old_off, old_size;
    int i, r;
    if (!q)
        return img_fail(img, IMG_ENOTSUP, "Only qcow2 images support snapshots");
    if (!img->rw)
        return img_fail(img, IMG_EROFS, "Image '%s' is opened read-only", img->name);
    i = find_snap(q, key);
    if (i < 0)
        return img_fail(img, IMG_ENOENT, "Can't find the snapshot '%s'", key);
    struct qc_snapshot s = q->snaps[i];
    r = qc_snap_l1_usable(img, &s);
    if (r == 0)
        r = qc_mark_dirty(img);
    if (r == 0)
        r = read_l1(img, s.l1_offset, s.l1_size, &sl1);
    if (r < 0)
        return r;
    /* 1. Unlist the snapshot (after this nothing refers to its tree) ... */
    old_off = q->h.snapshots_offset;
    old_size = table_size(q);
    memmove(&q->snaps[i], &q->snaps[i + 1], sizeof(s) * (size_t)(q->nb_snaps - i - 1));
    q->nb_snaps--;
    r = write_table(img, old_off, old_size);
    /* 2. ... then release its references and its L1 table ... */
    if (r == 0)
        r = tree_update(img, sl1, s.l1_size, -1);
    /* An L1 table recorded past the end of the file (a damaged entry)
     * has no clusters to release: QEMU reports its failed free and goes
     * on, so the entry can be removed; imgtool skips it quietly. */
    uint64_t fsz = 0;
    if (r == 0 && s.l1_size && io_size(img, &fsz) == 0 &&
        s.l1_offset + (uint64_t)s.l1_size * 8 <= fsz)
        r = qc_rc_update_range(img, s.l1_offset, (uint64_t)s.l1_size * 8, -1);
    /* 3. ... and clusters now used by the active tree alone get COPIED. */
    if (r == 0)
        r = fix_copied(img);
    img_free(img->env, s.id);
    img_free(img->env, s.name);
    img_free(img->env, s.extra);
    img_free(img->env, sl1);
    return r;
}

/*
 * Version 3 requires at least 16 bytes of extra data per snapshot (qcow2.txt
 * "Snapshots": vm_state_size_large and disk_size).  An upgrade from
 * version 2 (amend compat=1.1) extends shorter entries and rewrites the
 * table, as QEMU's qcow2_upgrade does.
 */
int qc_snap_upgrade(struct img *img)
{
    struct qcow2 *q = img->q;
    uint64_t old_off = q->h.snapshots_offset, old_size = table_size(q);
    bool need = false;
    for (int i = 0; i < q->nb_snaps; i++) {
        struct qc_snapshot *s = &q->snaps[i];
        if (s->extra_size >= 16)
            continue;
        uint8_t *e = img_alloc(img->env, 24);
        if (!e)
            return img_fail(img, IMG_ENOMEM, "Out of memory");
        put64(e, s->vm_state_size);
        put64(e + 8, s->disk_size);
        put64(e + 16, UINT64_MAX);
        img_free(img->env, s->extra);
        s->extra = e;
        s->extra_size = 24;
        need = true;
    }
    return need ? write_table(img, old_off, old_size) : 0;
}

/*
 * Read a snapshot in place of the active disk (qemu-img convert -l; QEMU's
 * qcow2_snapshot_load_tmp): only the in-memory L1 table is switched, so the
 * handle must be read-only and the file is never touched.  As in QEMU the
 * virtual size stays the image's current size.
 */
int img_snapshot_load_tmp(struct img *img, const char *id, const char *name)
{
    struct qcow2 *q = img->q;
    uint64_t *sl1;
    int i, r;
    if (!q)
        return img_fail(img, IMG_ENOTSUP, "Only qcow2 images support snapshots");
    if (img->rw)
        return img_fail(img, IMG_EINVAL, "Snapshots can only be loaded into a read-only handle");
    if (!id && !name)
        return img_fail(img, IMG_EINVAL, "No snapshot given");
    /* Both given: both must match (find_snapshot_by_id_and_name). */
    for (i = 0; i < q->nb_snaps; i++)
        if ((!id || !strcmp(q->snaps[i].id, id)) && (!name || !strcmp(q->snaps[i].name, name)))
            break;
    if (i == q->nb_snaps)
        return img_fail(img, IMG_ENOENT, "Can't find snapshot");
    r = qc_snap_l1_usable(img, &q->snaps[i]);
    if (r == 0)
        r = read_l1(img, q->snaps[i].l1_offset, q->snaps[i].l1_size, &sl1);
    if (r < 0)
        return r;
    img_free(img->env, q->l1);
    q->l1 = sl1;
    q->h.l1_size = q->snaps[i].l1_size;
    q->h.l1_table_offset = q->snaps[i].l1_offset;
    q->dcache_off = UINT64_MAX;
    return 0;
}

/*
 * Drop every cluster of the active disk, so all reads fall through to the
 * backing file again (qemu-img commit; QEMU's qcow2_make_empty).  A version
 * 3 image without snapshots is rebuilt from scratch as QEMU's
 * make_completely_empty does: header, refcount table (cluster 1), one
 * refcount block (cluster 2), a zeroed L1 table (cluster 3 on), with the
 * dirty bit set meanwhile so an interruption is repaired on the next open.
 * Otherwise every active cluster is released one by one.
 */
int img_make_empty(struct img *img)
{
    struct qcow2 *q = img->q;
    uint64_t l1_bytes, l1_clusters;
    uint8_t *b, hb[8];
    int r;
    if (!q)
        return img_fail(img, IMG_ENOTSUP, "Only qcow2 images can be emptied");
    if (!img->rw)
        return img_fail(img, IMG_EROFS, "Image '%s' is opened read-only", img->name);
    l1_bytes = (uint64_t)q->h.l1_size * 8;
    l1_clusters = div_up(l1_bytes, q->cluster_size);
    if (q->h.version >= 3 && !q->nb_snaps && 3 + l1_clusters <= q->rb_entries && img->io.truncate) {
        uint64_t sz = (3 + l1_clusters) * q->cluster_size;
        /* 1. Dirty: until the end the refcounts do not describe the file. */
        q->h.incompatible_features |= QF_INCOMPAT_DIRTY;
        put64(hb, q->h.incompatible_features);
        if ((r = io_write(img, QH_INCOMPAT, hb, 8)) < 0)
            return r;
        b = img_alloc(img->env, (size_t)sz);
        if (!b)
            return img_fail(img, IMG_ENOMEM, "Out of memory");
        /* 2. Empty L1 table and refcount structures at clusters 1..3+. */
        put64(b + q->cluster_size, 2ull * q->cluster_size);
        for (int c = 0; c < 3 + (int)l1_clusters; c++) {
            uint64_t bo;
            size_t bl;
            qc_rb_put_entry(q, b + 2 * q->cluster_size, (uint64_t)c, 1, &bo, &bl);
        }
        r = io_write(img, q->cluster_size, b + q->cluster_size, (size_t)(sz - q->cluster_size));
        img_free(img->env, b);
        if (r < 0)
            return r;
        /* 3. Point the header at them, drop everything past them. */
        memset(q->l1, 0, (size_t)l1_bytes);
        q->h.l1_table_offset = 3ull * q->cluster_size;
        q->h.refcount_table_offset = q->cluster_size;
        q->h.refcount_table_clusters = 1;
        q->h.incompatible_features &= ~QF_INCOMPAT_DIRTY;
        q->dirty_marked = false;
        /* (qc_update_header keeps the dirty bit clear: the new structures
         * are complete once this write lands.) */
        if ((r = qc_update_header(img)) < 0)
            return r;
        if (img->io.truncate(img->io.ctx, sz) < 0)
            return img_fail(img, IMG_EIO, "Could not truncate '%s'", img->name);
        img_free(img->env, q->rt);
        q->rt_entries = q->cluster_size / 8;
        q->rt = img_alloc(img->env, q->cluster_size);
        if (!q->rt)
            return img_fail(img, IMG_ENOMEM, "Out of memory");
        q->rt[0] = 2ull * q->cluster_size;
        for (int i = 0; i < QC_CACHE_SLOTS; i++)
            q->l2c[i].off = q->rbc[i].off = 0;
        q->free_hint = 0;
        q->alloc_end = 3 + l1_clusters;
        q->comp_next = 0;
        q->dcache_off = UINT64_MAX;
        return 0;
    }
    /* General case (QEMU's fallback, a full discard of the whole disk):
     * every L2 table is emptied in one write, then the clusters its
     * entries pointed at are released; the tables themselves stay. */
    r = qc_mark_dirty(img);
    b = img_alloc(img->env, q->cluster_size);
    if (!b)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    for (uint64_t i = 0; i < q->h.l1_size && r == 0; i++) {
        uint64_t l2off;
        uint8_t *t;
        bool any = false;
        if (!(q->l1[i] & QE_OFFSET))
            continue;
        if ((r = qc_l2_load(img, q->l1[i] & QE_OFFSET, &t)) < 0)
            break;
        for (uint64_t j = 0; j < q->cluster_size && !any; j++)
            any = t[j] != 0;
        if (!any)
            continue;
        if ((r = qc_l2_load_for_write(img, i, &l2off)) < 0 || (r = qc_l2_load(img, l2off, &t)) < 0)
            break;
        memcpy(b, t, q->cluster_size);
        {
            uint8_t *z = img_alloc(img->env, q->cluster_size);
            if (!z) {
                r = img_fail(img, IMG_ENOMEM, "Out of memory");
                break;
            }
            r = io_write(img, l2off, z, q->cluster_size);
            img_free(img->env, z);
        }
        qc_cache_drop(img, q->l2c, l2off);
        for (uint64_t j = 0; j < q->l2_entries && r == 0; j++) {
            uint64_t e, bm;
            qc_l2_entry(img, b, j, &e, &bm);
            r = qc_free_l2_entry_clusters(img, e);
        }
    }
    img_free(img->env, b);
    q->dcache_off = UINT64_MAX;
    return r;
}
