/*
 * ctl_hot.c - x-blockdev-attach and x-blockdev-detach: a virtio disk
 * plugged into a running domain and pulled out again
 * (docs/control-protocol.md "Disks attached at run time"; the device
 * work is core/vdev_hot.c's).  Rows of ctl_dev.c's table, left out of the
 * hosted builds with it.
 */
#include "klib.h"

#include "ctl.h"
#include "disk/outer.h"
#include "domain.h"
#include "vdev.h"
#include "vdev_hot.h"

/* A name a front-end may give a disk: letters, digits, '-', '_', at most
 * VDEV_HOT_NAME_MAX bytes, and not one of the boot's names ("virtioN",
 * "ide1-cd0"), which query-block already uses. */
static bool good_name(const char *s)
{
    if (!strncmp(s, "virtio", 6) || !strcmp(s, "ide1-cd0"))
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return false;
    return true;
}

/* The domain, if it may still get or lose a disk. */
static int live_domain(struct ctl_req *r, struct domain **d)
{
    if (ctl_arg_domain(r, d) < 0)
        return -1;
    if (domain_stopped(*d) || (*d)->torn_down)
        return ctl_error(r, CTL_ERR_GENERIC, "domain %u has ended: it takes no disk", (*d)->id);
    return 0;
}

int ctl_blockdev_attach(struct ctl_req *r)
{
    /* Big for hv's stack. */
    static struct vdev_hot_req q;
    struct domain *d;
    uint64_t disk, offset;
    char err[200];
    q = (struct vdev_hot_req){0};
    if (live_domain(r, &d) < 0 || ctl_arg_str(r, CTL_ARG_DEVICE, q.device, sizeof(q.device)) < 0 ||
        ctl_arg_str(r, CTL_ARG_FILENAME, q.file, sizeof(q.file)) < 0 ||
        ctl_arg_bool(r, CTL_ARG_READ_ONLY, false, &q.readonly) < 0)
        return -1;
    if (json_get(r->doc, r->args, CTL_ARG_FORMAT) >= 0 &&
        ctl_arg_str(r, CTL_ARG_FORMAT, q.format, sizeof(q.format)) < 0)
        return -1;
    if (q.format[0] && strcmp(q.format, "raw") && strcmp(q.format, "qcow2"))
        return ctl_error(r, CTL_ERR_INVALID_PARAMETER, "argument 'format' must be raw or qcow2");
    if (!good_name(q.device))
        return ctl_error(r, CTL_ERR_INVALID_PARAMETER,
                         "argument 'device' must be letters, digits, '-' and '_', not virtioN "
                         "or ide1-cd0");
    /* hv's form: where the manager put the image (its host path stays as
     * the disk's name). */
    if (json_get(r->doc, r->args, CTL_ARG_DISK) < 0)
        return ctl_error(r, CTL_ERR_GENERIC,
                         "no disk slot: the manager stages the file (send the request through it)");
    if (ctl_arg_u64(r, CTL_ARG_DISK, true, 0, &disk) < 0 ||
        ctl_arg_u64(r, CTL_ARG_OFFSET, true, 0, &offset) < 0)
        return -1;
    if (disk >= OUTER_DISKS_MAX)
        return ctl_error(r, CTL_ERR_INVALID_PARAMETER, "'disk' must be an outer disk, 0 to %u",
                         OUTER_DISKS_MAX - 1);
    q.disk = (unsigned)disk;
    q.offset = offset;
    unsigned window;
    if (vdev_hot_attach(d, &q, &window, err, sizeof(err)) < 0)
        return ctl_error(r, CTL_ERR_GENERIC, "%s", err);
    json_obj_begin(r->out);
    json_key(r->out, "device");
    json_put_str(r->out, q.device);
    json_key(r->out, "base");
    json_put_u64(r->out, vdev_base(window));
    json_key(r->out, "irq");
    json_put_u64(r->out, vdev_gsi(window));
    json_obj_end(r->out);
    return 0;
}

int ctl_blockdev_detach(struct ctl_req *r)
{
    struct domain *d;
    char device[VDEV_HOT_NAME_MAX + 8], err[120];
    uint64_t length;
    if (ctl_arg_domain(r, &d) < 0 || ctl_arg_str(r, CTL_ARG_DEVICE, device, sizeof(device)) < 0)
        return -1;
    if (vdev_hot_detach(d, device, &length, err, sizeof(err)) < 0)
        return ctl_error(r, CTL_ERR_DEVICE_NOT_FOUND, "%s", err);
    json_obj_begin(r->out);
    json_key(r->out, CTL_ARG_LENGTH);
    json_put_u64(r->out, length);
    json_obj_end(r->out);
    return 0;
}
