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

static bool attach(const struct cmd_call *call)
{
    struct dom dom;
    struct disk_def k;
    char why[512];
    if (!dom_lookup(call, &dom) || !config_only(call) || !disk_from_options(call, &k))
        return false;
    struct domain_def *d = &dom.def;
    for (int i = 0; i < d->ndisks; i++) {
        if (!strcmp(d->disks[i].target, k.target)) {
            verror("Failed to attach disk");
            verror("operation failed: target %s already exists", k.target);
            return false;
        }
    }
    if (d->ndisks == DOM_MAX_DISKS) {
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
    if (!store_dom_save(d))
        return false;
    vinfo("Disk attached successfully");
    return true;
}

static bool detach(const struct cmd_call *call)
{
    struct dom dom;
    if (!dom_lookup(call, &dom) || !config_only(call))
        return false;
    int i = find_disk(&dom.def, opt_str(call, "target"));
    if (i < 0)
        return false;
    struct domain_def *d = &dom.def;
    memmove(&d->disks[i], &d->disks[i + 1], sizeof(d->disks[0]) * (size_t)(d->ndisks - i - 1));
    d->ndisks--;
    if (!store_dom_save(d))
        return false;
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
    struct dom dom;
    struct img *img;
    struct img_err err;
    struct stat st;
    if (!dom_lookup(call, &dom))
        return false;
    /* The device is optional in virsh's table (its --all, which hvkit
     * lacks, stands for it), so virsh asks for it only here, after the
     * domain was found. */
    if (!opt_str(call, "device")) {
        verror("command 'domblkinfo' requires <device> option");
        return false;
    }
    int i = find_disk(&dom.def, opt_str(call, "device"));
    if (i < 0)
        return false;
    const struct disk_def *k = &dom.def.disks[i];
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
