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
 *
 * An example of what that sharing means.  Take a disk whose cluster X is
 * mapped through L2 table T, both with refcount 1, and take a snapshot:
 * the snapshot's L1 copy points at T as the active L1 table does, so T and
 * X now have refcount 2 and their COPIED flags go.  A guest write to X
 * then finds T shared, so T is copied first (qcow2_io.c,
 * qc_l2_load_for_write) and the active L1 entry points at the copy; then
 * finds X shared, so the new data goes to a fresh cluster Y, the copy of T
 * points at Y, and X drops to refcount 1, now the snapshot's alone.  The
 * snapshot still reads the old data through T and X.  Deleting the
 * snapshot later drops its references: T and X go back to 0 and are free.
 *
 * Every operation here follows the library's crash rule: references are
 * taken before anything new points at a cluster, and dropped only after
 * the last pointer is gone, so an interruption leaves at worst leaked
 * clusters, never a cluster in use with a refcount too low.  The snapshot
 * table is the pointer that makes a snapshot exist: it is written after the
 * snapshot's references are in place (create), and before they are dropped
 * (delete).
 *
 * A snapshot saved by a running QEMU (savevm) also holds the VM state,
 * stored like disk content past the end of the virtual disk, in the same
 * tree (qcow2.txt "Snapshot table entry", bytes 32-35).  The tree walks
 * below go over every entry of a snapshot's L1 table, so those clusters
 * are counted, kept and released with the rest of the snapshot.
 * qcow2_vmstate.c writes that state (hv's savevm) and reads it back;
 * img_snapshot_create_vm() records its length.
 *
 * The file also holds qemu-img commit's emptying of the active disk
 * (img_make_empty), which walks the same trees.
 */
#include "internal.h"

#define SNAP_TABLE_MAX (64ull << 20) /* QEMU's QCOW_MAX_SNAPSHOTS_SIZE */

/* Free the in-memory snapshot list (the file is not touched). */
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

/*
 * A string of `len` bytes at `off`, as a C string.  The table's strings
 * are not null terminated (qcow2.txt "Snapshot table entry": "Unique ID
 * string for the snapshot (not null terminated)"); the extra byte of the
 * zeroed allocation terminates it.
 */
static char *read_str(struct img *img, uint64_t off, uint32_t len)
{
    char *str = img_alloc(img->env, (size_t)len + 1);
    if (str && len && io_read(img, off, str, len) < 0) {
        img_free(img->env, str);
        return NULL;
    }
    return str;
}

/*
 * The fixed 40 bytes of a snapshot table entry (qcow2.txt "Snapshot table
 * entry", bytes 0-39), into `snap`; the lengths of the id and the name,
 * which follow the extra data, into *id_len and *name_len.  Fields that
 * the extra data may override get their version 2 meaning here: the
 * 32-bit VM state size, the header's disk size, and an icount of -1
 * ("unknown").
 */
static void parse_fixed(struct qcow2 *q, const uint8_t *fixed, struct qc_snapshot *snap,
                        uint32_t *id_len, uint32_t *name_len)
{
    snap->l1_offset = be64(fixed + QS_L1_OFFSET);
    snap->l1_size = be32(fixed + QS_L1_SIZE);
    *id_len = be16(fixed + QS_ID_SIZE);
    *name_len = be16(fixed + QS_NAME_SIZE);
    /* Wall-clock time of the snapshot (seconds since the Epoch, then the
     * nanoseconds within that second) and the guest's run time until it,
     * both only shown by snapshot -l. */
    snap->date_sec = be32(fixed + QS_DATE_SEC);
    snap->date_nsec = be32(fixed + QS_DATE_NSEC);
    snap->vm_clock_nsec = be64(fixed + QS_VM_CLOCK);
    snap->vm_state_size = be32(fixed + QS_VM_STATE);
    snap->extra_size = be32(fixed + QS_EXTRA_SIZE);
    snap->icount = UINT64_MAX;
    snap->disk_size = q->h.size;
}

/*
 * Read snapshot table entry `index` at *off into q->snaps[index], and move
 * *off past it.  q->nb_snaps counts the entry as soon as its fixed part is
 * in, so that qc_snap_free() releases whatever a failure half way leaves.
 */
static int load_entry(struct img *img, uint32_t index, uint64_t *off)
{
    struct qcow2 *q = img->q;
    struct qc_snapshot *snap = &q->snaps[index];
    uint8_t fixed[QS_FIXED_LEN];
    uint32_t id_len, name_len;
    /* Past the end of the file the table reads as zeros (the
     * backend's rule, and QEMU's): such entries are "incomplete" for
     * check, not a reason to refuse the image.  The table's size is
     * bounded as QEMU bounds it, so a forged nb_snapshots cannot make
     * the walk read on through billions of entries. */
    if (*off - q->h.snapshots_offset > SNAP_TABLE_MAX)
        return img_fail(img, IMG_ECORRUPT, "Snapshot table exceeds the maximum size");
    if (io_read(img, *off, fixed, sizeof(fixed)) < 0)
        return -IMG_EIO;
    q->nb_snaps = (int)index + 1;
    parse_fixed(q, fixed, snap, &id_len, &name_len);
    /* QEMU's limit on extra data (1 KiB per entry), with its message. */
    if (snap->extra_size > QCOW_MAX_SNAPSHOT_EXTRA)
        return img_fail(img, IMG_ECORRUPT,
                        "Too much extra metadata in snapshot table "
                        "entry %u",
                        index);
    /* A damaged L1 table reference does not stop the image from
     * opening, as in QEMU (qcow2_read_snapshots checks it only when
     * the snapshot is used), so that check can report it and
     * snapshot -d can remove other snapshots; every use of its tree
     * goes through qc_snap_l1_usable() first. */
    *off += QS_FIXED_LEN;
    /* The extra data is kept as read, unknown fields included: "Unknown
     * fields must be ignored" (qcow2.txt "Snapshot table entry"), and a
     * rewrite of the table must not lose them. */
    snap->extra = img_alloc(img->env, snap->extra_size);
    if (!snap->extra || (snap->extra_size && io_read(img, *off, snap->extra, snap->extra_size) < 0))
        return -IMG_EIO;
    /* The fields the extra data defines, each only if the entry is long
     * enough to hold it: bytes 40-47 the 64-bit VM state size, 48-55 the
     * disk size, then QEMU's icount. */
    if (snap->extra_size >= 8)
        snap->vm_state_size = be64(snap->extra);
    if (snap->extra_size >= 16)
        snap->disk_size = be64(snap->extra + 8);
    if (snap->extra_size >= 24)
        snap->icount = be64(snap->extra + 16);
    *off += snap->extra_size;
    snap->id = read_str(img, *off, id_len);
    snap->name = read_str(img, *off + id_len, name_len);
    if (!snap->id || !snap->name)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    /* Entries are padded to a multiple of 8 bytes (qcow2.txt "Snapshot
     * table entry", the padding at its end). */
    *off += id_len + name_len;
    *off = (*off + 7) & ~7ull;
    return 0;
}

/*
 * Read the snapshot table the header points at (snapshots_offset,
 * nb_snapshots; qcow2.txt "Snapshots") into q->snaps.  On failure the
 * entries read so far stay listed; the caller frees them with the image.
 */
int qc_snap_load(struct img *img)
{
    struct qcow2 *q = img->q;
    uint64_t off = q->h.snapshots_offset;
    uint32_t count = q->h.nb_snapshots;
    int r;
    if (!count)
        return 0;
    /* One slot per entry the header announces; the walk below stops at
     * the first entry that cannot be read. */
    q->snaps = img_alloc(img->env, sizeof(*q->snaps) * count);
    if (!q->snaps)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    for (uint32_t i = 0; i < count; i++)
        if ((r = load_entry(img, i, &off)) < 0)
            return r;
    return 0;
}

int img_snapshot_count(struct img *img)
{
    return img->q ? img->q->nb_snaps : 0;
}

/* The public view of snapshot `index`, for snapshot -l and info. */
int img_snapshot_get(struct img *img, int index, struct img_snapshot_info *info)
{
    struct qcow2 *q = img->q;
    if (!q || index < 0 || index >= q->nb_snaps)
        return img_fail(img, IMG_EINVAL, "No snapshot with index %d", index);
    struct qc_snapshot *snap = &q->snaps[index];
    memset(info, 0, sizeof(*info));
    /* The info has fixed buffers (255 characters of name): a longer name
     * is cut here, for display only; the image keeps it whole. */
    ksnprintf(info->id, sizeof(info->id), "%s", snap->id);
    ksnprintf(info->name, sizeof(info->name), "%s", snap->name);
    info->vm_state_size = snap->vm_state_size;
    info->date_sec = snap->date_sec;
    info->date_nsec = snap->date_nsec;
    info->vm_clock_nsec = snap->vm_clock_nsec;
    info->icount = snap->icount;
    info->disk_size = snap->disk_size;
    return 0;
}

/*
 * Find a snapshot by id first, then by name (QEMU's
 * find_snapshot_by_id_or_name): a name that looks like another snapshot's
 * id therefore selects that other snapshot, exactly as with qemu-img.
 */
int qc_snap_find(struct qcow2 *q, const char *key)
{
    for (int i = 0; i < q->nb_snaps; i++)
        if (!strcmp(q->snaps[i].id, key))
            return i;
    for (int i = 0; i < q->nb_snaps; i++)
        if (!strcmp(q->snaps[i].name, key))
            return i;
    return -1;
}

/*
 * The snapshot `key` (id or name) of a writable qcow2 image, for -a and
 * -d; *index gets its place in the list.  qemu-img 7.2 words a missing
 * snapshot differently for the two: -a reports the failed load with the
 * errno text ("Failed to load snapshot: No such file or directory"), -d
 * says "snapshot not found"; `missing` is the text to give.
 */
static int find_snap_to_change(struct img *img, const char *key, const char *missing, int *index)
{
    if (!img->q)
        return img_fail(img, IMG_ENOTSUP, "Only qcow2 images support snapshots");
    if (!img->rw)
        return img_fail(img, IMG_EROFS, "Image '%s' is opened read-only", img->name);
    *index = qc_snap_find(img->q, key);
    if (*index < 0)
        return img_fail(img, IMG_ENOENT, "%s", missing);
    return 0;
}

/*
 * The size of the serialized snapshot table (qcow2.txt "Snapshot table
 * entry": 40 fixed bytes, the extra data, id and name, each entry padded
 * to a multiple of 8); check uses it too, to count the table's clusters.
 * A snapshot made by qemu-img 7.2, with 24 bytes of extra data, id "1"
 * and name "base", takes 40 + 24 + 1 + 4 = 69 bytes, padded to 72.
 */
uint64_t qc_snap_table_size(const struct qcow2 *q)
{
    uint64_t size = 0;
    for (int i = 0; i < q->nb_snaps; i++)
        size = (size + QS_FIXED_LEN + q->snaps[i].extra_size + strlen(q->snaps[i].id) +
                strlen(q->snaps[i].name) + 7) &
               ~7ull;
    return size;
}

/* Serialize the in-memory list into `buf` (qc_snap_table_size() bytes,
 * zeroed, so the padding is zeros), big-endian as every qcow2 field. */
static void serialize_table(struct qcow2 *q, uint8_t *buf)
{
    /* pos: where the next entry starts, always a multiple of 8. */
    uint64_t pos = 0;
    for (int i = 0; i < q->nb_snaps; i++) {
        struct qc_snapshot *snap = &q->snaps[i];
        /* Both lengths fit their 16-bit fields: names are checked at
         * creation, ids are numbers or came from a table. */
        uint32_t id_len = (uint32_t)strlen(snap->id), name_len = (uint32_t)strlen(snap->name);
        uint8_t *entry = buf + pos;
        put64(entry + QS_L1_OFFSET, snap->l1_offset);
        put32(entry + QS_L1_SIZE, snap->l1_size);
        put16(entry + QS_ID_SIZE, (uint16_t)id_len);
        put16(entry + QS_NAME_SIZE, (uint16_t)name_len);
        put32(entry + QS_DATE_SEC, snap->date_sec);
        put32(entry + QS_DATE_NSEC, snap->date_nsec);
        put64(entry + QS_VM_CLOCK, snap->vm_clock_nsec);
        /* A VM state too large for the 32-bit field is stored as 0 there;
         * the 64-bit field of the extra data carries it ("If this field is
         * present, the 32-bit value in bytes 32-35 is ignored"). */
        put32(entry + QS_VM_STATE,
              snap->vm_state_size > UINT32_MAX ? 0 : (uint32_t)snap->vm_state_size);
        put32(entry + QS_EXTRA_SIZE, snap->extra_size);
        memcpy(entry + QS_FIXED_LEN, snap->extra, snap->extra_size);
        memcpy(entry + QS_FIXED_LEN + snap->extra_size, snap->id, id_len);
        memcpy(entry + QS_FIXED_LEN + snap->extra_size + id_len, snap->name, name_len);
        pos = (pos + QS_FIXED_LEN + snap->extra_size + id_len + name_len + 7) & ~7ull;
    }
}

/*
 * Write the in-memory snapshot list as a new table in fresh clusters, switch
 * the header to it (nb_snapshots and snapshots_offset are adjacent, bytes
 * 60..71: one write, qcow2.txt "Header"), then free the old table.  Never in place: a crash
 * while the old table is being overwritten would lose every snapshot.  An
 * empty list writes no table: the header then says 0 snapshots at offset 0.
 */
static int write_table(struct img *img, uint64_t old_off, uint64_t old_size)
{
    struct qcow2 *q = img->q;
    uint64_t size = qc_snap_table_size(q), new_off = 0;
    uint8_t *buf = NULL, hdr_fields[12];
    int r = 0;
    if (size) {
        buf = img_alloc(img->env, (size_t)size);
        if (!buf)
            return img_fail(img, IMG_ENOMEM, "Out of memory");
        serialize_table(q, buf);
        /* The clusters are counted before the table is written into them
         * and long before the header points there. */
        r = qc_alloc_clusters(img, div_up(size, q->cluster_size), &new_off);
        if (r == 0)
            r = io_write(img, new_off, buf, (size_t)size);
        img_free(img->env, buf);
        if (r < 0)
            return r;
    }
    put32(hdr_fields, (uint32_t)q->nb_snaps);
    put64(hdr_fields + 4, new_off);
    r = io_write(img, QH_NB_SNAPSHOTS, hdr_fields, 12);
    if (r < 0)
        return r;
    q->h.nb_snapshots = (uint32_t)q->nb_snaps;
    q->h.snapshots_offset = new_off;
    /* The old table is unreachable now; its clusters go last.  It was
     * allocated as whole clusters, so the range covers exactly those. */
    if (old_size)
        r = qc_rc_update_range(img, old_off, old_size, -1);
    return r;
}

/*
 * Add delta to the refcount of every cluster reachable from an L1 table
 * (its L2 tables and their data clusters), like QEMU's
 * qcow2_update_snapshot_refcount.  The L1 table's own clusters are not
 * included.
 *
 * A cluster reached twice (two entries mapping the same host cluster, or
 * two compressed clusters sharing one) gets delta twice, once per
 * reference, which is exactly what its refcount counts.  The callers keep
 * the crash order: +1 runs before the tree is made reachable a second
 * time (a crash leaves leaks), -1 only after one way of reaching it is
 * gone (a crash leaves leaks too, never a count below the true one).
 */
static int tree_update(struct img *img, const uint64_t *l1, uint64_t l1_entries, int64_t delta)
{
    struct qcow2 *q = img->q;
    for (uint64_t l1_index = 0; l1_index < l1_entries; l1_index++) {
        uint64_t l2_offset = l1[l1_index] & QE_OFFSET;
        uint8_t *l2_table;
        int r;
        if (!l2_offset)
            continue;
        for (uint64_t l2_index = 0; l2_index < q->l2_entries; l2_index++) {
            uint64_t entry, subcluster_bitmap;
            /* Loaded again for every entry: the refcount updates below go
             * through the same small caches and may evict the table. */
            r = qc_l2_load(img, l2_offset, &l2_table);
            if (r < 0)
                return r;
            qc_l2_entry(img, l2_table, l2_index, &entry, &subcluster_bitmap);
            if (entry & QE_COMPRESSED) {
                /* A compressed stream holds one reference on every host
                 * cluster its sectors touch (qcow2.txt "Compressed
                 * Clusters Descriptor": it may run into the next cluster). */
                uint64_t stream_offset = qc_comp_off(q, entry);
                r = qc_rc_update_range(img, stream_offset & ~511ull,
                                       qc_comp_len(q, entry) + (stream_offset & 511), delta);
            } else if (entry & QE_OFFSET) {
                /* A standard cluster, also a preallocated zero one: its
                 * host cluster is in use whatever it reads as. */
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
 * With 16-bit refcounts that allows counts up to 32767 before the
 * snapshot; with 2-bit ones (maximum 3) only 1, so a second snapshot of
 * an unchanged cluster is refused.  The test is conservative: it may
 * refuse a snapshot that would just fit, never allow one that overflows.
 */
static int tree_can_add(struct img *img, const uint64_t *l1, uint64_t l1_entries)
{
    struct qcow2 *q = img->q;
    for (uint64_t l1_index = 0; l1_index < l1_entries; l1_index++) {
        uint64_t l2_offset = l1[l1_index] & QE_OFFSET, rc;
        uint8_t *l2_table;
        int r;
        if (!l2_offset)
            continue;
        if ((r = qc_rc_get(img, l2_offset >> q->cluster_bits, &rc)) < 0)
            return r;
        if (rc > q->rc_max / 2)
            goto overflow;
        for (uint64_t l2_index = 0; l2_index < q->l2_entries; l2_index++) {
            uint64_t entry, subcluster_bitmap, first_cluster, last_cluster;
            if ((r = qc_l2_load(img, l2_offset, &l2_table)) < 0)
                return r;
            qc_l2_entry(img, l2_table, l2_index, &entry, &subcluster_bitmap);
            /* The host clusters the entry holds references on: the same
             * ones tree_update() would change. */
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
 * "is only accurate in the active L1 table" (qcow2.txt "L1 table entry"),
 * and "When loading a snapshot, bit 63 of all entries in the new active L1
 * table and all L2 tables referenced by it must be reconstructed from the
 * refcount table" (qcow2.txt "Snapshots"): after every create, apply and
 * delete the refcounts have moved, so the flags are recomputed here.
 *
 * A flag too many would let a write change a cluster a snapshot still
 * reads; a flag too few only costs a needless copy.  The walk covers the
 * whole active tree with a refcount lookup per mapped entry: the price of
 * exact flags, paid once per snapshot operation rather than per write.  Each entry is
 * rewritten on its own with one small write, so a crash leaves every
 * entry either as it was or corrected.
 */
static int fix_copied(struct img *img)
{
    struct qcow2 *q = img->q;
    for (uint64_t l1_index = 0; l1_index < q->h.l1_size; l1_index++) {
        uint64_t l2_offset = q->l1[l1_index] & QE_OFFSET, table_rc;
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
        for (uint64_t l2_index = 0; l2_index < q->l2_entries; l2_index++) {
            uint64_t entry, subcluster_bitmap, data_rc, new_entry;
            r = qc_l2_load(img, l2_offset, &l2_table);
            if (r < 0)
                return r;
            qc_l2_entry(img, l2_table, l2_index, &entry, &subcluster_bitmap);
            /* Compressed entries never carry COPIED: they are never
             * written in place. */
            if ((entry & QE_COMPRESSED) || !(entry & QE_OFFSET))
                continue;
            r = qc_rc_get(img, (entry & QE_OFFSET) >> q->cluster_bits, &data_rc);
            if (r < 0)
                return r;
            new_entry = (table_rc == 1 && data_rc == 1) ? entry | QE_COPIED : entry & ~QE_COPIED;
            if (new_entry != entry &&
                (r = qc_l2_set(img, l2_offset, l2_index, new_entry, subcluster_bitmap)) < 0)
                return r;
        }
        /* The L1 entry's own flag says whether the L2 table is ours alone
         * (qcow2.txt "L1 table entry", bit 63). */
        uint64_t new_l1_entry =
            table_rc == 1 ? q->l1[l1_index] | QE_COPIED : q->l1[l1_index] & ~QE_COPIED;
        if (new_l1_entry != q->l1[l1_index]) {
            /* One 8-byte write per changed L1 entry, as for L2 entries. */
            put64(raw, new_l1_entry);
            r = io_write(img, q->h.l1_table_offset + l1_index * 8, raw, 8);
            if (r < 0)
                return r;
            q->l1[l1_index] = new_l1_entry;
        }
    }
    return 0;
}

int qc_snap_l1_usable(struct img *img, const struct qc_snapshot *s)
{
    /* The checks of QEMU's qcow2_validate_table(), in its order: a size
     * past the L1 limit, then an offset that is not cluster aligned (qcow2.txt
     * "Snapshot table entry": the L1 table "Must be aligned to a cluster
     * boundary"). */
    /* QEMU's 32 MB limit on an L1 table (qcow2.txt "Header", the note
     * under size): a forged entry could otherwise make the library
     * allocate and read gigabytes before finding anything wrong. */
    if ((uint64_t)s->l1_size * 8 > QCOW_MAX_L1_SIZE)
        return img_fail(img, IMG_ECORRUPT, "Snapshot L1 table too large");
    if (s->l1_offset & (img->q->cluster_size - 1))
        return img_fail(img, IMG_ECORRUPT, "Snapshot L1 table offset invalid");
    return 0;
}

/*
 * Read a snapshot's L1 table of `entries` entries at `off` into a new
 * buffer, in host byte order.  Every L2 table it names must pass the same
 * check as the active tables' (qc_check_meta_offset: cluster aligned,
 * past the header, below the 56-bit limit), before any of them is read or
 * has its refcount changed.
 */
int qc_snap_read_l1(struct img *img, uint64_t off, uint32_t entries, uint64_t **out)
{
    /* At least one entry, so that an empty table still gets a buffer the
     * caller can free like any other. */
    uint64_t *l1 = img_alloc(img->env, (size_t)(entries ? entries : 1) * 8);
    if (!l1)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    if (entries && io_read(img, off, l1, (size_t)entries * 8) < 0) {
        img_free(img->env, l1);
        return -IMG_EIO;
    }
    for (uint32_t i = 0; i < entries; i++) {
        /* Converted in place: be64() reads the bytes before the store. */
        l1[i] = be64(&l1[i]);
        uint64_t l2_off = l1[i] & QE_OFFSET;
        if (l2_off &&
            qc_check_meta_offset(img, l2_off, img->q->cluster_size, "snapshot L2 table") < 0) {
            img_free(img->env, l1);
            return -IMG_ECORRUPT;
        }
    }
    *out = l1;
    return 0;
}

/*
 * The refusals of snapshot -c, all before the first write.  The messages
 * are qemu-img's where it has one; refcount_bits=1 is imgtool's own: a
 * snapshot puts a second reference on every cluster, which a 1-bit count
 * cannot hold.
 */
static int check_create_allowed(struct img *img, const char *name)
{
    struct qcow2 *q = img->q;
    if (!q)
        return img_fail(img, IMG_ENOTSUP, "Only qcow2 images support snapshots");
    if (!img->rw)
        return img_fail(img, IMG_EROFS, "Image '%s' is opened read-only", img->name);
    /* "neither compressed clusters nor internal snapshots are supported"
     * with an external data file (qcow2.txt "Header", incompatible bit 2):
     * QEMU fails with ENOTSUP, which qemu-img prints as a number. */
    if (q->data_file)
        return img_fail(img, IMG_ENOTSUP, "-95 (Operation not supported)");
    /* qc_snap_find() looks at ids too: a name equal to an existing id is
     * refused like a duplicate name, since -a and -d, which look at ids
     * first, could never select the new snapshot by that name. */
    if (qc_snap_find(q, name) >= 0)
        return img_fail(img, IMG_EEXIST, "Snapshot '%s' already exists", name);
    /* The name's length is a 16-bit field (qcow2.txt "Snapshot table
     * entry", bytes 14-15). */
    if (strlen(name) > 65535)
        return img_fail(img, IMG_EINVAL, "Snapshot name too long");
    /* QEMU's limit (QCOW_MAX_SNAPSHOTS), so an image imgtool writes
     * stays one QEMU opens. */
    if (q->nb_snaps >= QCOW_MAX_SNAPSHOTS)
        return img_fail(img, IMG_ENOSPC, "Too many snapshots");
    /* With 1-bit counts no cluster can be shared, which is all a snapshot
     * does: refused at once, whatever the disk holds (tree_can_add() would
     * find out only after a walk, and not for an empty disk). */
    if (q->rc_bits < 2)
        return img_fail(img, IMG_ENOTSUP,
                        "Snapshots need refcount_bits of at least 2 (this image uses 1)");
    return 0;
}

/*
 * Step 1 of snapshot -c: a copy of the active L1 table in new clusters, at
 * *l1_off (0 for a disk with an empty L1 table).  The entries are copied
 * with their COPIED flags; in a snapshot's table those mean nothing (only
 * the active table's are accurate) and fix_copied() corrects the active
 * ones.
 */
static int copy_active_l1(struct img *img, uint64_t *l1_off)
{
    struct qcow2 *q = img->q;
    uint64_t bytes = (uint64_t)q->h.l1_size * 8;
    uint8_t *buf;
    int r;
    *l1_off = 0;
    if (!q->h.l1_size)
        return 0;
    /* Counted first, written next; only the snapshot table written in
     * step 3 will point here, so until then a crash leaves a leak. */
    r = qc_alloc_clusters(img, div_up(bytes, q->cluster_size), l1_off);
    if (r < 0)
        return r;
    buf = img_alloc(img->env, (size_t)bytes);
    if (!buf)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    for (uint32_t i = 0; i < q->h.l1_size; i++)
        put64(buf + i * 8, q->l1[i]);
    r = io_write(img, *l1_off, buf, (size_t)bytes);
    img_free(img->env, buf);
    return r;
}

/*
 * Step 3 of snapshot -c: a new entry for the list, then the new table
 * (write_table), whose header switch is the moment the snapshot exists.
 */
static int add_table_entry(struct img *img, const char *name, uint64_t l1_off,
                           const struct img_snapshot_vm *vm)
{
    struct qcow2 *q = img->q;
    struct qc_snapshot *new_list, *snap;
    uint64_t old_off, old_size, max_id = 0;
    char id_buf[24];
    /* The new id is one more than the largest numeric id, as QEMU does
     * (an id counts by its leading digits, one without them as 0). */
    for (int i = 0; i < q->nb_snaps; i++) {
        uint64_t id = kstrtoull(q->snaps[i].id, NULL, 10);
        if (id > max_id)
            max_id = id;
    }
    ksnprintf(id_buf, sizeof(id_buf), "%llu", (unsigned long long)(max_id + 1));
    new_list = img_alloc(img->env, sizeof(*new_list) * (size_t)(q->nb_snaps + 1));
    if (!new_list)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    /* An image without snapshots has no table (q->snaps is NULL), and
     * memcpy's source must be valid even for zero bytes (C11 7.24.1). */
    if (q->nb_snaps)
        memcpy(new_list, q->snaps, sizeof(*new_list) * (size_t)q->nb_snaps);
    snap = &new_list[q->nb_snaps];
    snap->l1_offset = l1_off;
    snap->l1_size = q->h.l1_size;
    snap->id = img_strdup(img->env, id_buf);
    snap->name = img_strdup(img->env, name);
    snap->date_sec = vm->date_sec;
    snap->date_nsec = vm->date_nsec;
    /* The guest's run time and the VM state's length: 0 for a snapshot
     * of the disk alone (qemu-img's), what the caller wrote with
     * img_vmstate_write() for a savevm.  The disk size is recorded so
     * that applying the snapshot brings the size back with the data. */
    snap->vm_clock_nsec = vm->vm_clock_nsec;
    snap->vm_state_size = vm->vm_state_size;
    snap->disk_size = img->size;
    /* The spec ("Snapshots", snapshot table entry, extra data bytes
     * 56-63) reserves -1 for "icount was disabled", but qemu-img 7.2 stores
     * what replay_get_current_icount() returns outside record/replay,
     * which is 0, and `snapshot -l` then shows 0 in the ICOUNT column.
     * QEMU's savevm (save_snapshot) stores -1 outside record/replay
     * instead, and its snapshot lists with the column empty.  imgtool
     * writes the same bytes as each: -1 for a snapshot with VM state. */
    snap->icount = vm->vm_state_size ? UINT64_MAX : 0;
    /* Extra data as QEMU 7.2 writes it: vm_state_size_large, disk_size,
     * icount.  Version 3 requires at least 16 bytes. */
    snap->extra_size = 24;
    snap->extra = img_alloc(img->env, 24);
    if (!snap->id || !snap->name || !snap->extra) {
        img_free(img->env, new_list);
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    }
    /* vm_state_size_large (qcow2.txt "Snapshot table entry", extra data
     * bytes 0-7) always holds the full length; serialize_table() fills
     * the 32-bit field of bytes 32-35 when the length fits it. */
    put64(snap->extra, vm->vm_state_size);
    put64(snap->extra + 8, img->size);
    put64(snap->extra + 16, snap->icount);
    /* The old table's place and size, for write_table() to free. */
    old_off = q->h.snapshots_offset;
    old_size = qc_snap_table_size(q);
    img_free(img->env, q->snaps);
    q->snaps = new_list;
    q->nb_snaps++;
    return write_table(img, old_off, old_size);
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
int img_snapshot_create_vm(struct img *img, const char *name, const struct img_snapshot_vm *vm)
{
    struct qcow2 *q = img->q;
    uint64_t l1_off;
    int r;
    if ((r = check_create_allowed(img, name)) < 0)
        return r;
    r = tree_can_add(img, q->l1, q->h.l1_size);
    if (r < 0)
        return r;
    /* With lazy refcounts the dirty bit goes on before the first change
     * (qcow2.txt "Header", incompatible_features bit 0), so that an
     * interrupted snapshot is repaired on the next open. */
    r = qc_mark_dirty(img);
    if (r < 0)
        return r;
    /* 1. A copy of the active L1 table in new clusters. */
    if ((r = copy_active_l1(img, &l1_off)) < 0)
        return r;
    /* 2. One more reference on everything the tree reaches; the active
     * tree's COPIED flags no longer hold.  They are cleared before the
     * snapshot exists: a write that still found COPIED set would go in
     * place into a cluster the snapshot is about to share.  A crash after
     * this step leaves raised counts (leaks) and cleared flags (needless
     * copies), both harmless. */
    r = tree_update(img, q->l1, q->h.l1_size, 1);
    if (r == 0)
        r = fix_copied(img);
    if (r < 0)
        return r;
    /* 3. The new table entry. */
    if ((r = add_table_entry(img, name, l1_off, vm)) < 0 || !vm->vm_state_size)
        return r;
    /* 4. The VM state now belongs to the snapshot; the active tree lets go
     * of it, as QEMU's qcow2_snapshot_create does ("The VM state isn't
     * needed any more in the active L1 table; in fact, it hurts by causing
     * expensive COW for the next snapshot").  Its clusters keep the
     * snapshot's reference; the rest of the active tree keeps the flags
     * fix_copied() gave it. */
    return qc_discard_from(img, qc_vmstate_offset(q, img->size));
}

/* qemu-img snapshot -c: a snapshot of the disk alone, no VM state. */
int img_snapshot_create(struct img *img, const char *name, uint32_t date_sec, uint32_t date_nsec)
{
    struct img_snapshot_vm vm = {.date_sec = date_sec, .date_nsec = date_nsec};
    return img_snapshot_create_vm(img, name, &vm);
}

/*
 * Make the active L1 table large enough for the snapshot's.  A snapshot of
 * a larger disk grows the disk to the snapshot's size first (qc_resize
 * grows the table with it).  A snapshot with VM state has a longer table
 * than its disk needs, since the state lies past the disk's last L1 entry
 * (qcow2.txt "Snapshot table entry", bytes 32-35): the active table then
 * grows to the snapshot's length, as QEMU's qcow2_snapshot_goto grows it
 * (the length itself was bounded by qc_snap_l1_usable()).
 *
 * The grow is a complete resize of its own (new size in the header): if a
 * later step of the apply fails, the disk stays grown, its new part
 * unallocated, which reads as zeros or from the backing file as after any
 * grow.
 */
static int fit_active_l1(struct img *img, const struct qc_snapshot *snap)
{
    struct qcow2 *q = img->q;
    int r = 0;
    if (snap->l1_size <= q->h.l1_size)
        return 0;
    if (snap->disk_size > img->size)
        r = qc_resize(img, snap->disk_size, IMG_PREALLOC_OFF, false);
    if (r == 0 && snap->l1_size > q->h.l1_size)
        r = qc_grow_l1(img, snap->l1_size);
    return r;
}

/*
 * Step 2 of snapshot -a: write the snapshot's entries over the active L1
 * table (its first `active_entries` entries; entries past the snapshot's
 * table become 0), in memory and in one write to the file.  The active
 * table keeps its place and size: only its contents change.
 *
 * A crash in the middle of this write leaves an active table that is part
 * snapshot, part old disk; every entry in it still points at a tree whose
 * references are held (the snapshot's were taken in step 1, the old
 * disk's are dropped only in step 3), so the image is consistent, if not
 * the disk the user asked for, and the leaks are repairable.
 */
static int install_l1(struct img *img, const uint64_t *snap_l1, uint32_t snap_entries,
                      uint32_t active_entries)
{
    struct qcow2 *q = img->q;
    uint8_t *buf = img_alloc(img->env, (size_t)active_entries * 8 + 8);
    int r;
    if (!buf)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    for (uint32_t i = 0; i < active_entries; i++) {
        q->l1[i] = i < snap_entries ? snap_l1[i] : 0;
        put64(buf + i * 8, q->l1[i]);
    }
    /* An empty table has nothing to write (and no clusters). */
    r = active_entries ? io_write(img, q->h.l1_table_offset, buf, (size_t)active_entries * 8) : 0;
    img_free(img->env, buf);
    return r;
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
    uint64_t *snap_l1 = NULL, *old_l1 = NULL;
    uint32_t old_entries;
    int index, r;
    /* No internal snapshots with a data file (check_create_allowed);
     * QEMU refuses before it looks the name up. */
    if (q && q->data_file)
        return img_fail(img, IMG_ENOTSUP, "Failed to load snapshot: Operation not supported");
    if ((r = find_snap_to_change(img, key, "Failed to load snapshot: No such file or directory",
                                 &index)) < 0)
        return r;
    /* A pointer into the list: nothing below adds or removes entries. */
    struct qc_snapshot *snap = &q->snaps[index];
    /* Everything that can refuse comes before the first reference moves:
     * the snapshot's table must be sane and readable, and one more
     * reference on its tree must fit the refcount width. */
    r = qc_snap_l1_usable(img, snap);
    if (r == 0)
        r = qc_mark_dirty(img);
    if (r == 0)
        r = qc_snap_read_l1(img, snap->l1_offset, snap->l1_size, &snap_l1);
    if (r == 0)
        r = tree_can_add(img, snap_l1, snap->l1_size);
    if (r < 0) {
        img_free(img->env, snap_l1);
        return r;
    }
    /* The active L1 table must be able to hold the snapshot's: the
     * snapshot may be of a larger disk than the active one is now. */
    if ((r = fit_active_l1(img, snap)) < 0)
        goto out;
    /* The active tree as it was, for dropping its references at the end:
     * install_l1() overwrites q->l1 in place, and after a grow the table
     * may hold more entries than the snapshot's. */
    old_entries = q->h.l1_size;
    old_l1 = img_alloc(img->env, (size_t)(old_entries ? old_entries : 1) * 8);
    if (!old_l1) {
        r = img_fail(img, IMG_ENOMEM, "Out of memory");
        goto out;
    }
    memcpy(old_l1, q->l1, (size_t)old_entries * 8);
    /* 1. References for the snapshot's tree, which becomes active ... */
    r = tree_update(img, snap_l1, snap->l1_size, 1);
    if (r < 0)
        goto out;
    /* 2. ... the active L1 table now holds the snapshot's entries ... */
    if ((r = install_l1(img, snap_l1, snap->l1_size, old_entries)) < 0)
        goto out;
    /* ... 3. and the previous active tree loses its references. */
    r = tree_update(img, old_l1, old_entries, -1);
    if (r == 0)
        r = fix_copied(img);
    /* The disk size is the snapshot's (QEMU restores it too).  It goes
     * last: the L1 table already covers the larger of the two sizes
     * (fit_active_l1), so the header never names a size the table cannot
     * map. */
    if (r == 0 && snap->disk_size != img->size) {
        uint8_t size_field[8];
        put64(size_field, snap->disk_size);
        r = io_write(img, QH_SIZE, size_field, 8);
        if (r == 0)
            img->size = q->h.size = snap->disk_size;
    }
out:
    img_free(img->env, snap_l1);
    img_free(img->env, old_l1);
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
    uint64_t *snap_l1 = NULL, old_off, old_size;
    int index, r;
    if ((r = find_snap_to_change(img, key, "snapshot not found", &index)) < 0)
        return r;
    /* A copy of the entry: the list is compacted below, and the entry's
     * strings are freed only at the end. */
    struct qc_snapshot snap = q->snaps[index];
    r = qc_snap_l1_usable(img, &snap);
    if (r == 0)
        r = qc_mark_dirty(img);
    if (r == 0)
        r = qc_snap_read_l1(img, snap.l1_offset, snap.l1_size, &snap_l1);
    if (r < 0)
        return r;
    /* 1. Unlist the snapshot (after this nothing refers to its tree) ...
     * A crash after this write and before step 2 leaves the snapshot gone
     * and its references still counted: leaks that check -r gives back. */
    old_off = q->h.snapshots_offset;
    old_size = qc_snap_table_size(q);
    /* The list closes the gap; its order is the table's order, which
     * snapshot -l shows. */
    memmove(&q->snaps[index], &q->snaps[index + 1],
            sizeof(snap) * (size_t)(q->nb_snaps - index - 1));
    q->nb_snaps--;
    r = write_table(img, old_off, old_size);
    /* 2. ... then release its references and its L1 table ... */
    if (r == 0)
        r = tree_update(img, snap_l1, snap.l1_size, -1);
    /* An L1 table recorded past the end of the file (a damaged entry)
     * has no clusters to release: QEMU reports its failed free and goes
     * on, so the entry can be removed; imgtool skips it quietly. */
    uint64_t file_size = 0;
    /* The snapshot's L1 table goes after its tree: while the tree is
     * being released, the table is still the record of what it held. */
    if (r == 0 && snap.l1_size && io_size(img, &file_size) == 0 &&
        snap.l1_offset + (uint64_t)snap.l1_size * 8 <= file_size)
        r = qc_rc_update_range(img, snap.l1_offset, (uint64_t)snap.l1_size * 8, -1);
    /* 3. ... and clusters now used by the active tree alone get COPIED,
     * so writes to them go in place again instead of copying. */
    if (r == 0)
        r = fix_copied(img);
    img_free(img->env, snap.id);
    img_free(img->env, snap.name);
    img_free(img->env, snap.extra);
    img_free(img->env, snap_l1);
    return r;
}

/*
 * Version 3 requires at least 16 bytes of extra data per snapshot (qcow2.txt
 * "Snapshot table entry": vm_state_size_large and disk_size).  An upgrade
 * from version 2 (amend compat=1.1) extends shorter entries and rewrites
 * the table, as QEMU's qcow2_upgrade does.
 */
int qc_snap_upgrade(struct img *img)
{
    struct qcow2 *q = img->q;
    uint64_t old_off = q->h.snapshots_offset, old_size = qc_snap_table_size(q);
    bool rewrite = false;
    for (int i = 0; i < q->nb_snaps; i++) {
        struct qc_snapshot *snap = &q->snaps[i];
        if (snap->extra_size >= 16)
            continue;
        uint8_t *extra = img_alloc(img->env, 24);
        if (!extra)
            return img_fail(img, IMG_ENOMEM, "Out of memory");
        /* The values the entry already meant under version 2 (see
         * parse_fixed()), now spelled out; the icount is unknown. */
        put64(extra, snap->vm_state_size);
        put64(extra + 8, snap->disk_size);
        put64(extra + 16, UINT64_MAX);
        img_free(img->env, snap->extra);
        snap->extra = extra;
        snap->extra_size = 24;
        rewrite = true;
    }
    /* Entries long enough already are kept as they are; if all were, the
     * table stays where it is. */
    return rewrite ? write_table(img, old_off, old_size) : 0;
}

/*
 * Read a snapshot in place of the active disk (qemu-img convert -l; QEMU's
 * qcow2_snapshot_load_tmp): only the in-memory L1 table is switched, so the
 * handle must be read-only and the file is never touched.  As in QEMU the
 * virtual size stays the image's current size.
 *
 * The handle's L1 table is now the snapshot's, whose COPIED flags mean
 * nothing; that is harmless only because nothing is ever written through
 * it, which is why a writable handle is refused.
 */
int img_snapshot_load_tmp(struct img *img, const char *id, const char *name)
{
    struct qcow2 *q = img->q;
    uint64_t *snap_l1;
    int index, r;
    if (!q)
        return img_fail(img, IMG_ENOTSUP, "Only qcow2 images support snapshots");
    if (img->rw)
        return img_fail(img, IMG_EINVAL, "Snapshots can only be loaded into a read-only handle");
    if (!id && !name)
        return img_fail(img, IMG_EINVAL, "No snapshot given");
    /* Unlike -a and -d, which take one string tried as id then as name,
     * convert -l may give the id and the name apart; both given: both
     * must match (find_snapshot_by_id_and_name). */
    for (index = 0; index < q->nb_snaps; index++)
        if ((!id || !strcmp(q->snaps[index].id, id)) &&
            (!name || !strcmp(q->snaps[index].name, name)))
            break;
    if (index == q->nb_snaps)
        return img_fail(img, IMG_ENOENT, "Can't find snapshot");
    r = qc_snap_l1_usable(img, &q->snaps[index]);
    if (r == 0)
        r = qc_snap_read_l1(img, q->snaps[index].l1_offset, q->snaps[index].l1_size, &snap_l1);
    if (r < 0)
        return r;
    img_free(img->env, q->l1);
    q->l1 = snap_l1;
    q->h.l1_size = q->snaps[index].l1_size;
    q->h.l1_table_offset = q->snaps[index].l1_offset;
    /* The cached decompressed cluster belongs to the old tree's mapping. */
    q->dcache_off = UINT64_MAX;
    return 0;
}

/*
 * make_empty's fast path (QEMU's make_completely_empty): rebuild the image
 * from scratch as header, refcount table (cluster 1), one refcount block
 * (cluster 2) and a zeroed L1 table of the same size (cluster 3 on), then
 * cut the file after them.  The new structures are written over whatever
 * clusters 1 and up held, which the old header may still point at: so the
 * dirty bit (qcow2.txt "Header", incompatible_features bit 0) is set
 * first, and a crash before the header switch leaves an image whose
 * refcounts the next open rebuilds from the tables.
 */
static int make_completely_empty(struct img *img, uint64_t l1_bytes, uint64_t l1_clusters)
{
    struct qcow2 *q = img->q;
    uint64_t new_size = (3 + l1_clusters) * q->cluster_size;
    uint8_t *buf, field[8];
    int r;
    /* 1. Dirty: until the end the refcounts do not describe the file. */
    q->h.incompatible_features |= QF_INCOMPAT_DIRTY;
    put64(field, q->h.incompatible_features);
    if ((r = io_write(img, QH_INCOMPAT, field, 8)) < 0)
        return r;
    /* The whole new file but the header, zeroed: the L1 table stays all
     * zeros (every cluster unallocated, reads go to the backing file). */
    buf = img_alloc(img->env, (size_t)new_size);
    if (!buf)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    /* 2. Empty L1 table and refcount structures at clusters 1..3+: the
     * table's entry 0 points at the block in cluster 2, and the block
     * gives refcount 1 to every cluster of the new file, itself included
     * (one block is enough: the caller checked 3 + l1_clusters fit). */
    put64(buf + q->cluster_size, 2ull * q->cluster_size);
    for (int c = 0; c < 3 + (int)l1_clusters; c++) {
        uint64_t touched_off;
        size_t touched_len;
        qc_rb_put_entry(q, buf + 2 * q->cluster_size, (uint64_t)c, 1, &touched_off, &touched_len);
    }
    r = io_write(img, q->cluster_size, buf + q->cluster_size, (size_t)(new_size - q->cluster_size));
    img_free(img->env, buf);
    if (r < 0)
        return r;
    /* 3. Point the header at them, drop everything past them.  The L1
     * table keeps its size: the virtual size is unchanged, and l1_size
     * must still cover it (qcow2.txt "Header"). */
    memset(q->l1, 0, (size_t)l1_bytes);
    q->h.l1_table_offset = 3ull * q->cluster_size;
    q->h.refcount_table_offset = q->cluster_size;
    q->h.refcount_table_clusters = 1;
    q->h.incompatible_features &= ~QF_INCOMPAT_DIRTY;
    q->dirty_marked = false;
    /* (qc_update_header keeps the dirty bit clear: the new structures
     * are complete once this write lands.)  This header write is the
     * commit point: before it, the old header and the dirty bit; after it,
     * an empty and consistent image. */
    if ((r = qc_update_header(img)) < 0)
        return r;
    /* Everything past the new structures is unreferenced now: the old
     * tables and data.  Cutting the file gives the space back at once. */
    if (img->io.truncate(img->io.ctx, new_size) < 0)
        return img_fail(img, IMG_EIO, "Could not truncate '%s'", img->name);
    /* The in-memory state follows: a one-cluster refcount table with its
     * one block, empty caches (every cached table is gone from the file),
     * and allocator hints for a file of new_size bytes. */
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

/*
 * Empty the L2 table of L1 entry `l1_index` in one write, then release the
 * clusters its entries pointed at, from the copy kept in `saved` (one
 * cluster).  The table stays allocated and hooked in.  A table with no
 * entry at all is left alone, so a commit does not copy a shared empty
 * table for nothing.
 */
static int empty_l2_table(struct img *img, uint64_t l1_index, uint8_t *saved)
{
    struct qcow2 *q = img->q;
    uint64_t l2_off;
    uint8_t *l2_table, *zeros;
    bool any = false;
    int r;
    if ((r = qc_l2_load(img, q->l1[l1_index] & QE_OFFSET, &l2_table)) < 0)
        return r;
    /* Any non-zero byte means some entry maps something or carries a
     * flag; a byte scan needs no decoding of the entries. */
    for (uint64_t i = 0; i < q->cluster_size && !any; i++)
        any = l2_table[i] != 0;
    if (!any)
        return 0;
    /* The table must be ours alone before it is emptied: a snapshot that
     * shares it keeps its own copy of the mappings. */
    if ((r = qc_l2_load_for_write(img, l1_index, &l2_off)) < 0 ||
        (r = qc_l2_load(img, l2_off, &l2_table)) < 0)
        return r;
    /* The entries are kept in `saved`: once the table is zeroed, that copy
     * is the only record of what to release. */
    memcpy(saved, l2_table, q->cluster_size);
    zeros = img_alloc(img->env, q->cluster_size);
    if (!zeros)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    /* One write empties the whole table: a crash leaves it either full
     * (nothing released yet) or empty (its clusters leaked at worst). */
    r = io_write(img, l2_off, zeros, q->cluster_size);
    img_free(img->env, zeros);
    /* The cached copy still has the old entries. */
    qc_cache_drop(img, q->l2c, l2_off);
    /* The entries are gone from the file; only now may their clusters
     * lose the references the entries held. */
    for (uint64_t l2_index = 0; l2_index < q->l2_entries && r == 0; l2_index++) {
        uint64_t entry, sc_bitmap;
        qc_l2_entry(img, saved, l2_index, &entry, &sc_bitmap);
        r = qc_free_l2_entry_clusters(img, entry);
    }
    return r;
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
    uint8_t *saved;
    int r;
    if (!q)
        return img_fail(img, IMG_ENOTSUP, "Only qcow2 images can be emptied");
    if (!img->rw)
        return img_fail(img, IMG_EROFS, "Image '%s' is opened read-only", img->name);
    l1_bytes = (uint64_t)q->h.l1_size * 8;
    l1_clusters = div_up(l1_bytes, q->cluster_size);
    /* The fast path needs the dirty bit (version 3), no snapshot whose
     * clusters it would wipe, one refcount block for the whole new file,
     * and a way to cut the file. */
    if (q->h.version >= 3 && !q->nb_snaps && 3 + l1_clusters <= q->rb_entries && img->io.truncate)
        return make_completely_empty(img, l1_bytes, l1_clusters);
    /* General case (QEMU's fallback, a full discard of the whole disk):
     * every L2 table is emptied in one write, then the clusters its
     * entries pointed at are released; the tables themselves stay.  With
     * snapshots this is the only way: their trees share clusters with the
     * active one, and releasing drops only the active tree's references. */
    r = qc_mark_dirty(img);
    saved = img_alloc(img->env, q->cluster_size);
    if (!saved)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    for (uint64_t l1_index = 0; l1_index < q->h.l1_size && r == 0; l1_index++)
        if (q->l1[l1_index] & QE_OFFSET)
            r = empty_l2_table(img, l1_index, saved);
    img_free(img->env, saved);
    /* The cached decompressed cluster may belong to a freed cluster. */
    q->dcache_off = UINT64_MAX;
    return r;
}
