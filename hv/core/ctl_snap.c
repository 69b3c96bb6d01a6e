/*
 * ctl_snap.c - the control protocol's snapshot commands
 * (docs/control-protocol.md "Snapshots"): x-savevm, x-loadvm, x-delvm and
 * query-snapshots, over hv's savevm, loadvm, delvm and the snapshot list
 * (core/vmsave.h, docs/vmstate.md).
 *
 * Their rows are a table of their own, ctl_snapshot_commands (ctl.h),
 * which the dispatcher looks at after ctl_commands: the hosted builds of
 * the dispatcher (its unit test, its fuzzer) leave this file and hv's
 * snapshot code out, and the commands are unknown there.
 */
#include "klib.h"

#include "ctl.h"
#include "domain.h"
#include "img.h"
#include "vmsave.h"

/* Room for a snapshot's name (QEMU's tags are free text; the qcow2 field
 * allows more, a front-end never needs it). */
#define NAME_MAX_LEN 256

/* The most snapshots query-snapshots lists (QEMU's own limit on a qcow2
 * image is far higher; a reply line holds about this many). */
#define LIST_MAX 64

/* One of savevm, loadvm, delvm on the named domain: `{}` or the refusal
 * in the operation's own words. */
static int snap_op(struct ctl_req *r, int (*op)(struct domain *, const char *, char *, size_t))
{
    struct domain *d;
    char name[NAME_MAX_LEN], err[256];
    if (ctl_arg_domain(r, &d) < 0 || ctl_arg_str(r, CTL_ARG_NAME, name, sizeof(name)) < 0)
        return -1;
    if (op(d, name, err, sizeof(err)) < 0)
        return ctl_error(r, CTL_ERR_GENERIC, "%s", err);
    json_obj_begin(r->out);
    json_obj_end(r->out);
    return 0;
}

static int ctl_savevm(struct ctl_req *r)
{
    return snap_op(r, domain_savevm);
}

static int ctl_loadvm(struct ctl_req *r)
{
    return snap_op(r, domain_loadvm);
}

static int ctl_delvm(struct ctl_req *r)
{
    return snap_op(r, domain_delvm);
}

/* One snapshot as QMP's SnapshotInfo (the shape of `qemu-img info
 * --output=json`'s "snapshots"): the VM clock split into seconds and
 * nanoseconds as QEMU splits it. */
static void put_snapshot(struct json_out *o, const struct img_snapshot_info *s)
{
    json_obj_begin(o);
    json_key(o, "id");
    json_put_str(o, s->id);
    json_key(o, "name");
    json_put_str(o, s->name);
    json_key(o, "vm-state-size");
    json_put_u64(o, s->vm_state_size);
    json_key(o, "date-sec");
    json_put_u64(o, s->date_sec);
    json_key(o, "date-nsec");
    json_put_u64(o, s->date_nsec);
    json_key(o, "vm-clock-sec");
    json_put_u64(o, s->vm_clock_nsec / 1000000000u);
    json_key(o, "vm-clock-nsec");
    json_put_u64(o, s->vm_clock_nsec % 1000000000u);
    /* QMP leaves "icount" out when none was recorded (-1 in qcow2). */
    if (s->icount != UINT64_MAX) {
        json_key(o, "icount");
        json_put_u64(o, s->icount);
    }
    json_obj_end(o);
}

static int ctl_query_snapshots(struct ctl_req *r)
{
    static struct img_snapshot_info list[LIST_MAX];
    struct domain *d;
    char err[256];
    if (ctl_arg_domain(r, &d) < 0)
        return -1;
    int n = domain_snapshots(d, list, LIST_MAX, err, sizeof(err));
    if (n < 0)
        return ctl_error(r, CTL_ERR_GENERIC, "%s", err);
    json_arr_begin(r->out);
    for (int i = 0; i < n; i++)
        put_snapshot(r->out, &list[i]);
    json_arr_end(r->out);
    return 0;
}

static const char *const domain_args[] = {CTL_ARG_DOMAIN, NULL};
static const char *const snap_args[] = {CTL_ARG_DOMAIN, CTL_ARG_NAME, NULL};

const struct ctl_cmd ctl_snapshot_commands[] = {
    {CTL_CMD_QUERY_SNAPSHOTS, domain_args, ctl_query_snapshots},
    {CTL_CMD_SAVEVM, snap_args, ctl_savevm},
    {CTL_CMD_LOADVM, snap_args, ctl_loadvm},
    {CTL_CMD_DELVM, snap_args, ctl_delvm},
    {NULL, NULL, NULL},
};
