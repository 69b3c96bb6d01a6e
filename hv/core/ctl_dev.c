/*
 * ctl_dev.c - the control protocol's device commands
 * (docs/control-protocol.md "Devices"): the balloon (QMP's balloon and
 * query-balloon, over hv's PV balloon, core/pv_balloon.c), x-vcpu-set
 * (the vCPUs a guest may run, core/pv_vcpu.c) and x-commit,
 * the monitor's commit of a disk's changes into its backing file, and
 * QMP's eject and blockdev-change-medium on the CD-ROM drive (core/cdrom.c).
 *
 * Their rows are a table of their own, ctl_device_commands (ctl.h), which
 * the dispatcher looks at after the others: the hosted builds of the
 * dispatcher leave this file, hv's PV code and its disks out, and the
 * commands are unknown there.
 */
#include "klib.h"

#include "cdrom.h"
#include "ctl.h"
#include "disk/outer.h"
#include "domain.h"
#include "img.h"
#include "log.h"
#include "pv.h"
#include "vdev.h"

/* QEMU's words (qmp_balloon, qmp_query_balloon) for a machine whose
 * balloon nobody drives: in hv, a guest whose balloon driver has not yet
 * asked for its target (HC_BALLOON_TARGET, include/hvkit/pv.h). */
#define NO_BALLOON "No balloon device has been activated"

/* The domain, if its guest drives the balloon; else an error. */
static int balloon_domain(struct ctl_req *r, struct domain **d)
{
    if (ctl_arg_domain(r, d) < 0)
        return -1;
    if (!(*d)->pv || !(*d)->pv->balloon_driver)
        return ctl_error(r, CTL_ERR_GENERIC, NO_BALLOON);
    return 0;
}

/* balloon: ask the guest to have "value" bytes.  QEMU refuses 0 in these
 * words; a target above the RAM means all of it (pv_balloon_target_kib),
 * as QEMU's virtio-balloon takes no more than the RAM either.  The guest's
 * driver hears of it through its balloon port and moves in its own time:
 * query-balloon shows where it is. */
static int balloon(struct ctl_req *r)
{
    struct domain *d;
    uint64_t value;
    if (balloon_domain(r, &d) < 0 || ctl_arg_u64(r, CTL_ARG_VALUE, true, 0, &value) < 0)
        return -1;
    if (value == 0)
        return ctl_error(r, CTL_ERR_INVALID_PARAMETER, "Parameter 'target' expects a size");
    uint64_t kib = value >> 10;
    pv_balloon_set_target(d, kib ? kib : 1);
    json_obj_begin(r->out);
    json_obj_end(r->out);
    return 0;
}

/* query-balloon: QMP's BalloonInfo, "actual" the bytes the guest has now:
 * its RAM less what it gave back (domain.h balloon_kib). */
static int query_balloon(struct ctl_req *r)
{
    struct domain *d;
    if (balloon_domain(r, &d) < 0)
        return -1;
    json_obj_begin(r->out);
    json_key(r->out, "actual");
    json_put_u64(r->out, d->mem.size - (d->balloon_kib << 10));
    json_obj_end(r->out);
    return 0;
}

/* The words for a guest that cannot be told of a new vCPU count: one
 * that never asked for its available vCPUs (HC_VCPU_AVAIL), as the
 * balloon's NO_BALLOON names a guest without a balloon driver. */
#define NO_VCPU_HOTPLUG                                                                            \
    "The guest has not activated vCPU hot-plug (include/hvkit/pv.h HC_VCPU_AVAIL): only its "      \
    "current count can be set"

/* x-vcpu-set: let the guest run "vcpus" of the vCPUs the domain was built
 * with (include/hvkit/pv.h "vCPU hot-plug", core/pv_vcpu.c), as Xen's
 * vcpu-set: hv signals the guest, which starts or takes down CPUs in its
 * own time; query-cpus-fast and query-domains show where it is. */
static int vcpu_set(struct ctl_req *r)
{
    struct domain *d;
    uint64_t n;
    if (ctl_arg_domain(r, &d) < 0 || ctl_arg_u64(r, CTL_ARG_VCPUS, true, 0, &n) < 0)
        return -1;
    if (n < 1 || n > d->nr_vcpus)
        return ctl_error(r, CTL_ERR_INVALID_PARAMETER,
                         "argument 'vcpus' must be 1 to %u (the vCPUs domain %u was built with)",
                         d->nr_vcpus, d->id);
    if (pv_vcpu_set(d, (unsigned)n) < 0)
        return ctl_error(r, CTL_ERR_GENERIC, NO_VCPU_HOTPLUG);
    json_obj_begin(r->out);
    json_obj_end(r->out);
    return 0;
}

/* The disk "virtioN" of the domain (query-block's names), or an error. */
static int arg_disk(struct ctl_req *r, struct domain *d, struct img **img, bool *ro)
{
    char dev[32];
    unsigned n = 0;
    if (ctl_arg_str(r, CTL_ARG_DEVICE, dev, sizeof(dev)) < 0)
        return -1;
    /* "virtio" and a decimal number, nothing else. */
    const char *p = dev + 6;
    bool ok = !strncmp(dev, "virtio", 6) && *p;
    for (; ok && *p; p++) {
        ok = *p >= '0' && *p <= '9' && n < 100;
        n = n * 10 + (unsigned)(*p - '0');
    }
    *img = ok ? vdev_disk(d, n, ro) : NULL;
    if (!*img)
        return ctl_error(r, CTL_ERR_DEVICE_NOT_FOUND, "Device '%s' not found", dev);
    return 0;
}

/* ---- commit ------------------------------------------------------------------- */

/*
 * x-commit: QEMU's HMP commit (bdrv_commit) writes a disk's changes into
 * its backing file and empties the disk.  In hv it has two halves, because
 * the backing file hv can write is not the user's file: bin/hvrun attaches
 * a private sparse copy of it (bin/hvrun.d/outerdisk.sh), and only the
 * manager on the host can put that copy in the user file's place.
 *
 *  1. x-commit {domain, device}: the copy is reopened writable, every range
 *     the disk allocates is copied into it (imgtool's img_commit(), as
 *     `imgtool commit` does) and flushed, and the copy is reopened
 *     read-only.  The guest cannot tell: the disk still holds every range
 *     that changed, and reads are answered by the disk first.  The domain
 *     is held (domain.h `held`) and the reply says which outer disk the
 *     copy is and how long its image now is.
 *  2. The manager writes the copy back over the user's file (a new file
 *     renamed over it) and sends x-commit {domain, device, written}, the
 *     bytes it wrote: when they are the length of half 1's answer, the
 *     disk is emptied (img_make_empty(), QEMU's bdrv_make_empty()) and
 *     flushed; with 0 (the file could not be written) it stays as it is.
 *     Either way the hold ends.
 *
 * The order keeps the user's data whole at every moment: the user's
 * backing file holds the changes before the disk lets go of them, and a
 * failure in between (the user's file cannot be written) leaves the disk
 * as it was.  No guest write can fall between the halves: hv serves
 * control requests between exits on its one CPU, so none runs during a
 * half, and the hold keeps the domain's vCPUs out until the second one.
 */

/* The copy buffer: a request of hv's stack would not hold it. */
static uint8_t commit_buf[64 << 10];

/* The commit between its halves (the manager does one at a time): the
 * domain held and the length half 1 answered. */
static struct {
    struct domain *d;
    uint64_t length;
} waiting;

/* QEMU's strerror() words for bdrv_commit's failures. */
#define COMMIT_ENOTSUP "Operation not supported"
#define COMMIT_EACCES  "Permission denied"

/* The outer disk of the disk's backing file, if hv may write it: -1
 * without a backing file, -2 when it is read-only (the launcher found the
 * user's file read-only, or the disk itself is). */
static int backing_disk(struct img *img, bool disk_ro)
{
    struct img *backing = img_backing(img);
    if (!backing)
        return -1;
    int idx = outer_disk_by_name(img_name(backing));
    if (disk_ro || idx < 0 || !outer_disk_writable((unsigned)idx))
        return -2;
    return idx;
}

/* Half 1: copy the disk's ranges into the backing file; its outer disk
 * number in *disk and the new length of its image in *length. */
static int commit_into_backing(struct ctl_req *r, struct img *img, int *disk, uint64_t *length)
{
    static struct img_err err;
    static struct img_info info;
    struct img *failed = img;
    if (img_reopen_backing(img, true, &err) < 0)
        return ctl_error(r, CTL_ERR_GENERIC, "%s", err.msg);
    struct img_commit job = {.top = img,
                             .base_depth = 1,
                             .dst = img_backing(img),
                             /* bdrv_commit writes what it reads. */
                             .zeroes_as_data = true,
                             .buf = commit_buf,
                             .buf_len = sizeof(commit_buf),
                             .failed = &failed};
    int rc = img_commit(&job);
    if (rc < 0)
        ctl_error(r, CTL_ERR_GENERIC, "%s", img_strerror(failed));
    /* Read-only again, as QEMU's bdrv_commit leaves it: the data is on
     * the file (img_commit flushed it), the new handle reads it. */
    if (img_reopen_backing(img, false, &err) < 0 && rc == 0)
        return ctl_error(r, CTL_ERR_GENERIC, "%s", err.msg);
    if (rc < 0)
        return -1;
    img_get_info(img_backing(img), &info);
    *disk = outer_disk_by_name(img_name(img_backing(img)));
    *length = info.file_size;
    return 0;
}

/* Half 2: the manager has written the copy back (or could not): empty the
 * disk if all of it reached the user's file; the hold ends either way. */
static int commit_end(struct ctl_req *r, struct domain *d, struct img *img, uint64_t bytes)
{
    if (!d->held || waiting.d != d)
        return ctl_error(r, CTL_ERR_GENERIC, "no commit of this domain is waiting to end");
    d->held = false;
    waiting.d = NULL;
    if (bytes && bytes != waiting.length)
        return ctl_error(r, CTL_ERR_GENERIC,
                         "the manager wrote %llu bytes of the backing file, not %llu: the disk "
                         "is left as it was",
                         (unsigned long long)bytes, (unsigned long long)waiting.length);
    bool written = bytes != 0;
    int rc = written ? img_make_empty(img) : 0;
    if (rc == 0 && written)
        rc = img_flush(img);
    if (rc < 0)
        return ctl_error(r, CTL_ERR_GENERIC, "%s", img_strerror(img));
    if (written)
        hv_log("domain %u: %s committed into its backing file and emptied", d->id, img_name(img));
    json_obj_begin(r->out);
    json_obj_end(r->out);
    return 0;
}

static int commit(struct ctl_req *r)
{
    struct domain *d;
    struct img *img;
    bool ro;
    uint64_t written;
    int disk;
    uint64_t length = 0;
    if (ctl_arg_domain(r, &d) < 0 || arg_disk(r, d, &img, &ro) < 0)
        return -1;
    if (json_get(r->doc, r->args, CTL_ARG_WRITTEN) >= 0) {
        if (ctl_arg_u64(r, CTL_ARG_WRITTEN, true, 0, &written) < 0)
            return -1;
        return commit_end(r, d, img, written);
    }
    if (d->held)
        return ctl_error(r, CTL_ERR_GENERIC, "a commit of this domain is under way");
    disk = backing_disk(img, ro);
    if (disk == -1)
        return ctl_error(r, CTL_ERR_GENERIC, COMMIT_ENOTSUP);
    if (disk == -2)
        return ctl_error(r, CTL_ERR_GENERIC, COMMIT_EACCES);
    if (commit_into_backing(r, img, &disk, &length) < 0)
        return -1;
    d->held = true;
    waiting.d = d;
    waiting.length = length;
    json_obj_begin(r->out);
    json_key(r->out, CTL_ARG_DISK);
    json_put_u64(r->out, (uint64_t)disk);
    json_key(r->out, CTL_ARG_LENGTH);
    json_put_u64(r->out, length);
    json_obj_end(r->out);
    return 0;
}

/* ---- The removable medium -------------------------------------------------- */

/* The drive named by "device", which must be the domain's CD-ROM drive:
 * QEMU's words for a disk that is not removable (a virtio disk) and for a
 * name it does not know. */
static int arg_drive(struct ctl_req *r, struct domain **d)
{
    char dev[32];
    struct img *img;
    bool ro;
    if (ctl_arg_domain(r, d) < 0 || ctl_arg_str(r, CTL_ARG_DEVICE, dev, sizeof(dev)) < 0)
        return -1;
    if ((*d)->cd && !strcmp(dev, "ide1-cd0"))
        return 0;
    if (arg_disk(r, *d, &img, &ro) == 0)
        return ctl_error(r, CTL_ERR_GENERIC, "Device '%s' is not removable", dev);
    return -1;
}

/* The message of QEMU 7.2's blockdev_open_tray() for a drive the guest
 * locked, when force was not given. */
static int locked(struct ctl_req *r)
{
    return ctl_error(r, CTL_ERR_GENERIC,
                     "Device 'ide1-cd0' is locked and force was not specified, wait for tray to "
                     "open and try again");
}

/* eject: QMP's (qmp_eject): open the tray, take the medium out.  An empty
 * drive ejects without complaint, as QEMU's does. */
static int eject(struct ctl_req *r)
{
    struct domain *d;
    bool force;
    if (arg_drive(r, &d) < 0 || ctl_arg_bool(r, CTL_ARG_FORCE, false, &force) < 0)
        return -1;
    if (cdrom_eject(d, force) < 0)
        return locked(r);
    json_obj_begin(r->out);
    json_obj_end(r->out);
    return 0;
}

/* blockdev-change-medium: QMP's, in hv's form: the new medium's bytes lie
 * on an outer disk ("disk", "offset", "length"), where the manager copied
 * the host file "filename" (mgmt/hvmgr/stage_media.c); "format" may only
 * be raw.  Without "length" the medium is the whole outer disk (a file
 * given with bin/hvrun --outer-disk). */
static int change_medium(struct ctl_req *r)
{
    char name[256], format[16] = "raw", err[160];
    uint64_t disk, offset, length;
    struct domain *d;
    bool force;
    if (arg_drive(r, &d) < 0 || ctl_arg_str(r, CTL_ARG_FILENAME, name, sizeof(name)) < 0 ||
        ctl_arg_bool(r, CTL_ARG_FORCE, false, &force) < 0 ||
        ctl_arg_u64(r, CTL_ARG_DISK, true, 0, &disk) < 0 ||
        ctl_arg_u64(r, CTL_ARG_OFFSET, false, 0, &offset) < 0 ||
        ctl_arg_u64(r, CTL_ARG_LENGTH, false, UINT64_MAX, &length) < 0)
        return -1;
    if (json_get(r->doc, r->args, CTL_ARG_FORMAT) >= 0 &&
        ctl_arg_str(r, CTL_ARG_FORMAT, format, sizeof(format)) < 0)
        return -1;
    if (strcmp(format, "raw") != 0)
        return ctl_error(r, CTL_ERR_GENERIC, "hvkit's CD-ROM drive reads raw images only, not %s",
                         format);
    if (disk >= OUTER_DISKS_MAX)
        return ctl_error(r, CTL_ERR_INVALID_PARAMETER, "'disk' must be an outer disk, 0 to %u",
                         OUTER_DISKS_MAX - 1);
    if (length == UINT64_MAX)
        length = 0;
    if (cdrom_change(d, (unsigned)disk, offset, length, name, force, err, sizeof(err)) < 0)
        return ctl_error(r, CTL_ERR_GENERIC, "%s", err);
    json_obj_begin(r->out);
    json_obj_end(r->out);
    return 0;
}

static const char *const domain_args[] = {CTL_ARG_DOMAIN, NULL};
static const char *const balloon_args[] = {CTL_ARG_DOMAIN, CTL_ARG_VALUE, NULL};
static const char *const commit_args[] = {CTL_ARG_DOMAIN, CTL_ARG_DEVICE, CTL_ARG_WRITTEN, NULL};
static const char *const vcpu_set_args[] = {CTL_ARG_DOMAIN, CTL_ARG_VCPUS, NULL};
static const char *const eject_args[] = {CTL_ARG_DOMAIN, CTL_ARG_DEVICE, CTL_ARG_FORCE, NULL};
static const char *const change_args[] = {
    CTL_ARG_DOMAIN,  CTL_ARG_DEVICE, CTL_ARG_FORCE,  CTL_ARG_FILENAME, CTL_ARG_FORMAT,
    CTL_ARG_RO_MODE, CTL_ARG_DISK,   CTL_ARG_OFFSET, CTL_ARG_LENGTH,   NULL};
static const char *const attach_args[] = {
    CTL_ARG_DOMAIN, CTL_ARG_DEVICE, CTL_ARG_FILENAME,  CTL_ARG_FORMAT,
    CTL_ARG_DISK,   CTL_ARG_OFFSET, CTL_ARG_READ_ONLY, NULL};
static const char *const detach_args[] = {CTL_ARG_DOMAIN, CTL_ARG_DEVICE, NULL};

const struct ctl_cmd ctl_device_commands[] = {
    {CTL_CMD_BALLOON, balloon_args, balloon},
    {CTL_CMD_QUERY_BALLOON, domain_args, query_balloon},
    {CTL_CMD_COMMIT, commit_args, commit},
    {CTL_CMD_EJECT, eject_args, eject},
    {CTL_CMD_CHANGE_MEDIUM, change_args, change_medium},
    {CTL_CMD_BLOCKDEV_ATTACH, attach_args, ctl_blockdev_attach},
    {CTL_CMD_BLOCKDEV_DETACH, detach_args, ctl_blockdev_detach},
    {CTL_CMD_VCPU_SET, vcpu_set_args, vcpu_set},
    {NULL, NULL, NULL},
};
