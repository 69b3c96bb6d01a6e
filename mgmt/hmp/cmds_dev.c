/*
 * Disks, snapshots and the balloon.  hv's virtio-blk disks are not
 * removable (no tray); its CD-ROM drive ide1-cd0 is, and eject and change
 * go to the machine's eject and blockdev-change-medium; commit goes to the machine's
 * x-commit, the balloon commands to balloon and query-balloon, the
 * snapshot commands to x-savevm, x-loadvm and x-delvm.
 * Where the machine lacks a feature, the words are QEMU's for a machine
 * without it.
 */
#include "cmds.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* QEMU's words when no disk can hold a snapshot's vmstate (qcow2 only). */
#define NO_VMSTATE "no block device can store vmstate for snapshot"

/* Run a snapshot command.  A machine without snapshots gets QEMU's words
 * for a machine with no disk that can hold one; an hv whose control
 * channel does not carry the command yet (CommandNotFound) says so, since
 * its disk may well be able to. */
static int snapshot(struct hmp *m, const char *command, const char *tag, struct hmp_err *err)
{
    if (!m->be || !m->be->snapshot) {
        snprintf(err->desc, sizeof(err->desc), "%s", NO_VMSTATE);
        return -1;
    }
    int rc = m->be->snapshot(m->ctx, m->dom, command, tag, err);
    if (rc < 0 && !strcmp(err->cls, "CommandNotFound"))
        snprintf(err->desc, sizeof(err->desc),
                 "this hv's control channel does not carry %s yet (bin/hvrun --savevm, "
                 "--loadvm and --delvm NAME@MS do it meanwhile)",
                 command);
    return rc;
}

/* savevm [tag]: without a tag QEMU 7.2 names the snapshot after the local
 * time, vm-YYYYMMDDHHMMSS. */
HMP_HANDLER(hmp_do_savevm)
{
    const char *tag = hmp_args_str(a, "name");
    char made[32];
    if (!tag) {
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(made, sizeof(made), "vm-%Y%m%d%H%M%S", &tm);
        tag = made;
    }
    struct hmp_err err;
    if (snapshot(m, "x-savevm", tag, &err) < 0)
        hmp_print_err(m, &err);
}

HMP_HANDLER(hmp_do_loadvm)
{
    struct hmp_err err;
    if (snapshot(m, "x-loadvm", hmp_args_str(a, "name"), &err) < 0)
        hmp_print_err(m, &err);
}

/* delvm: QEMU deletes the tag from every disk that has it and is silent
 * when there is none, or no disk at all; only a real failure speaks. */
HMP_HANDLER(hmp_do_delvm)
{
    struct hmp_err err;
    if (snapshot(m, "x-delvm", hmp_args_str(a, "name"), &err) < 0 && strcmp(err.desc, NO_VMSTATE))
        hmp_print_err(m, &err);
}

/* The block device named `device`: 1 found, 0 not, -1 the machine failed. */
static int find_block(struct hmp *m, const char *device, struct hmp_block *out)
{
    struct hmp_block b[HMP_MAX_BLOCKS];
    struct hmp_err err;
    if (!m->be || !m->be->block)
        return 0;
    int n = m->be->block(m->ctx, m->dom, b, HMP_MAX_BLOCKS, &err);
    if (n < 0) {
        hmp_print_err(m, &err);
        return -1;
    }
    for (int i = 0; i < n; i++)
        if (!strcmp(b[i].device, device)) {
            *out = b[i];
            return 1;
        }
    return 0;
}

/* The new medium of a removable drive, as the machine takes it: the host
 * file's absolute path (the manager does not know this monitor's
 * directory), or QEMU's words when it cannot be opened. */
static void change_removable(struct hmp *m, const char *device, const char *file,
                             const char *format, bool force)
{
    struct hmp_err err;
    char *path = realpath(file, NULL);
    if (!path) {
        fprintf(m->out, "Error: Could not open '%s': %s\n", file, strerror(errno));
        return;
    }
    if (m->be->change(m->ctx, m->dom, device, path, format, force, &err) < 0)
        hmp_print_err(m, &err);
    free(path);
}

/* change and eject: a medium can only change in a removable drive (hv's
 * ide1-cd0); the messages are QEMU's for a missing device and for a disk
 * that is not removable.  `file`: change's new medium, which QEMU opens
 * before it looks at the drive (qmp_blockdev_change_medium), so a file it
 * cannot open is what it names first. */
static void medium(struct hmp *m, const struct hmp_args *a, const char *file)
{
    const char *device = hmp_args_str(a, "device");
    bool force = hmp_args_has(a, "force");
    struct hmp_block b;
    struct hmp_err err;
    int found = find_block(m, device, &b);
    if (found == 1 && b.removable && file && m->be->change) {
        change_removable(m, device, file, hmp_args_str(a, "arg"), force);
        return;
    }
    if (found == 1 && b.removable && !file && m->be->eject) {
        if (m->be->eject(m->ctx, m->dom, device, force, &err) < 0)
            hmp_print_err(m, &err);
        return;
    }
    int fd = found == 1 && file ? open(file, O_RDONLY) : -1;
    if (found == 1 && file && fd < 0)
        fprintf(m->out, "Error: Could not open '%s': %s\n", file, strerror(errno));
    else if (found == 0)
        fprintf(m->out, "Error: Device '%s' not found\n", device);
    else if (found == 1)
        fprintf(m->out, "Error: Device '%s' is not removable\n", device);
    if (fd >= 0)
        close(fd);
}

HMP_HANDLER(hmp_do_change)
{
    medium(m, a, hmp_args_str(a, "target"));
}

HMP_HANDLER(hmp_do_eject)
{
    medium(m, a, NULL);
}

/* QEMU's line for a failed commit (hmp_commit: error_report). */
static void commit_failed(struct hmp *m, const char *device, const struct hmp_err *err)
{
    fprintf(m->out, "'commit' error for '%s': %s\n", device, err->desc);
}

/* commit all: QEMU's blk_commit_all() commits the disks that have a
 * backing file and passes over the others; the first failure is printed
 * under the name "all". */
static void commit_all(struct hmp *m)
{
    struct hmp_block b[HMP_MAX_BLOCKS];
    struct hmp_err err;
    int n = m->be->block ? m->be->block(m->ctx, m->dom, b, HMP_MAX_BLOCKS, &err) : 0;
    for (int i = 0; i < n; i++)
        if (m->be->commit(m->ctx, m->dom, b[i].device, &err) < 0 &&
            strcmp(err.desc, "Operation not supported")) {
            commit_failed(m, "all", &err);
            return;
        }
}

/* commit DEVICE|all: the disk's changes into its backing file (hv's
 * x-commit and the manager's write-back, docs/control-protocol.md); a
 * refusal in QEMU's words.  QEMU prints its "not found" without "Error: "
 * here. */
HMP_HANDLER(hmp_do_commit)
{
    const char *device = hmp_args_str(a, "device");
    struct hmp_err err = {{0}, {0}};
    struct hmp_block b;
    if (!m->be || !m->be->commit) {
        /* A machine without the command: "all" has nothing to commit. */
        if (strcmp(device, "all") && find_block(m, device, &b) == 0)
            fprintf(m->out, "Device '%s' not found\n", device);
        return;
    }
    if (!strcmp(device, "all")) {
        commit_all(m);
        return;
    }
    if (m->be->commit(m->ctx, m->dom, device, &err) < 0) {
        if (!strcmp(err.cls, "DeviceNotFound"))
            fprintf(m->out, "Device '%s' not found\n", device);
        else
            commit_failed(m, device, &err);
    }
}

/* QEMU's words for a machine without a virtio-balloon device. */
#define NO_BALLOON "No balloon device has been activated"

/* balloon N: the parser has already turned N MiB (argument type 'M')
 * into bytes, as QMP's balloon takes them; hv refuses 0 as QEMU does. */
HMP_HANDLER(hmp_do_balloon)
{
    struct hmp_err err;
    if (!m->be || !m->be->balloon) {
        fprintf(m->out, "Error: %s\n", NO_BALLOON);
        return;
    }
    if (m->be->balloon(m->ctx, m->dom, (uint64_t)hmp_args_num(a, "value", 0), &err) < 0)
        hmp_print_err(m, &err);
}

/* info balloon: QEMU prints the guest's size in MiB. */
HMP_HANDLER(hmp_info_balloon)
{
    (void)a;
    struct hmp_err err;
    uint64_t actual;
    if (!m->be || !m->be->balloon_info) {
        fprintf(m->out, "Error: %s\n", NO_BALLOON);
        return;
    }
    if (m->be->balloon_info(m->ctx, m->dom, &actual, &err) < 0)
        hmp_print_err(m, &err);
    else
        fprintf(m->out, "balloon: actual=%llu\n", (unsigned long long)(actual >> 20));
}
