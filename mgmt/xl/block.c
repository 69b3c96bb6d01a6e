/*
 * block.c: xl(1)'s disk commands (Xen 4.17 xl_block.c, xl_cdrom.c):
 *
 *   xl block-list DOMAIN...
 *   xl block-attach DOMAIN DISKSPEC...     xl block-detach DOMAIN DEVID
 *   xl cd-insert DOMAIN VDEV FILE          xl cd-eject DOMAIN VDEV
 *
 * A domain's disks are the virtio disks of its machine (query-block), in
 * the order of the cfg's disk= list, whose vdev names they keep.
 * block-list shows them in xl's layout: the device id Xen computes from
 * the vdev name, backend domain 0, state 4 (connected), and -1 for the
 * event channel and ring reference a Xen PV disk has and a virtio disk
 * does not; then the disks block-attach added, by their vdev names.
 * block-attach puts a disk into the running domain through the control
 * protocol's x-blockdev-attach (the image goes into a disk slot of the
 * staging disk, and back into its file when block-detach takes it out or
 * the domain ends: docs/control-protocol.md "Disks attached at run
 * time"); block-detach takes such a disk out, and answers as Xen 4.17
 * answers for a virtio disk of the cfg, which it cannot unplug.
 * cd-insert and cd-eject change the medium of the domain's CD-ROM drive
 * (the cfg's devtype=cdrom disk, hv's ide1-cd0) through the control
 * protocol's blockdev-change-medium and eject, as libxl has QEMU do it,
 * and then record it in the configuration xl keeps (kept.c), as libxl
 * does in the domain's stored one: `xl list -l` shows it, and `xl save`
 * writes it into the save file, whose state holds the new medium.
 */
#include "xl.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>

#include "cfg.h"
#include "disk.h"
#include "domcfg.h"
#include "fmt.h"

/* The vdev names of the domain's disks, from the configuration xl kept
 * (xvda, xvdb, ... for a domain without one). */
static int vdevs(const struct rundom *r, char names[][32], int max)
{
    static struct xldom d;
    int n = 0;
    if (xl_kept_config(r, &d))
        for (; n < d.ndisks && n < max; n++)
            snprintf(names[n], 32, "%s", d.disk[n].vdev);
    for (int i = n; i < max; i++)
        snprintf(names[i], 32, "xvd%c", 'a' + i);
    return n;
}

/* One line of block-list: the disk called `vdev` of domain `domid`. */
static void list_line(int domid, const char *vdev)
{
    char be[96];
    int dev = xl_vdev_number(vdev);
    snprintf(be, sizeof(be), "/local/domain/0/backend/vbd/%d/%d", domid, dev);
    printf("%-5d %-3d %-6d %-5d %-6d %-8d %-30s\n", dev, 0, domid, 4, -1, -1, be);
}

int cmd_block_list(int argc, char **argv)
{
    while (xl_getopt(argc, argv, "h", NULL, "block-list", 1) != -1)
        ;
    if (!xl_state_open())
        return 1;
    printf("%-5s %-3s %-6s %-5s %-6s %-8s %-30s\n", "Vdev", "BE", "handle", "state", "evt-ch",
           "ring-ref", "BE-path");
    for (int i = optind; i < argc; i++) {
        struct rundom r;
        if (!rundom_find(argv[i], &r)) {
            fprintf(stderr, "%s is an invalid domain identifier\n", argv[i]);
            continue;
        }
        char names[8][32];
        vdevs(&r, names, 8);
        int n = xl_disk_count(&r);
        if (n < 0)
            continue;
        for (int k = 0; k < n && k < 8; k++)
            list_line(r.domid, names[k]);
        int hot = xl_hot_disks(&r, names, 8);
        for (int k = 0; k < hot && k < 8; k++)
            list_line(r.domid, names[k]);
    }
    return 0;
}

/* x-blockdev-attach of disk d (its target by absolute path); 0, or 1
 * after libxl's kind of message and "libxl_device_disk_add failed.". */
static int attach_disk(const struct rundom *r, const struct xldisk *d, const char *path)
{
    char args[PATH_MAX + 256], why[4300];
    if (!ctlc_image_args(args, sizeof(args), d->vdev, path, d->format, d->readonly))
        return 1;
    if (xl_call(r, CTL_CMD_BLOCKDEV_ATTACH, args, why, sizeof(why)) == 0)
        return 0;
    /* libxl's words for a vdev the domain has (libxl__device_exists). */
    if (strstr(why, "Duplicate device ID"))
        fprintf(stderr, "libxl: error: domain %d: device already exists in xenstore\n", r->domid);
    else
        fprintf(stderr, "libxl: error: domain %d: %s\n", r->domid, why);
    fprintf(stderr, "libxl_device_disk_add failed.\n");
    return 1;
}

static int block_attach(int argc, char **argv)
{
    while (xl_getopt(argc, argv, "h", NULL, "block-attach", 2) != -1)
        ;
    struct rundom r;
    if (!xl_state_open())
        return 1;
    if (!rundom_find(argv[optind], &r)) {
        fprintf(stderr, "%s is an invalid domain identifier\n", argv[optind]);
        return 1;
    }
    /* The spec's pieces are one disk specification, joined by commas. */
    char spec[XLDISK_TEXT_MAX] = "";
    for (int i = optind + 1; i < argc; i++) {
        size_t len = strlen(spec);
        snprintf(spec + len, sizeof(spec) - len, "%s%s", len ? "," : "", argv[i]);
    }
    struct xldisk d;
    if (xldisk_parse(&d, spec, "command line", stderr) < 0)
        return 1;
    /* The cfg's disks are there from the start: their vdevs are taken. */
    char names[8][32];
    int n = vdevs(&r, names, 8), boot = xl_disk_count(&r);
    if (boot < 0) {
        fprintf(stderr, "libxl_device_disk_add failed.\n");
        return 1;
    }
    for (int k = 0; k < n && k < boot; k++)
        if (!strcmp(names[k], d.vdev)) {
            fprintf(stderr, "libxl: error: domain %d: device already exists in xenstore\n",
                    r.domid);
            fprintf(stderr, "libxl_device_disk_add failed.\n");
            return 1;
        }
    if (d.cdrom || !d.target[0]) {
        fprintf(stderr,
                "libxl: error: domain %d: hv attaches disks to a running domain, not CD-ROM "
                "drives (cd-insert changes the medium of the cfg's drive)\n",
                r.domid);
        fprintf(stderr, "libxl_device_disk_add failed.\n");
        return 1;
    }
    /* libxl stats the target first (libxl__device_disk_set_backend). */
    char *abs = realpath(d.target, NULL);
    if (!abs) {
        fprintf(stderr, "libxl: error: domain %d: Disk vdev=%s failed to stat: %s: %s\n", r.domid,
                d.vdev, d.target, strerror(errno));
        fprintf(stderr, "libxl_device_disk_add failed.\n");
        return 1;
    }
    int rc = attach_disk(&r, &d, abs);
    free(abs);
    return rc;
}

static int block_detach(int argc, char **argv)
{
    static const struct option opts[] = {
        {"force", no_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    while (xl_getopt(argc, argv, "fh", opts, "block-detach", 2) != -1)
        ;
    struct rundom r;
    if (!xl_state_open() || !xl_find(argv[optind], &r))
        return 1;
    const char *dev = argv[optind + 1];
    char names[8][32], num[16];
    vdevs(&r, names, 8);
    int n = xl_disk_count(&r);
    if (n < 0)
        return 1;
    for (int k = 0; k < n && k < 8; k++) {
        snprintf(num, sizeof(num), "%d", xl_vdev_number(names[k]));
        if (!strcmp(dev, names[k]) || !strcmp(dev, num)) {
            /* hv's disks are virtio disks, which Xen 4.17 cannot unplug
             * either. */
            fprintf(stderr, "Hotunplug isn't supported for specification virtio\n");
            return 1;
        }
    }
    /* A disk block-attach added: by its vdev or its device id. */
    int hot = xl_hot_disks(&r, names, 8);
    for (int k = 0; k < hot && k < 8; k++) {
        char args[320], why[4300];
        snprintf(num, sizeof(num), "%d", xl_vdev_number(names[k]));
        if (strcmp(dev, names[k]) && strcmp(dev, num))
            continue;
        snprintf(args, sizeof(args), "{\"domain\": 0, \"device\": \"%s\"}", names[k]);
        if (xl_call(&r, CTL_CMD_BLOCKDEV_DETACH, args, why, sizeof(why)) == 0)
            return 0;
        fprintf(stderr, "libxl: error: domain %d: %s\n", r.domid, why);
        return 1;
    }
    fprintf(stderr, "Error: Device %s not connected.\n", dev);
    return 1;
}

/* Is `vdev` the domain's CD-ROM drive (a devtype=cdrom disk of the cfg
 * xl kept)? */
static bool is_cd(const struct rundom *r, const char *vdev)
{
    static struct xldom d;
    bool yes = false;
    if (xl_kept_config(r, &d))
        for (int k = 0; k < d.ndisks; k++)
            yes |= d.disk[k].cdrom && !strcmp(d.disk[k].vdev, vdev);
    return yes;
}

/* The medium out (file NULL) or in: eject or blockdev-change-medium on
 * ide1-cd0, the file by its absolute path (the manager does not know this
 * directory).  0, or 1 after libxl's kind of message. */
static int cd_medium(const struct rundom *r, const char *file)
{
    char args[PATH_MAX + 128], why[512];
    const char *cmd = file ? CTL_CMD_CHANGE_MEDIUM : CTL_CMD_EJECT;
    if (file) {
        if (!ctlc_image_args(args, sizeof(args), "ide1-cd0", file, "raw", -1))
            return 1;
    } else {
        snprintf(args, sizeof(args), "{\"domain\": 0, \"device\": \"ide1-cd0\"}");
    }
    if (xl_call(r, cmd, args, why, sizeof(why)) == 0)
        return 0;
    fprintf(stderr, "libxl: error: domain %d: %s\n", r->domid, why);
    return 1;
}

static int cd_change(int argc, char **argv, bool insert)
{
    const char *cmd = insert ? "cd-insert" : "cd-eject";
    while (xl_getopt(argc, argv, "h", NULL, cmd, insert ? 3 : 2) != -1)
        ;
    struct rundom r;
    if (!xl_state_open() || !xl_find(argv[optind], &r))
        return 1;
    char spec[XLDISK_TEXT_MAX + 64];
    const char *file = insert ? argv[optind + 2] : "";
    snprintf(spec, sizeof(spec), "vdev=%s,access=r,devtype=cdrom,target=%s", argv[optind + 1],
             file);
    struct xldisk d;
    if (xldisk_parse(&d, spec, "command line", stderr) < 0)
        return 1;
    struct stat st;
    if (insert && *file && stat(file, &st)) {
        fprintf(stderr, "Cannot stat file: %s\n", file);
        return 1;
    }
    if (!is_cd(&r, d.vdev)) {
        fprintf(stderr,
                "libxl: error: domain %d: %s is not a CD-ROM drive of this domain (its cfg has "
                "no devtype=cdrom disk of that vdev)\n",
                r.domid, d.vdev);
        return 1;
    }
    /* The file by its absolute path, as the manager wants it and as the
     * kept configuration records it (a save may be restored from another
     * directory); an empty one is an eject, as in xl. */
    char *abs = *file ? realpath(file, NULL) : NULL;
    if (*file && !abs) {
        fprintf(stderr, "Cannot stat file: %s\n", file);
        return 1;
    }
    int rc = cd_medium(&r, abs);
    /* libxl records the new medium in the domain's stored configuration,
     * which xl save writes into its file. */
    if (rc == 0 && !xl_keep_cd_medium(&r, d.vdev, abs ? abs : "")) {
        fprintf(stderr,
                "libxl: error: domain %d: the medium of %s changed, but the configuration xl "
                "keeps for the domain could not record it\n",
                r.domid, d.vdev);
        rc = 1;
    }
    free(abs);
    return rc;
}

int cmd_block_change(int argc, char **argv)
{
    if (!strcmp(argv[0], "block-attach"))
        return block_attach(argc, argv);
    if (!strcmp(argv[0], "block-detach"))
        return block_detach(argc, argv);
    return cd_change(argc, argv, !strcmp(argv[0], "cd-insert"));
}
