/*
 * Disk commands on a domain's definition: attach-disk, detach-disk (each
 * with --config, as a shut-off domain needs), change-media (on the running
 * domain's CD-ROM drive too, through the control protocol's eject and
 * blockdev-change-medium), and domblkinfo, whose sizes imgtool's library
 * reads from the image.  Messages are virsh 9.0's.
 */
#include "domain.h"

#include <limits.h>
#include <stdlib.h>

#include "live.h"

#include "../common/size.h"

#include "img.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

/* The disk a command names by target ("vdb") or by source file, as virsh
 * accepts either; -1 after virsh's message when there is none. */
static int find_disk(const struct domain_def *d, const char *key)
{
    for (int i = 0; i < d->ndisks; i++) {
        if (!strcmp(d->disks[i].target, key) || !strcmp(d->disks[i].source, key))
            return i;
    }
    verror("No disk found whose source path or target is %s", key);
    return -1;
}

/* The disk attach-disk describes, from its options. */
static bool disk_from_options(const struct cmd_call *call, struct disk_def *k)
{
    const char *type = opt_str(call, "type"), *bus = opt_str(call, "targetbus");
    const char *fmt = opt_str(call, "subdriver"), *mode = opt_str(call, "mode");
    memset(k, 0, sizeof(*k));
    strcpy(k->type, "file");
    snprintf(k->device, sizeof(k->device), "%s", type ? type : "disk");
    snprintf(k->source, sizeof(k->source), "%s", opt_str(call, "source"));
    snprintf(k->target, sizeof(k->target), "%s", opt_str(call, "target"));
    /* Without --targetbus, libvirt picks the bus from the name's prefix. */
    snprintf(k->bus, sizeof(k->bus), "%s",
             bus                            ? bus
             : !strncmp(k->target, "vd", 2) ? "virtio"
             : !strncmp(k->target, "hd", 2) ? "ide"
                                            : "sata");
    /* Without --subdriver libvirt records no format and QEMU reads raw:
     * a qcow2 file attached so is seen as raw bytes, a classic mistake. */
    snprintf(k->driver, sizeof(k->driver), "%s", fmt ? fmt : "raw");
    k->readonly = (mode && !strcmp(mode, "readonly")) || !strcmp(k->device, "cdrom");
    if (mode && strcmp(mode, "readonly") && strcmp(mode, "shareable")) {
        verror("No support for %s in command 'attach-disk'", mode);
        return false;
    }
    return true;
}

/* Does the domain have a disk called `target`, in its definition or
 * attached while it runs? */
static bool has_target(const struct vdom *v, const char *target)
{
    static struct disk_def live[DOM_MAX_DISKS];
    int n = live_disks(v, live, DOM_MAX_DISKS);
    for (int i = 0; i < v->dom.def.ndisks; i++)
        if (!strcmp(v->dom.def.disks[i].target, target))
            return true;
    for (int i = 0; i < n; i++)
        if (!strcmp(live[i].target, target))
            return true;
    return false;
}

/* --persistent: the running domain and its definition (libvirt's
 * VIR_DOMAIN_AFFECT_LIVE | CONFIG when it runs); otherwise
 * live_affects(). */
static bool affects(const struct cmd_call *call, const struct vdom *v, bool *live, bool *config)
{
    if (!opt_bool(call, "persistent"))
        return live_affects(call, v, live, config);
    *live = v->active;
    *config = true;
    return true;
}

/* attach-disk: into the running domain (--live, or --current while it
 * runs: a virtio disk plugged in through its machine's manager) and/or
 * its definition (--config, or a domain that does not run). */
static bool attach(const struct cmd_call *call)
{
    struct vdom v;
    struct disk_def k;
    char why[512];
    bool live, config;
    if (!live_lookup(call, &v) || !affects(call, &v, &live, &config) ||
        !disk_from_options(call, &k))
        return false;
    struct domain_def *d = &v.dom.def;
    if (has_target(&v, k.target)) {
        verror("Failed to attach disk");
        verror("operation failed: target %s already exists", k.target);
        return false;
    }
    if (config && d->ndisks == DOM_MAX_DISKS) {
        verror("Failed to attach disk");
        verror("unsupported configuration: at most %d disks", DOM_MAX_DISKS);
        return false;
    }
    /* The same checks as a definition read from XML. */
    d->disks[d->ndisks++] = k;
    if (!domxml_check_disk(&k, why, sizeof(why)) || !domxml_validate(d, why, sizeof(why))) {
        verror("Failed to attach disk");
        verror("%s", why);
        return false;
    }
    if (live && !live_disk_attach(&v, &k))
        return false;
    if (config && !store_dom_save(d))
        return false;
    vinfo("Disk attached successfully");
    return true;
}

/* detach-disk: out of the running domain (a disk attached while it ran:
 * hv cannot unplug the disks it started with) and/or its definition. */
static bool detach(const struct cmd_call *call)
{
    static struct disk_def live_set[DOM_MAX_DISKS];
    struct vdom v;
    bool live, config;
    const char *key = opt_str(call, "target");
    if (!live_lookup(call, &v) || !affects(call, &v, &live, &config))
        return false;
    struct domain_def *d = &v.dom.def;
    int n = live ? live_disks(&v, live_set, DOM_MAX_DISKS) : 0, hot = -1;
    for (int i = 0; i < n && hot < 0; i++)
        if (!strcmp(live_set[i].target, key) || !strcmp(live_set[i].source, key))
            hot = i;
    if (live && hot < 0) {
        int i = find_disk(d, key);
        if (i >= 0) {
            verror("Failed to detach disk");
            verror("operation not supported: hv cannot unplug disk '%s', which the domain was "
                   "started with (detach it with --config and restart the domain)",
                   d->disks[i].target);
        }
        return false;
    }
    int i = config ? find_disk(d, hot >= 0 ? live_set[hot].target : key) : -1;
    if (config && i < 0)
        return false;
    if (live && !live_disk_detach(&v, live_set[hot].target))
        return false;
    if (config) {
        memmove(&d->disks[i], &d->disks[i + 1], sizeof(d->disks[0]) * (size_t)(d->ndisks - i - 1));
        d->ndisks--;
        if (!store_dom_save(d))
            return false;
    }
    vinfo("Disk detached successfully");
    return true;
}

/* The removable disk (a CD-ROM) a command names by target or source, as
 * virsh's change-media looks only among those; -1 after its message. */
static int find_cd(const struct domain_def *d, const char *key)
{
    for (int i = 0; i < d->ndisks; i++) {
        const struct disk_def *k = &d->disks[i];
        if (!strcmp(k->device, "cdrom") && (!strcmp(k->target, key) || !strcmp(k->source, key)))
            return i;
    }
    verror("No disk found whose source path or target is %s", key);
    return -1;
}

/* --eject, --insert, --update: at most one (virsh's message for the first
 * pair given); *action its name, "update" by default. */
static bool media_action(const struct cmd_call *call, const char **action)
{
    static const char *const names[] = {"eject", "insert", "update"};
    const char *first = NULL;
    *action = "update";
    for (int i = 0; i < 3; i++) {
        if (!opt_bool(call, names[i]))
            continue;
        if (first) {
            verror("Options --%s and --%s are mutually exclusive", first, names[i]);
            return false;
        }
        first = *action = names[i];
    }
    return true;
}

/* The running domain's drive: its medium out, or `source` in (by its
 * absolute path: the manager does not know this directory). */
static bool media_live(const struct vdom *v, const char *action, const char *source, bool force)
{
    static struct ctlc c;
    char args[PATH_MAX + 160], failed[64];
    int ret;
    snprintf(failed, sizeof(failed), "Failed to complete action %s on media", action);
    if (!source) {
        snprintf(args, sizeof(args), "\"device\": \"ide1-cd0\", \"force\": %s",
                 force ? "true" : "false");
        if (live_call(v, &c, CTL_CMD_EJECT, args, 30000, &ret, failed) < 0)
            return false;
        ctlc_close(&c);
        return true;
    }
    char *abs = realpath(source, NULL);
    if (!abs) {
        verror("%s", failed);
        verror("Cannot access storage file '%s': %s", source, strerror(errno));
        return false;
    }
    /* An object for JSON's escapes; live_call() wants its members. */
    struct json_out o;
    json_out_init(&o, args, sizeof(args));
    json_obj_begin(&o);
    json_key(&o, CTL_ARG_DEVICE);
    json_put_str(&o, "ide1-cd0");
    json_key(&o, CTL_ARG_FILENAME);
    json_put_str(&o, abs);
    json_key(&o, CTL_ARG_FORCE);
    json_put_bool(&o, force);
    json_obj_end(&o);
    free(abs);
    if (!json_out_ok(&o))
        return false;
    args[o.len - 1] = '\0';
    if (live_call(v, &c, CTL_CMD_CHANGE_MEDIUM, args + 1, 60000, &ret, failed) < 0)
        return false;
    ctlc_close(&c);
    return true;
}

/* change-media: --eject empties the drive; --insert (into an empty one)
 * and --update (the default) put a new image in: in the running domain's
 * drive (ide1-cd0) and, with --config or for a domain that is not
 * running, in its definition. */
static bool change_media(const struct cmd_call *call)
{
    struct vdom v;
    const char *source = opt_str(call, "source"), *action;
    bool live, config;
    if (!media_action(call, &action) || !live_lookup(call, &v) ||
        !live_affects(call, &v, &live, &config))
        return false;
    int i = find_cd(&v.dom.def, opt_str(call, "path"));
    if (i < 0)
        return false;
    struct disk_def *k = &v.dom.def.disks[i];
    bool eject = !strcmp(action, "eject");
    if (!eject && !source) {
        verror("New disk media source was not specified");
        return false;
    }
    if (!strcmp(action, "insert") && k->source[0]) {
        verror("The disk device '%s' already has media", k->target);
        return false;
    }
    if (live && !media_live(&v, action, eject ? NULL : source, opt_bool(call, "force")))
        return false;
    snprintf(k->source, sizeof(k->source), "%s", eject ? "" : source);
    if (config && !store_dom_save(&v.dom.def))
        return false;
    vinfo(eject                       ? "Successfully ejected media."
          : !strcmp(action, "insert") ? "Successfully inserted media."
                                      : "Successfully updated media.");
    return true;
}

/* One domblkinfo line: bytes, or with --human pretty units. */
static void blk_line(const char *label, uint64_t bytes, bool human)
{
    char buf[48];
    if (human)
        size_pretty(bytes, buf, sizeof(buf));
    else
        snprintf(buf, sizeof(buf), "%llu", (unsigned long long)bytes);
    printf("%-15s %s\n", label, buf);
}

static bool blkinfo(const struct cmd_call *call)
{
    static struct disk_def live[DOM_MAX_DISKS];
    struct vdom v;
    struct img *img;
    struct img_err err;
    struct stat st;
    const char *key = opt_str(call, "device");
    if (!live_lookup(call, &v))
        return false;
    /* The device is optional in virsh's table (its --all, which hvkit
     * lacks, stands for it), so virsh asks for it only here, after the
     * domain was found. */
    if (!key) {
        verror("command 'domblkinfo' requires <device> option");
        return false;
    }
    /* The definition's disks, then those attached while it runs. */
    const struct disk_def *k = NULL;
    int n = live_disks(&v, live, DOM_MAX_DISKS);
    for (int i = 0; i < n && !k; i++)
        if (!strcmp(live[i].target, key) || !strcmp(live[i].source, key))
            k = &live[i];
    int i = k ? 0 : find_disk(&v.dom.def, key);
    if (i < 0)
        return false;
    if (!k)
        k = &v.dom.def.disks[i];
    /* The image's virtual size, the bytes it occupies and the file's
     * length: libvirt's capacity, allocation and physical size. */
    if (stat(k->source, &st)) {
        verror("cannot stat file '%s': %s", k->source, strerror(errno));
        return false;
    }
    if (img_open_file(k->source, k->driver, IMG_OPEN_NO_BACKING, &img, &err) < 0) {
        verror("internal error: %s", err.msg);
        return false;
    }
    uint64_t capacity = img_size(img);
    img_close(img);
    bool human = opt_bool(call, "human");
    blk_line("Capacity:", capacity, human);
    blk_line("Allocation:", (uint64_t)st.st_blocks * 512, human);
    blk_line("Physical:", (uint64_t)st.st_size, human);
    return true;
}

#define DOM_ARG                                                                                    \
    {                                                                                              \
        "domain", OPT_STRING, true, "domain name, id or uuid"                                      \
    }
#define SET_FLAGS                                                                                  \
    {"persistent", OPT_BOOL, false, "make live change persistent"},                                \
        {"config", OPT_BOOL, false, "affect next boot"},                                           \
        {"live", OPT_BOOL, false, "affect running domain"},                                        \
    {                                                                                              \
        "current", OPT_BOOL, false, "affect current domain"                                        \
    }

const struct cmd_def disk_cmds[] = {
    {"attach-disk",
     attach,
     "attach disk device",
     {DOM_ARG,
      {"source", OPT_STRING, true, "source of disk device or name of network disk"},
      {"target", OPT_STRING, true, "target of disk device"},
      {"targetbus", OPT_STRING, false, "target bus of disk device"},
      {"driver", OPT_STRING, false, "driver of disk device"},
      {"subdriver", OPT_STRING, false, "subdriver of disk device"},
      {"type", OPT_STRING, false, "target device type"},
      {"mode", OPT_STRING, false, "mode of device reading and writing"},
      SET_FLAGS},
     "Attach new disk device."},
    {"change-media",
     change_media,
     "Change media of CD or floppy drive",
     {DOM_ARG,
      {"path", OPT_STRING, true, "Fully-qualified path or target of disk device"},
      {"source", OPT_STRING, false, "source of the media"},
      {"eject", OPT_BOOL, false, "Eject the media"},
      {"insert", OPT_BOOL, false, "Insert the media"},
      {"update", OPT_BOOL, false, "Update the media"},
      {"current", OPT_BOOL, false,
       "can be either or both of --live and --config, depends on implementation hypervisor "
       "driver"},
      {"live", OPT_BOOL, false, "alter live configuration of running domain"},
      {"config", OPT_BOOL, false, "alter persistent configuration, effect observed on next boot"},
      {"force", OPT_BOOL, false, "force media changing"}},
     "Change media of CD or floppy drive."},
    {"detach-disk",
     detach,
     "detach disk device",
     {DOM_ARG, {"target", OPT_STRING, true, "target of disk device"}, SET_FLAGS},
     "Detach disk device."},
    {"domblkinfo",
     blkinfo,
     "domain block device size information",
     {DOM_ARG,
      {"device", OPT_STRING, false, "block device"},
      {"human", OPT_BOOL, false, "Human readable output"}},
     "Get block device size info for a domain."},
    {NULL, NULL, NULL, {{0}}, NULL},
};
