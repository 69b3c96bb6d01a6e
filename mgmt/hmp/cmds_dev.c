/*
 * Disks, snapshots and the balloon.  hv's disks are virtio-blk disks,
 * which are not removable (no tray), and hv has no balloon device yet; the
 * snapshot commands go to the machine's x-savevm, x-loadvm and x-delvm.
 * Where the machine lacks a feature, the words are QEMU's for a machine
 * without it.
 */
#include "cmds.h"

#include <string.h>
#include <time.h>

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

/* change and eject: a medium can only change in a removable drive, which
 * hv has none of; the messages are QEMU's for a missing device and for a
 * disk that is not removable. */
static void medium(struct hmp *m, const char *device)
{
    struct hmp_block b;
    int found = find_block(m, device, &b);
    if (found == 0)
        fprintf(m->out, "Error: Device '%s' not found\n", device);
    else if (found == 1)
        fprintf(m->out, "Error: Device '%s' is not removable\n", device);
}

HMP_HANDLER(hmp_do_change)
{
    medium(m, hmp_args_str(a, "device"));
}

HMP_HANDLER(hmp_do_eject)
{
    medium(m, hmp_args_str(a, "device"));
}

/* commit: hv writes every disk's changes straight into its image (no
 * -snapshot overlay to fold back; a backing file is only read), so there
 * is nothing to commit, as in QEMU for an image without a backing file.
 * QEMU prints its "not found" without "Error: " here. */
HMP_HANDLER(hmp_do_commit)
{
    const char *device = hmp_args_str(a, "device");
    struct hmp_block b;
    if (!strcmp(device, "all"))
        return;
    if (find_block(m, device, &b) == 0)
        fprintf(m->out, "Device '%s' not found\n", device);
}

/* QEMU's words for a machine without a virtio-balloon device. */
#define NO_BALLOON "No balloon device has been activated"

HMP_HANDLER(hmp_do_balloon)
{
    (void)a;
    fprintf(m->out, "Error: %s\n", NO_BALLOON);
}

HMP_HANDLER(hmp_info_balloon)
{
    (void)a;
    fprintf(m->out, "Error: %s\n", NO_BALLOON);
}
