/*
 * qcow2_snapshot.c: internal snapshots (qemu-img snapshot -l/-c/-a/-d).
 *
 * A snapshot is a saved copy of the L1 table plus one extra reference on
 * every cluster reachable from it (spec, "Snapshots").  Taking one copies
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
    uint64_t off = q->h.snapshots_offset, fsz;
    uint32_t n = q->h.nb_snapshots;
    if (!n)
        return 0;
    if (io_size(img, &fsz) < 0)
        return -IMG_EIO;
    q->snaps = img_alloc(img->env, sizeof(*q->snaps) * n);
    if (!q->snaps)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    for (uint32_t i = 0; i < n; i++) {
        struct qc_snapshot *s = &q->snaps[i];
        uint8_t f[QS_FIXED_LEN];
        uint32_t idl, nl;
        if (off - q->h.snapshots_offset > SNAP_TABLE_MAX || off + QS_FIXED_LEN > fsz)
            return img_fail(img, IMG_ECORRUPT, "Snapshot table is truncated or too large");
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
        /* Every offset and size is checked before anything follows it. */
        if ((s->l1_offset & (q->cluster_size - 1)) || s->l1_offset < q->cluster_size ||
            (uint64_t)s->l1_size * 8 > QCOW_MAX_L1_SIZE ||
            s->l1_offset + (uint64_t)s->l1_size * 8 > fsz)
            return img_fail(img, IMG_ECORRUPT, "Snapshot L1 table of entry %u is invalid", i);
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
        if (off + idl + nl > fsz)
            return img_fail(img, IMG_ECORRUPT, "Snapshot table is truncated");
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
