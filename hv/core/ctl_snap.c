/*
 * ctl_snap.c - the control protocol's snapshot commands
 * (docs/control-protocol.md "Snapshots"): x-savevm, x-loadvm, x-delvm and
 * query-snapshots, over hv's savevm, loadvm, delvm and the snapshot list
 * (core/vmsave.h, docs/vmstate.md).
 *
 * Also domain-save and domain-restore, the same state in a host file
 * rather than a snapshot (vmfile.c; docs/control-protocol.md "Saving a
 * domain to a file").
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
#include "hv.h"
#include "vmfile.h"
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

/* ---- Save to a file, restore from one ----------------------------------------------- */

/* The state's place on an outer disk: "disk" and "offset" (the manager
 * names its staging disk's save region), and to restore "length". */
static int arg_place(struct ctl_req *r, bool with_length, struct vmfile_place *p)
{
    uint64_t disk, length = CTL_STAGE_SAVE_MAX;
    if (ctl_arg_u64(r, CTL_ARG_DISK, true, 0, &disk) < 0 ||
        ctl_arg_u64(r, CTL_ARG_OFFSET, true, 0, &p->offset) < 0 ||
        (with_length && ctl_arg_u64(r, CTL_ARG_LENGTH, true, 0, &length) < 0))
        return -1;
    if (length == 0 || length > CTL_STAGE_SAVE_MAX)
        return ctl_error(r, CTL_ERR_INVALID_PARAMETER,
                         "argument 'length' must be 1 to %llu (bytes of the saved state)",
                         (unsigned long long)CTL_STAGE_SAVE_MAX);
    p->disk = (unsigned)(disk > 255 ? 255 : disk);
    p->limit = length;
    return 0;
}

/* An optional boolean: -1 when absent, else 0 or 1. */
static int arg_tristate(struct ctl_req *r, const char *name, int *v)
{
    bool b;
    *v = -1;
    if (r->args < 0 || json_get(r->doc, r->args, name) < 0)
        return 0;
    if (ctl_arg_bool(r, name, false, &b) < 0)
        return -1;
    *v = b;
    return 0;
}

/* "after": destroy (the default), continue or pause. */
static int arg_after(struct ctl_req *r, enum vmfile_after *a)
{
    static const char *const words[] = {"destroy", "continue", "pause"};
    char word[16];
    *a = VMFILE_DESTROY;
    if (r->args < 0 || json_get(r->doc, r->args, CTL_ARG_AFTER) < 0)
        return 0;
    if (ctl_arg_str(r, CTL_ARG_AFTER, word, sizeof(word)) == 0)
        for (unsigned i = 0; i < 3; i++)
            if (!strcmp(word, words[i])) {
                *a = (enum vmfile_after)i;
                return 0;
            }
    r->err_class = NULL;
    return ctl_error(r, CTL_ERR_INVALID_PARAMETER,
                     "argument 'after' must be destroy, continue or pause");
}

static int ctl_domain_save(struct ctl_req *r)
{
    struct domain *d;
    struct vmfile_place p;
    enum vmfile_after after;
    int paused;
    bool was_paused;
    char err[256];
    if (ctl_arg_domain(r, &d) < 0 || arg_place(r, false, &p) < 0 || arg_after(r, &after) < 0 ||
        arg_tristate(r, CTL_ARG_PAUSED, &paused) < 0)
        return -1;
    int64_t n = vmfile_save(d, &p, after, paused, &was_paused, err, sizeof(err));
    if (n < 0)
        return ctl_error(r, CTL_ERR_GENERIC, "%s", err);
    /* Saved to be restored: hv stays up for that even once no domain
     * runs any more (the manager destroys a saved domain itself, once the
     * file is safe), as a Xen host does, until `quit`. */
    r->host->stay = true;
    json_obj_begin(r->out);
    json_key(r->out, CTL_ARG_SIZE);
    json_put_u64(r->out, (uint64_t)n);
    json_key(r->out, "status");
    json_put_str(r->out, was_paused ? CTL_RUNSTATE_PAUSED : CTL_RUNSTATE_RUNNING);
    json_obj_end(r->out);
    return 0;
}

static int ctl_domain_restore(struct ctl_req *r)
{
    struct vmfile_place p;
    int paused;
    char err[256], name[CTL_NAME_MAX + 1];
    struct domain *d = NULL;
    bool into = r->args >= 0 && json_get(r->doc, r->args, CTL_ARG_DOMAIN) >= 0;
    if ((into && ctl_arg_domain(r, &d) < 0) || arg_place(r, true, &p) < 0 ||
        arg_tristate(r, CTL_ARG_PAUSED, &paused) < 0)
        return -1;
    /* With "domain": into that domain; without, a new one. */
    if (into && vmfile_restore_into(d, &p, paused, err, sizeof(err)) < 0)
        return ctl_error(r, CTL_ERR_GENERIC, "%s", err);
    if (!into)
        d = vmfile_restore(r->host, &p, paused, err, sizeof(err));
    if (!d)
        return ctl_error(r, CTL_ERR_GENERIC, "%s", err);
    json_obj_begin(r->out);
    json_key(r->out, CTL_ARG_DOMAIN);
    json_put_u64(r->out, d->id);
    json_key(r->out, CTL_ARG_NAME);
    json_put_str(r->out, domain_name(d, name, sizeof(name)));
    json_obj_end(r->out);
    return 0;
}

static const char *const domain_args[] = {CTL_ARG_DOMAIN, NULL};
static const char *const save_args[] = {CTL_ARG_DOMAIN, CTL_ARG_DISK,   CTL_ARG_OFFSET,
                                        CTL_ARG_AFTER,  CTL_ARG_PAUSED, NULL};
static const char *const restore_args[] = {CTL_ARG_DOMAIN, CTL_ARG_DISK,   CTL_ARG_OFFSET,
                                           CTL_ARG_LENGTH, CTL_ARG_PAUSED, NULL};
static const char *const snap_args[] = {CTL_ARG_DOMAIN, CTL_ARG_NAME, NULL};

const struct ctl_cmd ctl_snapshot_commands[] = {
    {CTL_CMD_QUERY_SNAPSHOTS, domain_args, ctl_query_snapshots},
    {CTL_CMD_SAVEVM, snap_args, ctl_savevm},
    {CTL_CMD_LOADVM, snap_args, ctl_loadvm},
    {CTL_CMD_DELVM, snap_args, ctl_delvm},
    {CTL_CMD_DOMAIN_SAVE, save_args, ctl_domain_save},
    {CTL_CMD_DOMAIN_RESTORE, restore_args, ctl_domain_restore},
    {NULL, NULL, NULL},
};
