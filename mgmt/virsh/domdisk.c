/*
 * Disk commands on a domain's definition: attach-disk, detach-disk,
 * change-media (each with --config, as a shut-off domain needs), and
 * domblkinfo, whose sizes imgtool's library reads from the image.
 * Messages are virsh 9.0's.
 */
#include "domain.h"

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

static bool change_media(const struct cmd_call *call)
{
    struct dom dom;
    const char *source = opt_str(call, "source");
    bool eject = opt_bool(call, "eject"), insert = opt_bool(call, "insert");
    if (!dom_lookup(call, &dom) || !config_only(call))
        return false;
    int i = find_disk(&dom.def, opt_str(call, "path"));
    if (i < 0)
        return false;
    struct disk_def *k = &dom.def.disks[i];
    if (strcmp(k->device, "cdrom")) {
        verror("The disk device '%s' is not removable", k->target);
        return false;
    }
    if (!eject && !source) {
        verror("No disk source specified for change-media");
        return false;
    }
    if (insert && k->source[0]) {
        verror("Failed to complete action insert on media");
        verror("The disk device '%s' already has media", k->target);
        return false;
    }
    /* --eject empties the drive; --insert and --update (the default) put
     * a new image in. */
    snprintf(k->source, sizeof(k->source), "%s", eject ? "" : source);
    if (!store_dom_save(&dom.def))
        return false;
    vinfo(eject    ? "Successfully ejected media."
          : insert ? "Successfully inserted media."
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
      SET_FLAGS}},
    {"change-media",
     change_media,
     "Change media of CD or floppy drive",
     {DOM_ARG,
      {"path", OPT_STRING, true, "Fully-qualified path or target of disk device"},
      {"source", OPT_STRING, false, "source of the media"},
      {"eject", OPT_BOOL, false, "Eject the media"},
      {"insert", OPT_BOOL, false, "Insert the media"},
      {"update", OPT_BOOL, false, "Update the media"},
      {"force", OPT_BOOL, false, "force media changing"},
      SET_FLAGS}},
    {"detach-disk",
     detach,
     "detach disk device",
     {DOM_ARG, {"target", OPT_STRING, true, "target of disk device"}, SET_FLAGS}},
    {"domblkinfo",
     blkinfo,
     "domain block device size information",
     {DOM_ARG,
      {"device", OPT_STRING, true, "block device"},
      {"human", OPT_BOOL, false, "Human readable output"}}},
    {NULL, NULL, NULL, {{0}}},
};
