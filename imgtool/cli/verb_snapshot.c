/*
 * imgtool snapshot: list, create, apply or delete internal snapshots
 * (qemu-img snapshot).
 *
 *   imgtool snapshot [-U] [-q] [-l | -a snapshot | -c snapshot | -d snapshot] filename
 *
 * A qcow2 internal snapshot is a copy of the L1 table plus a reference on
 * every cluster it points to; creating one is cheap, and later writes to a
 * shared cluster copy it first (qcow2 spec, "Snapshots").  The messages and
 * the list format are those of qemu-img.c img_snapshot() and
 * block/qapi.c bdrv_snapshot_dump().
 */
#include "cli.h"
#include "img.h"
#include "info_build.h"

#include <getopt.h>
#include <time.h>

enum { SN_NONE, SN_LIST, SN_APPLY, SN_CREATE, SN_DELETE };

/*
 * A raw image has no snapshot table, and qemu-img says so in a different
 * way for each action, because each goes through a different block-layer
 * call (qemu-img.c img_snapshot()): -c reports bdrv_snapshot_create()'s
 * -ENOTSUP as a number and strerror text, -a reports
 * bdrv_snapshot_goto()'s "Block driver does not support snapshots", -d
 * first looks the name up with bdrv_snapshot_find(), which finds nothing
 * in an empty list, and -l prints nothing at all (handled by the list code,
 * which sees zero snapshots).  Nothing is written in any case.
 */
static int snapshot_raw(int action, const char *name, const char *filename)
{
    switch (action) {
    case SN_CREATE:
        error_report("Could not create snapshot '%s': -95 (Operation not supported)", name);
        break;
    case SN_APPLY:
        /* bdrv_snapshot_goto() (block/snapshot.c) closes the raw node, tries
         * its file child, then reopens the raw node; raw_open() warns again. */
        warn_probed_raw(filename);
        error_report("Could not apply snapshot '%s': Block driver does not support snapshots",
                     name);
        break;
    default:
        error_report("Could not delete snapshot '%s': snapshot not found", name);
        break;
    }
    return 1;
}

/* -l: the table qemu-img prints, nothing at all without snapshots. */
static void snapshot_list(struct img *img)
{
    int n = img_snapshot_count(img);
    if (n <= 0) {
        return;
    }
    printf("Snapshot list:\n");
    snapshot_table(img);
}

/* Run one action on an open qcow2 image: 0, or 1 after the message. */
static int snapshot_action(struct img *img, int action, const char *name)
{
    switch (action) {
    case SN_LIST:
        snapshot_list(img);
        break;
    case SN_CREATE: {
        /* The core has no clock: the date comes from here, with the
         * microsecond precision qemu-img uses (gettimeofday). */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        if (img_snapshot_create(img, name, (uint32_t)ts.tv_sec,
                                (uint32_t)(ts.tv_nsec / 1000 * 1000)) < 0) {
            error_report("Could not create snapshot '%s': %s", name, img_strerror(img));
            return 1;
        }
        break;
    }
    case SN_APPLY:
        if (img_snapshot_apply(img, name) < 0) {
            error_report("Could not apply snapshot '%s': %s", name, img_strerror(img));
            return 1;
        }
        break;
    case SN_DELETE: {
        /* qemu-img looks the name up first (bdrv_snapshot_find) and words
         * a miss its own way, whatever the driver would say. */
        int r = img_snapshot_delete(img, name);
        if (r == -IMG_ENOENT) {
            error_report("Could not delete snapshot '%s': snapshot not found", name);
            return 1;
        }
        if (r < 0) {
            error_report("Could not delete snapshot '%s': %s", name, img_strerror(img));
            return 1;
        }
        break;
    }
    }
    return 0;
}

/* Parse -l, -a, -c, -d (at most one of them); the action in *action and
 * its snapshot name in *name.  -1 on success, else the exit status. */
static int snapshot_options(int argc, char **argv, struct verb_common *vc, int *action,
                            const char **name)
{
    int c;

    optind = 1;
    while ((c = verb_getopt(argc, argv, ":la:c:d:hqU", NULL, VERB_OPENS_SHARE, vc)) != -1) {
        int want = SN_NONE;
        switch (c) {
        case 'l':
            want = SN_LIST;
            break;
        case 'a':
            want = SN_APPLY;
            break;
        case 'c':
            want = SN_CREATE;
            break;
        case 'd':
            want = SN_DELETE;
            break;
        default:
            return verb_other_option(c, argv, 1);
        }
        if (*action != SN_NONE) {
            return error_usage("Cannot mix '-l', '-a', '-c', '-d'");
        }
        *action = want;
        *name = optarg;
    }
    return -1;
}

int verb_snapshot(int argc, char **argv)
{
    struct verb_common vc = {0};
    const char *name = NULL;
    int action = SN_NONE;

    int status = snapshot_options(argc, argv, &vc, &action, &name);
    if (status >= 0) {
        return status;
    }
    const char *filename = verb_one_filename(argc, argv);
    if (!filename) {
        return 1;
    }
    /* Listing reads; every other action writes the snapshot table. */
    unsigned flags = IMG_OPEN_NO_BACKING;
    if (action != SN_LIST && action != SN_NONE) {
        flags |= IMG_OPEN_RW;
    }
    struct img *img = open_image(filename, NULL, flags);
    if (!img) {
        return 1;
    }
    int ret = 0;
    struct img_info info;
    if (img_get_info(img, &info) == 0 && info.format == IMG_FMT_RAW && action != SN_LIST &&
        action != SN_NONE) {
        ret = snapshot_raw(action, name, filename);
        img_close(img);
        return ret;
    }
    ret = snapshot_action(img, action, name);
    /* -q changes nothing: snapshot prints nothing on success either way. */
    if (img_close(img) < 0 && ret == 0) {
        error_report("%s: could not flush the image", filename);
        ret = 1;
    }
    return ret;
}
