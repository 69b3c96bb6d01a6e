/*
 * qcow2_vmstate.c: the VM state of an internal snapshot (savevm, loadvm).
 *
 * A snapshot taken by a running machine holds the machine's state beside
 * its disk: CPU registers, device models, guest RAM, in whatever format the
 * machine writes (hvkit's is docs/vmstate.md).  qcow2 gives that state no
 * structure of its own.  It is "stored like guest disk content, except that
 * it is stored at offsets that are larger than the disk size" (qcow2.txt
 * "Snapshot table entry", bytes 32-35), starting "at the first cluster
 * described by first L1 table entry that doesn't describe a regular guest
 * cluster".  So the state goes through the same cluster mapping as the disk
 * (qcow2.txt "Cluster mapping"), and the snapshot's copy of the L1 table
 * reaches it like any of its disk clusters; taking, applying and deleting
 * the snapshot (qcow2_snapshot.c) count its clusters with the rest.
 *
 * The order of a savevm, QEMU's and ours: the state is written into the
 * active tree past the disk (img_vmstate_write), the snapshot then copies
 * the active L1 table with it and records its length in the table entry
 * (img_snapshot_create_vm), and the active tree finally lets go of the
 * state, which is now the snapshot's alone.  A crash before the snapshot
 * table is written leaves clusters past the disk that nothing lists:
 * harmless, since no guest read reaches them, and the next savevm writes
 * over them.
 *
 * Reading the state back does not need the snapshot applied: the reader
 * follows the snapshot's own L1 table, so a loadvm can check the whole
 * state before the disk changes at all.
 */
#include "internal.h"

/*
 * The guest offset where the VM state starts for a disk of `disk_size`
 * bytes: the first L1 entry past the disk, QEMU's qcow2_vm_state_offset().
 * One L1 entry maps l2_entries clusters (qcow2.txt "Cluster mapping"), so
 * with 64 KiB clusters the state of any disk up to 512 MiB starts at
 * 512 MiB.
 */
uint64_t qc_vmstate_offset(const struct qcow2 *q, uint64_t disk_size)
{
    int shift = q->cluster_bits + q->l2_bits;
    return div_up(disk_size, 1ull << shift) << shift;
}

/* The refusals every VM state operation shares: only qcow2 has internal
 * snapshots, and not with an external data file (qcow2.txt "Header",
 * incompatible feature bit 2, "internal snapshots are not supported"). */
static int vmstate_allowed(struct img *img, bool write)
{
    if (!img->q)
        return img_fail(img, IMG_ENOTSUP, "Only qcow2 images support snapshots");
    if (img->q->data_file)
        return img_fail(img, IMG_ENOTSUP, "Internal snapshots are not supported with a data file");
    if (write && !img->rw)
        return img_fail(img, IMG_EROFS, "Image '%s' is opened read-only", img->name);
    return 0;
}

/*
 * The largest end of a VM state range for a disk of `disk_size` bytes:
 * the state can reach as far as the L1 table can grow (QEMU's 32 MB limit
 * on an L1 table, qcow2.txt "Header", the note under size).  Ranges are
 * checked against it before any addition can overflow.
 */
static bool range_fits(const struct qcow2 *q, uint64_t disk_size, uint64_t pos, uint64_t len)
{
    uint64_t start = qc_vmstate_offset(q, disk_size);
    uint64_t limit = (uint64_t)(QCOW_MAX_L1_SIZE / 8) << (q->cluster_bits + q->l2_bits);
    return start <= limit && len <= limit - start && pos <= limit - start - len;
}

/*
 * Write [pos, pos + len) of the VM state into the active image.  The L1
 * table grows to cover the range first (qc_grow_l1), since a disk's table
 * usually ends with the disk; then the bytes go through the normal write
 * path, which allocates clusters and keeps the crash order.  Unlike a
 * guest write, no persistent bitmap records it: the bitmaps track the
 * disk, and QEMU's VM state writes bypass them too.
 */
int img_vmstate_write(struct img *img, uint64_t pos, const void *buf, size_t len)
{
    int r = vmstate_allowed(img, true);
    if (r < 0 || len == 0)
        return r;
    struct qcow2 *q = img->q;
    if (!range_fits(q, img->size, pos, len))
        return img_fail(img, IMG_EINVAL, "VM state too large for the image");
    uint64_t off = qc_vmstate_offset(q, img->size) + pos;
    uint64_t entries = div_up(off + len, 1ull << (q->cluster_bits + q->l2_bits));
    if (entries > q->h.l1_size && (r = qc_grow_l1(img, entries)) < 0)
        return r;
    return qc_write(img, off, buf, len);
}

/*
 * Give up VM state written for a savevm that will not happen: every
 * cluster the active tree maps past the disk is released.  The L1 table
 * keeps its length (only its entries become 0), as after a shrink.
 */
int img_vmstate_discard(struct img *img)
{
    int r = vmstate_allowed(img, true);
    if (r == 0)
        r = qc_mark_dirty(img);
    return r < 0 ? r : qc_discard_from(img, qc_vmstate_offset(img->q, img->size));
}

/*
 * Read [pos, pos + len) of the VM state of snapshot `key`.  The snapshot's
 * L1 table stands in for the active one while qc_read() runs: the reader
 * then finds the state exactly where the snapshot's tree put it, through
 * the same lookup, compressed-cluster and zero-cluster rules as a disk
 * read.  The state starts past the snapshot's own disk size, which may
 * differ from the active disk's.  Nothing is written.
 */
int img_snapshot_vmstate_read(struct img *img, const char *key, uint64_t pos, void *buf, size_t len)
{
    int r = vmstate_allowed(img, false);
    if (r < 0)
        return r;
    struct qcow2 *q = img->q;
    int index = qc_snap_find(q, key);
    if (index < 0)
        return img_fail(img, IMG_ENOENT, "Snapshot '%s' does not exist", key);
    const struct qc_snapshot *snap = &q->snaps[index];
    /* Only the state the entry says was saved: a read past its length
     * would return whatever the clusters after it hold. */
    if (len > snap->vm_state_size || pos > snap->vm_state_size - len)
        return img_fail(img, IMG_EINVAL, "Snapshot '%s' has %llu bytes of VM state", key,
                        (unsigned long long)snap->vm_state_size);
    if (len == 0)
        return 0;
    if (!range_fits(q, snap->disk_size, pos, len))
        return img_fail(img, IMG_ECORRUPT, "Snapshot '%s' has an impossible VM state size", key);
    /* The table is checked as every use of a snapshot's tree checks it
     * (QEMU's qcow2_validate_table), then read whole. */
    uint64_t *snap_l1 = NULL;
    r = qc_snap_l1_usable(img, snap);
    if (r == 0)
        r = qc_snap_read_l1(img, snap->l1_offset, snap->l1_size, &snap_l1);
    if (r < 0)
        return r;
    /* The swap: qc_read() looks entries up in q->l1 up to q->h.l1_size
     * only, and nothing it calls writes the table, so the active table is
     * back in place, untouched, on every path. */
    uint64_t *active_l1 = q->l1;
    uint32_t active_entries = q->h.l1_size;
    q->l1 = snap_l1;
    q->h.l1_size = snap->l1_size;
    r = qc_read(img, qc_vmstate_offset(q, snap->disk_size) + pos, buf, len);
    q->l1 = active_l1;
    q->h.l1_size = active_entries;
    img_free(img->env, snap_l1);
    return r;
}
